import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from './index.ts';

test('log records never contain secrets, in fields, messages or errors', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const log = createLogger({ destination: sink, level: 'debug' });
  const token = `pdk_${'z'.repeat(43)}`;
  log.info({ password: 'canary-pass', headers: { authorization: `Bearer ${token}` } }, `got ${token}`);
  log.error({ err: new Error(`boom ${token}`) }, 'failed');
  await new Promise((r) => setImmediate(r));
  const all = lines.join('');
  assert.equal(lines.length, 2);
  assert.ok(!all.includes('canary-pass'), 'password leaked');
  assert.ok(!all.includes(token), 'token leaked');
  assert.match(all, /\[REDACTED\]/);
});
