import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REDACTED, redact, redactString, registerSecret } from './index.ts';

test('secret-named keys are replaced whatever their value', () => {
  const out = redact({ password: 'hunter2', nested: { clientSecret: 'abc', apiKey: 'k' }, name: 'ok' });
  assert.deepEqual(out, {
    password: REDACTED,
    nested: { clientSecret: REDACTED, apiKey: REDACTED },
    name: 'ok',
  });
});

test('secret-shaped values are replaced inside free text', () => {
  const token = `pdk_${'A'.repeat(43)}`;
  const out = redact({ note: `use ${token} or Bearer abcdefghijkl` });
  assert.equal(out.note, `use ${REDACTED} or ${REDACTED}`);
  const webhook = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw+/0X/2Yc3WM=';
  assert.equal(redact(`signed with ${webhook}.`), `signed with ${REDACTED}.`);
  const google = 'AIzaSyDq7YxW3vU9tS1rP5oN2mL8kJ4hG6fE0dC';
  assert.equal(redact(`API key not valid: ${google}.`), `API key not valid: ${REDACTED}.`);
  assert.equal(redact('AIzaShort and Aizawa stay'), 'AIzaShort and Aizawa stay');
});

test('registered secrets are replaced wherever they appear, errors included', () => {
  registerSecret('canary-registered-value-123');
  const err = new Error('failed with canary-registered-value-123 inside');
  const out = redact({ err }) as unknown as { err: { message: string; stack: string } };
  assert.ok(!JSON.stringify(out).includes('canary-registered-value-123'));
  assert.match(out.err.message, /\[REDACTED\]/);
});

test('input is not mutated', () => {
  const input = { token: 'x' };
  redact(input);
  assert.equal(input.token, 'x');
});

test('a key is secret by its last word: tokenId and tokensRevoked stay readable', () => {
  const out = redact({
    tokenId: 'tok_1',
    tokensRevoked: 2,
    csrfToken: 'c',
    api_key: 'k',
    hasClientSecret: true,
  });
  assert.deepEqual(out, {
    tokenId: 'tok_1',
    tokensRevoked: 2,
    csrfToken: REDACTED,
    api_key: REDACTED,
    hasClientSecret: true,
  });
});

test('a private key block is redacted whole, encrypted headers and a cut-off block included, in linear time', () => {
  const block =
    '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A1B\n\nMIIEow+/=\n-----END RSA PRIVATE KEY-----';
  assert.equal(redact(`key: ${block} done`), `key: ${REDACTED} done`);
  assert.equal(redact('cut: -----BEGIN PRIVATE KEY-----\nMIIEow'), `cut: ${REDACTED}`);
  // Many begin lines and no end line: the lazy form took seconds here; greedy takes one pass.
  const hostile = `${'-----BEGIN PRIVATE KEY-----\n-x'.repeat(20_000)}`;
  const started = performance.now();
  const out = redact(hostile);
  assert.ok(performance.now() - started < 1000, `took ${performance.now() - started} ms`);
  assert.ok(!out.includes('BEGIN PRIVATE KEY'), out.slice(0, 200));
});

test('every credential shape is found in a string, in any case the shape allows (a quick filter passes no string unscanned that holds one)', () => {
  const shapes = [
    ...['pdk', 'pds', 'pdl', 'pdi', 'pda', 'pdr', 'pdc'].map((p) => `${p}_${'a1B-_'.repeat(4)}`),
    'Bearer abcdefghij',
    'bEaReR abcdefghij',
    `sk-${'x'.repeat(20)}`,
    'AKIAABCDEFGHIJKLMNOP',
    `AIza${'b'.repeat(35)}`,
    'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La',
    '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE',
  ];
  for (const secret of shapes) {
    const out = redactString(`said: ${secret}`);
    assert.ok(out.startsWith(`said: ${REDACTED}`) && !out.includes(secret.slice(0, 12)), secret);
  }
  assert.equal(redactString('a plain status: ok'), 'a plain status: ok');
});
