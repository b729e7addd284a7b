import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scrubber } from './scrub.ts';

const SECRET = 'sk-live-4f9a8Zq/+x2';

test('a secret is scrubbed in its literal, escaped, URL, hex and base64 forms at any alignment', () => {
  const scrub = scrubber([SECRET]);
  const leaks = [
    SECRET,
    `token="${SECRET}"`,
    `https://api.test/?key=${encodeURIComponent(SECRET)}`,
    Buffer.from(SECRET).toString('hex'),
    Buffer.from(SECRET).toString('hex').toUpperCase(),
    // Basic auth: the secret sits at some offset inside a longer base64 text.
    ...['', 'u:', 'ab:', 'user:'].map((p) => Buffer.from(`${p}${SECRET}`).toString('base64')),
    ...['', 'x', 'xy'].map((p) => Buffer.from(`${p}${SECRET}!`).toString('base64url')),
  ];
  for (const leak of leaks) {
    const out = scrub({ content: [{ type: 'text', text: `env: ${leak} end` }] });
    const text = out.content[0]!.text;
    assert.match(text, /\[REDACTED\]/, `not scrubbed: ${leak}`);
    assert.ok(!text.includes(SECRET), text);
    // What is left of a base64 text can no longer be decoded back to the secret.
    for (const word of text.split(/[\s"=:?&]/)) {
      for (const enc of ['base64', 'base64url', 'hex'] as const) {
        assert.ok(!Buffer.from(word, enc).toString().includes(SECRET.slice(2, -2)), `${word} still decodes`);
      }
    }
  }
});

test('other text is left alone, and short secrets are matched only literally', () => {
  const scrub = scrubber([SECRET, 'abc']);
  const plain = { text: 'Hello, the build passed in 42 s (aGVsbG8=)' };
  assert.deepEqual(scrub(plain), plain);
  assert.equal(scrub({ t: 'x abc y' }).t, 'x [REDACTED] y');
  assert.equal(scrub({ t: Buffer.from('abc').toString('base64') }).t, 'YWJj');
  assert.deepEqual(scrubber([])({ a: 1 }), { a: 1 });
});

test('secret-shaped strings are scrubbed too, in values and in keys', () => {
  const scrub = scrubber([]);
  const token = `pda_${'x'.repeat(24)}`;
  assert.deepEqual(scrub({ [token]: `Bearer ${'y'.repeat(20)}`, n: 2 }), {
    '[REDACTED]': '[REDACTED]',
    n: 2,
  });
  assert.equal(scrub(`failed with sk-${'z'.repeat(20)}`), 'failed with [REDACTED]');
});

test('a blob or an image holding a secret stays valid base64, without the secret; others pass untouched', () => {
  const secret = 'blob-secret-0123456789';
  const scrub = scrubber([secret]);
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const out = scrub({
    contents: [
      { uri: 'x://a', blob: b64(`head ${secret} tail`) },
      { uri: 'x://b', blob: b64('nothing here') },
    ],
    content: [{ type: 'image', mimeType: 'image/png', data: b64(`png ${secret}`) }],
  });
  const blob = out.contents[0]!.blob;
  assert.match(blob, /^[A-Za-z0-9+/]*={0,2}$/, 'still base64');
  assert.equal(Buffer.from(blob, 'base64').toString(), 'head [REDACTED] tail');
  assert.equal(out.contents[1]!.blob, b64('nothing here'));
  assert.equal(Buffer.from(out.content[0]!.data, 'base64').toString(), 'png [REDACTED]');
});
