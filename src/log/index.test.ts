import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, logFormat, prettyDestination } from './index.ts';

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

test('readable lines on a terminal, JSON for a collector or when asked; a request is one line; still redacted', async () => {
  assert.equal(logFormat({}, true), 'pretty');
  assert.equal(logFormat({}, false), 'json');
  assert.equal(logFormat({ PADDOCK_LOG_FORMAT: 'json' }, true), 'json');
  assert.equal(logFormat({ PADDOCK_LOG_FORMAT: 'pretty' }, false), 'pretty');
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const log = createLogger({ destination: prettyDestination(sink), level: 'info' });
  const token = `pdk_${'q'.repeat(43)}`;
  log.info({ requestId: 'req_1', method: 'GET', route: '/api/v1/orgs/{org}', status: 200, ms: 3 }, 'request');
  log.warn({ requestId: 'req_2', password: 'canary-pass' }, `saw ${token}`);
  await new Promise((r) => setTimeout(r, 50));
  const all = lines.join('');
  assert.match(all, /INFO.*: GET \/api\/v1\/orgs\/\{org\} 200 3 ms \[req_1\]\n/);
  assert.match(all, /WARN.*: saw \[REDACTED\] \[req_2\]/);
  assert.ok(!all.includes(token) && !all.includes('canary-pass'));
  assert.ok(!all.trimStart().startsWith('{'), 'not JSON');
});
