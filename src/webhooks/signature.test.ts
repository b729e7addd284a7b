/**
 * The Standard Webhooks scheme as the receiver implements it, checked against the scheme's
 * reference library (`standardwebhooks`): what it signs verifies here, what is signed here
 * verifies there, and each kind of tampering or staleness is refused.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import {
  newSigningSecret,
  readHeaders,
  SECRET_PREFIX,
  sign,
  signatureMatches,
  TOLERANCE_SECONDS,
  timestampProblem,
} from './signature.ts';

const NOW = 1_760_000_000;
const body = Buffer.from('{"event":"deploy.finished","ok":true}');

/** Headers as the reference library makes them for (id, timestamp, body). */
function signed(secret: string, id: string, timestamp: number, payload: Uint8Array = body) {
  const signature = new Webhook(secret).sign(id, new Date(timestamp * 1000), payload);
  const h: Record<string, string> = {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signature,
  };
  return (name: string) => h[name];
}

const verifies = (secret: string, header: (n: string) => string | undefined, payload: Uint8Array = body) => {
  const h = readHeaders(header);
  return h !== null && signatureMatches(secret, h, payload);
};

describe('Standard Webhooks signatures', () => {
  test('a new secret is whsec_ and the base64 of 32 random bytes, and the reference library takes it', () => {
    const secret = newSigningSecret();
    assert.ok(secret.startsWith(SECRET_PREFIX));
    assert.equal(Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64').length, 32);
    assert.notEqual(newSigningSecret(), secret);
    assert.doesNotThrow(() => new Webhook(secret));
  });

  test('what the reference library signs verifies; what is signed here verifies in the library', () => {
    const secret = newSigningSecret();
    assert.ok(verifies(secret, signed(secret, 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', NOW)));
    const ours = sign(secret, 'msg_1', NOW, body);
    assert.equal(ours, new Webhook(secret).sign('msg_1', new Date(NOW * 1000), body));
    const now = Math.floor(Date.now() / 1000);
    const fresh = sign(secret, 'msg_2', now, body);
    assert.deepEqual(
      new Webhook(secret).verify(body.toString(), {
        'webhook-id': 'msg_2',
        'webhook-timestamp': String(now),
        'webhook-signature': fresh,
      }),
      { event: 'deploy.finished', ok: true },
    );
  });

  test('the signature covers the exact bytes: a changed body, id or timestamp, or another secret, is refused', () => {
    const secret = newSigningSecret();
    const good = signed(secret, 'msg_1', NOW);
    assert.ok(!verifies(secret, good, Buffer.from('{"event":"deploy.finished","ok":false}')));
    assert.ok(!verifies(secret, good, Buffer.from(`${body.toString()} `)));
    const other = (name: string, value: string) => (n: string) => (n === name ? value : good(n));
    assert.ok(!verifies(secret, other('webhook-id', 'msg_2')));
    assert.ok(!verifies(secret, other('webhook-timestamp', String(NOW + 1))));
    assert.ok(!verifies(newSigningSecret(), good));
    // Binary bodies are signed as bytes, not as text.
    const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x80]);
    assert.ok(verifies(secret, signed(secret, 'msg_3', NOW, bytes), bytes));
  });

  test('one good signature among several passes (a sender mid-rotation); only v1 signatures count', () => {
    const secret = newSigningSecret();
    const good = signed(secret, 'msg_1', NOW)('webhook-signature')!;
    const wrong = sign(newSigningSecret(), 'msg_1', NOW, body);
    const h = (sig: string) => (n: string) =>
      n === 'webhook-signature' ? sig : signed(secret, 'msg_1', NOW)(n);
    assert.ok(verifies(secret, h(`${wrong} ${good}`)));
    assert.ok(verifies(secret, h(`v1a,${good.slice(3)} ${good}`)));
    assert.ok(!verifies(secret, h(`v1a,${good.slice(3)}`)), 'an asymmetric slot is not read as v1');
    assert.ok(!verifies(secret, h(`v2,${good.slice(3)}`)));
    assert.ok(!verifies(secret, h(wrong)));
    assert.ok(!verifies(secret, h('v1,')));
    assert.ok(!verifies(secret, h(`v1,${good.slice(3, -4)}`)), 'a truncated signature');
  });

  test('headers: all three needed; ids of visible ASCII without dots; timestamps as plain Unix seconds', () => {
    const base: Record<string, string> = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(NOW),
      'webhook-signature': 'v1,AAAA',
    };
    const read = (patch: Record<string, string | undefined>) =>
      readHeaders((n) => ({ ...base, ...patch })[n]);
    assert.deepEqual(read({}), { id: 'msg_1', timestamp: NOW, signatures: ['AAAA'] });
    for (const missing of Object.keys(base)) assert.equal(read({ [missing]: undefined }), null, missing);
    // A dot in the id would let one signature stand for another (id, timestamp) split.
    for (const id of ['msg.1', 'msg 1', '', 'x'.repeat(257), 'msg\u00e91'])
      assert.equal(read({ 'webhook-id': id }), null, JSON.stringify(id));
    for (const ts of ['-1', '1.5', '0123', '1e9', 'now', '9'.repeat(13)])
      assert.equal(read({ 'webhook-timestamp': ts }), null, ts);
    assert.equal(read({ 'webhook-id': 'evt-2024:01_ABC/x+=' })?.id, 'evt-2024:01_ABC/x+=');
  });

  test('the timestamp must be within five minutes of now, in either direction', () => {
    assert.equal(timestampProblem(NOW, NOW), null);
    assert.equal(timestampProblem(NOW - TOLERANCE_SECONDS, NOW), null);
    assert.equal(timestampProblem(NOW + TOLERANCE_SECONDS, NOW), null);
    assert.equal(timestampProblem(NOW - TOLERANCE_SECONDS - 1, NOW), 'timestamp_too_old');
    assert.equal(timestampProblem(NOW + TOLERANCE_SECONDS + 1, NOW), 'timestamp_too_new');
    assert.equal(timestampProblem(0, NOW), 'timestamp_too_old');
  });
});
