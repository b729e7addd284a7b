/**
 * The egress proxy: only allowlisted host:port pairs, never a private or loopback address
 * unless explicitly allowed, checked after name resolution, every refusal audited; and from
 * inside a real bubblewrap cell it is the one way out.
 */
import assert from 'node:assert/strict';
import { lstatSync, statSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AuditTrail } from '../audit/index.ts';
import { initOrg, operatorCaller } from '../identity/index.ts';
import { silentLogger } from '../log/index.ts';
import { openTestStore, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';
import { localKeyring, Vault, vaultLogKeys } from '../vault/index.ts';
import { bubblewrap } from './bubblewrap.ts';
import { EgressProxy, type EgressRule, isNonPublic } from './egress.ts';
import { orgHostUser } from './host-users.ts';
import { cellSpec } from './supervisor.ts';

const PROBE = fileURLToPath(new URL('./probe.ts', import.meta.url));

/** Sends a CONNECT over the proxy's socket; returns the status line and a connected socket. */
function tunnel(
  socketPath: string,
  target: string,
): Promise<{ status: string; socket: ReturnType<typeof connect> }> {
  return new Promise((resolve, reject) => {
    const s = connect({ path: socketPath });
    s.on('error', reject);
    s.on('connect', () => s.write(`CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\n\r\n`));
    s.once('data', (d) => resolve({ status: String(d).split('\r\n')[0]!, socket: s }));
  });
}

test('non-public addresses are recognised, mapped IPv6 included', () => {
  for (const a of [
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '::1',
    'fd00::1',
    'fe80::1',
    '::ffff:10.0.0.1',
    '0.0.0.0',
  ]) {
    assert.ok(isNonPublic(a), a);
  }
  for (const a of ['93.184.216.34', '1.1.1.1', '2606:4700::1111']) assert.ok(!isNonPublic(a), a);
});

describe('egress proxy', () => {
  let t: TestStore;
  let orgId: string;
  let trail: AuditTrail;
  let proxy: EgressProxy;
  let target: Server;
  let port: number;
  let socketPath: string;
  const rules: EgressRule[] = [];

  before(async () => {
    t = await openTestStore('sqlite');
    orgId = (await initOrg(t.store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' })).org.id;
    trail = new AuditTrail({
      store: t.store,
      keys: vaultLogKeys(new Vault(localKeyring(t.home, {}))),
      originHost: 'egress.test',
      log: silentLogger,
    });
    target = createServer((req, res) => res.end(`hello from ${req.url}`)).listen(0, '127.0.0.1');
    await new Promise((r) => target.once('listening', r));
    port = (target.address() as AddressInfo).port;
    socketPath = join(t.home, 'egress', `${orgId}.sock`);
    proxy = new EgressProxy({
      orgId,
      socketPath,
      rules: () => rules,
      audit: trail,
      log: silentLogger,
      // Names in this test resolve here, never through real DNS.
      resolve: async (host) =>
        ({ 'rebind.test': ['203.0.113.5', '10.0.0.7'], 'lan-model.test': ['127.0.0.1'] })[host] ?? [],
    });
    await proxy.start();
  });
  after(async () => {
    await proxy?.close();
    target?.close();
    await trail?.close();
    await t?.cleanup();
  });

  test('admits an allowlisted address (explicitly allowed to be private) and carries traffic', async () => {
    rules.splice(0, rules.length, { host: '127.0.0.1', port, allowPrivate: true });
    const { status, socket } = await tunnel(socketPath, `127.0.0.1:${port}`);
    assert.equal(status, 'HTTP/1.1 200 Connection Established');
    const body = await new Promise<string>((resolve) => {
      let got = '';
      socket.on('data', (d) => {
        got += d;
        if (got.includes('hello from')) resolve(got);
      });
      socket.write(`GET /through HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
    });
    assert.match(body, /hello from \/through/);
    socket.destroy();
    const plain = await new Promise<string>((resolve, reject) => {
      const s = connect({ path: socketPath });
      let got = '';
      s.on('connect', () =>
        s.write(
          `GET http://127.0.0.1:${port}/plain HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: close\r\n\r\n`,
        ),
      );
      s.on('data', (d) => {
        got += d;
      });
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
    assert.match(plain, /hello from \/plain/);
  });

  test('closing the proxy ends an open stream and an open tunnel at once, upstream too, rather than waiting on them', async () => {
    // An upstream that answers and never ends (an MCP session's event stream).
    const streaming = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
    }).listen(0, '127.0.0.1');
    await new Promise((r) => streaming.once('listening', r));
    const streamPort = (streaming.address() as AddressInfo).port;
    const own = new EgressProxy({
      orgId,
      socketPath: join(t.home, 'egress', 'closing.sock'),
      rules: () => [{ host: '127.0.0.1', port: streamPort, allowPrivate: true }],
      audit: trail,
      log: silentLogger,
    });
    await own.start();
    try {
      const stream = connect({ path: join(t.home, 'egress', 'closing.sock') });
      const streamClosed = new Promise((r) => stream.once('close', r));
      await new Promise<void>((resolve) => {
        stream.on('data', (d) => String(d).includes('data: first') && resolve());
        stream.write(
          `GET http://127.0.0.1:${streamPort}/events HTTP/1.1\r\nhost: 127.0.0.1:${streamPort}\r\n\r\n`,
        );
      });
      const { status, socket } = await tunnel(
        join(t.home, 'egress', 'closing.sock'),
        `127.0.0.1:${streamPort}`,
      );
      assert.equal(status, 'HTTP/1.1 200 Connection Established');
      const tunnelClosed = new Promise((r) => socket.once('close', r));
      socket.on('error', () => undefined);
      stream.on('error', () => undefined);
      await until(() => new Promise<boolean>((r) => streaming.getConnections((_e, n) => r(n === 2))), {
        what: 'both connections upstream',
      });
      const started = Date.now();
      const late = new Promise<string>((r) => setTimeout(() => r('still waiting'), 5000).unref());
      assert.equal(await Promise.race([own.close().then(() => 'closed'), late]), 'closed');
      await Promise.all([streamClosed, tunnelClosed]);
      assert.ok(Date.now() - started < 2000, `closed after ${Date.now() - started} ms`);
      await until(() => new Promise<boolean>((r) => streaming.getConnections((_e, n) => r(n === 0))), {
        what: 'nothing left open upstream',
      });
    } finally {
      streaming.closeAllConnections();
      streaming.close();
      void own.close();
    }
  });

  test('refuses what is not on the allowlist, and private addresses not explicitly allowed, and audits it', async () => {
    rules.splice(0, rules.length, { host: 'lan-model.test', port }, { host: 'rebind.test', port: 443 });
    const cases = [
      [`127.0.0.1:${port}`, /not on this organization’s allowlist/],
      [`lan-model.test:${port}`, /resolves to 127\.0\.0\.1, a private or loopback address/],
      ['rebind.test:443', /resolves to 10\.0\.0\.7/],
      ['example.org:443', /not on this organization’s allowlist/],
    ] as const;
    for (const [where, why] of cases) {
      const s = connect({ path: socketPath });
      const reply = await new Promise<string>((resolve) => {
        let got = '';
        s.on('connect', () => s.write(`CONNECT ${where} HTTP/1.1\r\nhost: ${where}\r\n\r\n`));
        s.on('data', (d) => {
          got += d;
        });
        s.on('close', () => resolve(got));
      });
      assert.match(reply, /^HTTP\/1\.1 403 /, `${where}: ${reply}`);
      assert.match(reply, why);
    }
    await trail.flush();
    const refused = await t.store.db
      .selectFrom('audit_entries')
      .select(['target_id', 'outcome'])
      .where('action', '=', 'egress.refused')
      .execute();
    assert.equal(refused.length, cases.length);
    assert.ok(refused.every((r) => r.outcome === 'denied'));
  });

  test('a link planted where a proxy’s socket goes is replaced, not followed; the socket is the org user’s alone', async () => {
    const victim = join(t.home, 'master.key');
    const before = statSync(victim);
    const path = join(t.home, 'egress', 'planted.sock');
    symlinkSync(victim, path);
    const owner = { uid: 2_000_099_998, gid: 2_000_099_998 };
    const planted = new EgressProxy({
      orgId,
      socketPath: path,
      rules: () => [],
      owner,
      audit: trail,
      log: silentLogger,
    });
    await planted.start();
    try {
      const after = statSync(victim);
      assert.deepEqual([after.uid, after.mode, after.size], [before.uid, before.mode, before.size]);
      const sock = lstatSync(path);
      assert.ok(sock.isSocket());
      assert.deepEqual([sock.uid, sock.gid, sock.mode & 0o777], [owner.uid, owner.gid, 0o600]);
    } finally {
      await planted.close();
    }
  });

  test('from inside a bubblewrap cell: the proxy socket is the only way out', async () => {
    const check = await bubblewrap.check();
    assert.ok(check.ok, `bubblewrap is needed for this test: ${check.reason}`);
    rules.splice(0, rules.length, { host: '127.0.0.1', port, allowPrivate: true });
    // As the supervisor does: the cell's proxy socket is given to the org's host user.
    const user = bubblewrap.runsAsOrgUsers ? await orgHostUser(t.store.db, orgId) : undefined;
    const cellSocket = join(t.home, 'egress', `${orgId}.cell.sock`);
    const cellProxy = new EgressProxy({
      orgId,
      socketPath: cellSocket,
      rules: () => rules,
      owner: user,
      audit: trail,
      log: silentLogger,
    });
    await cellProxy.start();
    const probe = async (asOrg: string) => {
      const spec = cellSpec(orgId, t.home, PROBE, [
        '--connect',
        `127.0.0.1:${port}`,
        '--via-proxy',
        `127.0.0.1:${port}`,
      ]);
      const proc = bubblewrap.spawn({
        ...spec,
        egressSocket: cellSocket,
        user: await orgHostUser(t.store.db, asOrg),
      });
      let out = '';
      proc.stdout!.on('data', (d) => {
        out += d;
      });
      proc.stdin!.end();
      await new Promise((r) => proc.once('exit', r));
      return JSON.parse(out) as Record<string, string>;
    };
    let r: Record<string, string>;
    try {
      r = await probe(orgId);
      if (user) {
        // The same socket mounted into another org's sandbox (a mistake) still lets it nowhere.
        const other = await probe('org_other');
        assert.equal(other[`proxy 127.0.0.1:${port}`], 'refused EACCES', 'another org’s user cannot use it');
      }
    } finally {
      await cellProxy.close();
    }
    assert.match(r[`connect 127.0.0.1:${port}`]!, /^refused/, 'no direct connection');
    assert.equal(
      r[`proxy 127.0.0.1:${port}`],
      'HTTP/1.1 200 Connection Established',
      'through the proxy, an allowed target',
    );
  });
});
