/**
 * An idle keep-alive connection is kept well past Node's default 5 s: a client or a reverse proxy
 * reusing a connection the server is closing at that moment gets a reset (seen as a flaky
 * ECONNRESET in the dashboard's end-to-end suite; behind a load balancer that keeps connections
 * 60 s, as 502s). The server keeps idle connections 65 s.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../config/index.ts';
import { silentLogger } from '../log/index.ts';
import { KEEP_ALIVE_MS, startServer } from './index.ts';

/** One `GET /healthz` on the socket; resolves with its status line once the whole answer is read. */
function get(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(got)?.[1];
      if (end >= 0 && length !== undefined && got.length >= end + 4 + Number(length)) {
        socket.off('data', onData);
        resolve(got.slice(0, got.indexOf('\r\n')));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('end', () => reject(new Error('the server closed the connection')));
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  });
}

test('an idle keep-alive connection is kept past Node’s default 5 s, and answers again on the same socket', async () => {
  assert.ok(KEEP_ALIVE_MS >= 61_000, 'longer than a load balancer’s usual 60 s idle timeout');
  const home = mkdtempSync(join(tmpdir(), 'paddock-keepalive-'));
  const server = await startServer(loadConfig({ home, port: 0 }), silentLogger);
  const socket = connect(server.port, '127.0.0.1');
  try {
    await new Promise((r) => socket.once('connect', r));
    let closed = false;
    socket.once('end', () => {
      closed = true;
    });
    assert.equal(await get(socket), 'HTTP/1.1 200 OK');
    // Node's default closes it 5 s after the answer, on a timer checked about every second.
    await new Promise((r) => setTimeout(r, 7_500));
    assert.equal(closed, false, 'the server closed the idle connection');
    assert.equal(await get(socket), 'HTTP/1.1 200 OK');
  } finally {
    socket.destroy();
    await server.close();
    rmSync(home, { recursive: true, force: true });
  }
});
