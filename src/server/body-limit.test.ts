/**
 * The body limit over real HTTP (Node's parser in front): a declared length over the limit is
 * refused before the body is read, one under it reaches the route whole, and a chunked body
 * (no declared length) is counted as it streams and refused once over.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { limitBody } from './body-limit.ts';

const LIMIT = 1000;

async function served() {
  const app = new Hono();
  app.use('*', limitBody({ maxSize: LIMIT, onError: (c) => c.json({ error: 'too large' }, 413) }));
  app.post('/echo', async (c) => c.json({ length: (await c.req.text()).length }));
  app.get('/echo', (c) => c.json({ get: true }));
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((r) => server.once('listening', r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** One request; `chunks` sent one write each (chunked when no content-length is given). */
function send(port: number, method: string, headers: Record<string, string>, chunks: string[]) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/echo', method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

test('a declared length decides; an undeclared one is counted as it streams', async () => {
  const { server, port } = await served();
  try {
    const under = 'x'.repeat(LIMIT);
    const ok = await send(port, 'POST', { 'content-length': String(under.length) }, [under]);
    assert.deepEqual([ok.status, JSON.parse(ok.body)], [200, { length: LIMIT }]);

    const over = 'x'.repeat(LIMIT + 1);
    const refused = await send(port, 'POST', { 'content-length': String(over.length) }, [over]);
    assert.equal(refused.status, 413);

    // Chunked: no declared length, so counted — under the limit in pieces passes, over it is refused.
    const pieces = await send(port, 'POST', { 'transfer-encoding': 'chunked' }, [
      'x'.repeat(600),
      'x'.repeat(300),
    ]);
    assert.deepEqual([pieces.status, JSON.parse(pieces.body)], [200, { length: 900 }]);
    const streamedOver = await send(port, 'POST', { 'transfer-encoding': 'chunked' }, [
      'x'.repeat(600),
      'x'.repeat(600),
    ]);
    assert.equal(streamedOver.status, 413);

    const get = await send(port, 'GET', {}, []);
    assert.deepEqual([get.status, JSON.parse(get.body)], [200, { get: true }]);
  } finally {
    server.close();
  }
});
