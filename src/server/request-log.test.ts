/**
 * The request log: every request is one line at info with its request id (the one its answer
 * carries), method, route template, status and duration, whoever answered it — a declared
 * route, the MCP guard, no route at all, the OpenAPI document, a dashboard page, the body-size
 * limit — and never its path's org, ids or query.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../log/index.ts';
import { call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { openTestStore, type TestStore } from '../testing/stores.ts';
import { MAX_BODY_BYTES } from './app.ts';

describe('the request log', () => {
  let t: TestStore;
  let app: ReturnType<typeof createApp>;
  let acme: SeededOrg;
  const lines: Array<Record<string, any>> = [];

  before(async () => {
    t = await openTestStore('sqlite');
    const sink = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        cb();
      },
    });
    const log = createLogger({ destination: sink, level: 'info' });
    app = createApp(testDeps(t.store, t.home, { log }));
    acme = await seedOrg(t.store, 'acme');
  });
  after(() => t?.cleanup());

  test('one line at info per request, with the id its answer carries, whoever answered it', async () => {
    const token = acme.people.owner.token;
    const asked: Array<[method: string, path: string, opts: Parameters<typeof call>[3], route: string]> = [
      ['get', '/healthz', {}, '/healthz'],
      ['get', '/api/v1/orgs/acme/agents?limit=5', { token }, '/api/v1/orgs/{org}/agents'],
      ['get', '/api/v1/orgs/acme/agents/agt_nope', { token }, '/api/v1/orgs/{org}/agents/{agent}'],
      ['get', '/api/v1/orgs/acme/no-such-thing/agt_x', { token }, 'unmatched'],
      ['get', '/api/v1/openapi.json', {}, '/api/v1/openapi.json'],
      ['get', '/metrics', {}, '/metrics'],
      ['get', '/agents', {}, 'unmatched'],
      [
        'post',
        '/api/v1/orgs/acme/agents',
        { token, raw: 'x'.repeat(MAX_BODY_BYTES + 10) },
        '/api/v1/orgs/{org}/agents',
      ],
      ['post', '/mcp/acme', { headers: { origin: 'https://evil.example' }, body: {} }, '/mcp/{org}'],
      ['options', '/mcp/acme', {}, '/mcp/{org}'],
    ];
    for (const [method, path, opts, route] of asked) {
      const before = lines.length;
      const r = await call(app, method, path, opts);
      await new Promise((resolve) => setImmediate(resolve));
      const mine = lines.slice(before).filter((l) => l.msg === 'request');
      assert.equal(mine.length, 1, `${method} ${path}: one line (got ${mine.length})`);
      const l = mine[0]!;
      assert.equal(l.level, 30, 'at info');
      assert.equal(l.method, method.toUpperCase());
      assert.equal(l.status, r.status, `${method} ${path}`);
      assert.equal(l.route, route, `${method} ${path}`);
      assert.equal(typeof l.ms, 'number');
      assert.match(l.requestId, /^\S{8,}$/);
      assert.equal(
        r.headers.get('x-request-id'),
        l.requestId,
        `${method} ${path}: the id its answer carries`,
      );
      assert.ok(!JSON.stringify(l).includes('agt_nope') && !JSON.stringify(l).includes('limit=5'));
    }
  });

  test('a request id the caller sent is the one logged', async () => {
    const before = lines.length;
    await call(app, 'get', '/healthz', { headers: { 'x-request-id': 'trace-me-1234' } });
    await call(app, 'get', '/nowhere', { headers: { 'x-request-id': 'trace-me-5678' } });
    const ids = lines.slice(before).map((l) => l.requestId);
    assert.deepEqual(ids, ['trace-me-1234', 'trace-me-5678']);
  });
});
