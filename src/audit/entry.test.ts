/** An entry's hashing: the header's canonical JSON and the details' digest, as the format says. */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import canonicalize from 'canonicalize';
import { canonicalHeader, detailsDigest, type EntryHeader, prepareEntry } from './entry.ts';

test('the header is written as canonicalize writes it, whatever its text holds', () => {
  const odd = ['', 'é', '"quoted"\\', '\u2028\u0000\ud83d\ude00', 'a\nb'];
  for (const [i, t] of odd.entries()) {
    const e = prepareEntry({
      orgId: i % 2 ? null : `org_${t}`,
      actor: { type: 'agent', id: `agt_${t}` },
      action: 'tool.call.allowed',
      target: i % 3 ? { type: 'tool', id: `con/${t}` } : undefined,
      requestId: i % 2 ? `req_${t}` : undefined,
      runId: i % 2 ? undefined : `run_${t}`,
      details: { t },
    });
    assert.equal(e.leaf, canonicalize(e.header));
    assert.deepEqual(JSON.parse(e.leaf), e.header);
  }
  // A header that breaks the types still comes out canonical (the generic way).
  const broken = {
    ...prepareEntry({ orgId: null, actor: { type: 'system', id: 's' }, action: 'a.b' }).header,
  };
  (broken as { org: unknown }).org = undefined;
  assert.equal(canonicalHeader(broken as EntryHeader), canonicalize(broken));
});

test('the details digest is HMAC-SHA256 keyed with the salt; every salt is new', () => {
  for (const details of ['{}', '{"a":"é\ud83d\ude00"}', 'x'.repeat(10_000)]) {
    const salt = randomBytes(32).toString('base64');
    const hmac = createHmac('sha256', Buffer.from(salt, 'base64')).update(details).digest('base64');
    assert.equal(detailsDigest(salt, details), `hmac-sha256:${hmac}`);
  }
  const long = randomBytes(100).toString('base64');
  assert.equal(
    detailsDigest(long, 'x'),
    `hmac-sha256:${createHmac('sha256', Buffer.from(long, 'base64')).update('x').digest('base64')}`,
    'a key longer than a block is hashed first',
  );
  const salts = new Set(
    Array.from(
      { length: 1000 },
      () => prepareEntry({ orgId: null, actor: { type: 'system', id: 's' }, action: 'a.b' }).salt,
    ),
  );
  assert.equal(salts.size, 1000);
  for (const s of salts) assert.equal(Buffer.from(s, 'base64').length, 32);
});
