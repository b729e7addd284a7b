/** What an agent is given for a delivery: facts first, then the body, bounded and labelled. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BODY_CHARS, deliveryMessage } from './message.ts';

const facts = (contentType: string | undefined, body: Uint8Array) => ({
  endpoint: { id: 'whk_1', name: 'deploys' },
  deliveryId: 'msg_1',
  timestamp: 1_760_000_000,
  contentType,
  body,
});

describe('the message a delivery becomes', () => {
  test('JSON is pretty-printed under the delivery’s facts', () => {
    const m = deliveryMessage(facts('application/json; charset=utf-8', Buffer.from('{"a":{"b":[1,2]}}')));
    assert.match(m, /^A webhook delivery arrived at endpoint "deploys" \(whk_1\)\.\n/);
    assert.match(m, /\nDelivery id: msg_1\n/);
    assert.match(m, /\nSent at: 2025-10-09T08:53:20\.000Z\n/);
    assert.match(m, /JSON, pretty-printed/);
    assert.ok(m.endsWith('\n\n{\n  "a": {\n    "b": [\n      1,\n      2\n    ]\n  }\n}'), m);
  });

  test('other text as sent; JSON that does not parse as sent; binary and empty bodies not shown', () => {
    assert.ok(deliveryMessage(facts('text/plain', Buffer.from('a=1&b=2'))).endsWith('\n\na=1&b=2'));
    assert.match(
      deliveryMessage(facts('application/json', Buffer.from('{oops'))),
      /not valid JSON, as sent\)[\s\S]*\{oops$/,
    );
    const bin = deliveryMessage(facts('application/octet-stream', Buffer.from([0xff, 0xfe, 0x00])));
    assert.match(bin, /Body \(3 bytes; binary, not shown\)/);
    assert.ok(!bin.includes('\ufffd'));
    assert.match(
      deliveryMessage(facts(undefined, new Uint8Array())),
      /Content-Type: \(none\)\nBody \(0 bytes; empty\)/,
    );
  });

  test(`a body past ${BODY_CHARS} characters is cut, and the message says so`, () => {
    const m = deliveryMessage(facts('text/plain', Buffer.from('x'.repeat(BODY_CHARS + 500))));
    assert.ok(m.includes(`[truncated: the first ${BODY_CHARS} of ${BODY_CHARS + 500} characters are shown]`));
    assert.ok(m.length < 32_000, 'within what a run accepts');
  });

  test('a content type cannot add lines of its own', () => {
    const m = deliveryMessage(facts('text/plain\r\nDelivery id: forged', Buffer.from('hi')));
    assert.equal(m.match(/^Delivery id:/gm)?.length, 1);
  });
});
