/**
 * Two server processes (`paddock up`) on one PostgreSQL database, driven over HTTP as clients
 * would: a stop acknowledged by one ends the agent's call in flight on the other (LISTEN/NOTIFY),
 * the other refuses its next call, and a replica cut off from the database while the stop was
 * sent catches up once it is back. Removing a person on one ends the calls on their agent tokens
 * on the other, reached with the MCP SDK client through `/mcp/{org}`. B's `tools/list`, kept in
 * its memory, shows a grant revoked or added on A at once. An MCP session opened on one carries on
 * on the other; a stop closes its streams and ends it on both.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { sql } from 'kysely';
import pg from 'pg';
import { bubblewrap } from '../cells/index.ts';
import { type SeededOrg, seedOrg } from '../testing/fixtures.ts';
import { EVERYTHING } from '../testing/served.ts';
import { openTestStore, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';

const BIN = fileURLToPath(new URL('../../bin/paddock.js', import.meta.url));

interface Replica {
  proc: ChildProcess;
  url: string;
  /** What it logged (JSON lines, warnings and up). */
  log: () => string;
}

/** `paddock up` on a free port; resolves once it says where it runs. */
async function startReplica(home: string, databaseUrl: string, masterKey: string): Promise<Replica> {
  const proc = spawn(process.execPath, [BIN, 'up', '--port', '0', '--home', home], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PADDOCK_MASTER_KEY: masterKey,
      PADDOCK_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += String(d)));
  proc.stderr!.on('data', (d) => (err += String(d)));
  const exited = once(proc, 'exit').then(([code]) => {
    throw new Error(`paddock up exited ${code}: ${out}${err}`);
  });
  const url = await Promise.race([
    until(() => /is running at (http:\/\/\S+)/.exec(out)?.[1], { timeoutMs: 30_000, what: 'paddock up' }),
    exited,
  ]);
  exited.catch(() => undefined);
  return { proc, url, log: () => err };
}

/**
 * A TCP relay to the database that can cut a replica off: while down it refuses new connections,
 * so a listener that was lost cannot come back (a network partition, as a replica sees it).
 */
function databaseRelay(
  target: URL,
): Promise<{ server: Server; url: string; down: boolean; refused: number }> {
  const sockets = new Set<Socket>();
  const relay = { server: undefined as unknown as Server, url: '', down: false, refused: 0 };
  relay.server = createServer((client) => {
    if (relay.down) {
      relay.refused += 1;
      client.destroy();
      return;
    }
    const upstream = tcpConnect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  relay.server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  return new Promise((resolve) =>
    relay.server.listen(0, '127.0.0.1', () => {
      const u = new URL(target);
      u.port = String((relay.server.address() as { port: number }).port);
      relay.url = u.toString();
      resolve(relay);
    }),
  );
}

describe('the kill switch across two server processes [postgres]', () => {
  let t: TestStore;
  let a: Replica;
  let b: Replica;
  let relay: Awaited<ReturnType<typeof databaseRelay>>;
  let acme: SeededOrg;
  let connectionId: string;

  const api = async (
    replica: Replica,
    method: string,
    path: string,
    body?: unknown,
    token = acme.people.admin.token,
  ) => {
    const r = await fetch(`${replica.url}/api/v1/orgs/acme${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    return { status: r.status, text, body: text ? JSON.parse(text) : null };
  };

  /** The tool calls of an agent that passed their decision (durable before the call runs). */
  const allowedCalls = async (agentId: string, tool: string) =>
    (
      await t.store.db
        .selectFrom('audit_entries')
        .select('id')
        .where('actor_id', '=', agentId)
        .where('action', '=', 'tool.call.allowed')
        .where('target_id', '=', `${connectionId}/${tool}`)
        .execute()
    ).length;

  /** A new agent with a 20-second call of the long-running tool in flight on replica B. */
  async function longCallOnB(name: string) {
    const agent = await api(a, 'POST', '/agents', {
      name,
      scope: 'organization',
      instructions: 'x',
      model: { provider: 'openai', model: 'gpt-5' },
    });
    assert.equal(agent.status, 201, agent.text);
    const id = agent.body.id as string;
    for (const tool of ['echo', 'trigger-long-running-operation'])
      assert.equal((await api(a, 'POST', `/agents/${id}/grants`, { connectionId, tool })).status, 201);
    // A first call opens the agent's session on B: the long one is then sent as soon as decided.
    const warm = await api(b, 'POST', `/agents/${id}/calls`, {
      connectionId,
      tool: 'echo',
      args: { message: 'warm' },
    });
    assert.equal(warm.status, 200, warm.text);
    const ended = api(b, 'POST', `/agents/${id}/calls`, {
      connectionId,
      tool: 'trigger-long-running-operation',
      args: { duration: 20, steps: 2 },
    }).then((r) => ({ ...r, at: Date.now() }));
    await until(async () => (await allowedCalls(id, 'trigger-long-running-operation')) === 1, {
      what: 'the long call to be decided on B',
    });
    return { id, ended };
  }

  before(async () => {
    const check = await bubblewrap.check();
    assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
    t = await openTestStore('postgres');
    acme = await seedOrg(t.store, 'acme');
    // Both replicas hold the same master key, as replicas behind one load balancer do.
    const masterKey = randomBytes(32).toString('base64');
    relay = await databaseRelay(new URL(t.databaseUrl!));
    [a, b] = await Promise.all([
      startReplica(join(t.home, 'replica-a'), t.databaseUrl!, masterKey),
      startReplica(join(t.home, 'replica-b'), relay.url, masterKey),
    ]);
    const conn = await api(a, 'POST', '/connections', {
      name: 'everything',
      transport: 'stdio',
      command: 'node',
      args: EVERYTHING,
    });
    assert.equal(conn.status, 201, conn.text);
    connectionId = conn.body.id;
    const tools = await api(a, 'POST', `/connections/${connectionId}/tools/refresh`);
    assert.equal(tools.status, 200, tools.text);
  });

  after(async () => {
    await Promise.all(
      [a, b].map(async (r) => {
        if (!r || r.proc.exitCode !== null) return;
        const exit = once(r.proc, 'exit');
        r.proc.kill('SIGTERM');
        const killer = setTimeout(() => r.proc.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(killer);
      }),
    );
    await new Promise<void>((r) => (relay ? relay.server.close(() => r()) : r()));
    await t?.cleanup();
  });

  test("a stop on replica A ends the agent's call in flight on replica B, and B refuses its next call", async () => {
    const { id, ended: onB } = await longCallOnB('runaway');
    const stop = await api(a, 'POST', `/agents/${id}/stop`);
    assert.equal(stop.status, 200, stop.text);
    const acked = Date.now();
    const ended = await onB;
    assert.equal(ended.status, 409, `the call on B ran on: ${ended.text}`);
    assert.equal(ended.body.error.code, 'agent_stopped');
    assert.ok(
      ended.at - acked < 10_000,
      `B ended the call ${ended.at - acked} ms after the stop, not after its 20 s`,
    );
    const next = await api(b, 'POST', `/agents/${id}/calls`, {
      connectionId,
      tool: 'echo',
      args: { message: 'again' },
    });
    assert.equal(next.status, 409, next.text);
    assert.equal(next.body.error.code, 'agent_stopped');
  });

  test("removing a person on A ends their agent token's call in flight on B's /mcp, and B refuses the token", async () => {
    const leaver = acme.people.member;
    const agent = await api(
      a,
      'POST',
      '/agents',
      {
        name: 'members-laptop',
        scope: 'organization',
        instructions: 'x',
        model: { provider: 'openai', model: 'gpt-5' },
      },
      leaver.token,
    );
    assert.equal(agent.status, 201, agent.text);
    const id = agent.body.id as string;
    const tool = 'trigger-long-running-operation';
    assert.equal((await api(a, 'POST', `/agents/${id}/grants`, { connectionId, tool })).status, 201);
    const issued = await api(a, 'POST', `/agents/${id}/tokens`, { name: 'laptop' }, leaver.token);
    assert.equal(issued.status, 201, issued.text);
    const token = issued.body.token as string;
    // Both replicas listen (this database's listeners: the server is shared with other tests), so
    // the removal's notification is what reaches B, not a later catch-up.
    await until(
      async () =>
        (
          await sql<{
            n: number;
          }>`select count(*)::int as n from pg_stat_activity where query = 'LISTEN paddock_stop' and datname = current_database()`.execute(
            t.store.db,
          )
        ).rows[0]!.n === 2,
      { what: 'both replicas to listen' },
    );
    const client = new Client({ name: 'laptop-agent', version: '1.0.0' });
    try {
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${b.url}/mcp/acme`), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      const onB = client
        .callTool({ name: `everything__${tool}`, arguments: { duration: 20, steps: 2 } }, undefined, {
          timeout: 60_000,
        })
        .then((r) => ({ r: r as { isError?: boolean; content: Array<{ text?: string }> }, at: Date.now() }));
      await until(async () => (await allowedCalls(id, tool)) === 1, {
        what: 'the long call to be decided on B',
      });

      const removed = await api(a, 'DELETE', `/people/${leaver.id}`, undefined, acme.people.owner.token);
      assert.equal(removed.status, 204, removed.text);
      const acked = Date.now();
      const ended = await onB;
      assert.equal(ended.r.isError, true, 'the call on B did not run its 20 s');
      assert.match(ended.r.content[0]?.text ?? '', /^token_revoked: .*removed from the organization/);
      assert.ok(ended.at - acked < 10_000, `B ended the call ${ended.at - acked} ms after the removal`);
      const next = await fetch(`${b.url}/mcp/acme`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }),
      });
      assert.equal(next.status, 401);
      assert.equal(((await next.json()) as { error: { code: string } }).error.code, 'token_revoked');
    } finally {
      await client.close().catch(() => undefined);
    }
  });

  test("B's tools/list, kept in memory, shows a grant revoked and a grant added on A at once", async () => {
    const agent = await api(a, 'POST', '/agents', {
      name: 'lister',
      scope: 'organization',
      instructions: 'x',
      model: { provider: 'openai', model: 'gpt-5' },
    });
    assert.equal(agent.status, 201, agent.text);
    const id = agent.body.id as string;
    const echo = await api(a, 'POST', `/agents/${id}/grants`, { connectionId, tool: 'echo' });
    assert.equal(echo.status, 201, echo.text);
    const token = (await api(a, 'POST', `/agents/${id}/tokens`, { name: 'laptop' })).body.token as string;
    const client = new Client({ name: 'laptop-agent', version: '1.0.0' });
    const listed = async () => (await client.listTools()).tools.map((x) => x.name).sort();
    try {
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${b.url}/mcp/acme`), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      assert.deepEqual(await listed(), ['everything__echo']);
      assert.deepEqual(await listed(), ['everything__echo'], 'B serves it again (kept)');
      const revoked = await api(a, 'DELETE', `/agents/${id}/grants/${echo.body.id}`);
      assert.ok(revoked.status < 300, revoked.text);
      assert.deepEqual(await listed(), [], 'no wait: the revoke shows on B at once');
      assert.equal((await api(a, 'POST', `/agents/${id}/grants`, { connectionId, tool: '*' })).status, 201);
      const all = await listed();
      assert.ok(all.includes('everything__echo') && all.length > 3, all.join(' '));
    } finally {
      await client.close().catch(() => undefined);
    }
  });

  test('an MCP session opened on A carries on on B; a stop on A closes its GET stream on B and ends it on both; DELETE on B ends it on A', async () => {
    const agent = await api(a, 'POST', '/agents', {
      name: 'roamer',
      scope: 'organization',
      instructions: 'x',
      model: { provider: 'openai', model: 'gpt-5' },
    });
    assert.equal(agent.status, 201, agent.text);
    const id = agent.body.id as string;
    assert.equal((await api(a, 'POST', `/agents/${id}/grants`, { connectionId, tool: 'echo' })).status, 201);
    const token = (await api(a, 'POST', `/agents/${id}/tokens`, { name: 'laptop' })).body.token as string;
    await until(
      async () =>
        (
          await sql<{
            n: number;
          }>`select count(*)::int as n from pg_stat_activity where query = 'LISTEN paddock_mcp' and datname = current_database()`.execute(
            t.store.db,
          )
        ).rows[0]!.n === 2,
      { what: 'both replicas to listen for MCP session events' },
    );
    let rpcId = 0;
    const mcp = (replica: Replica, method: string, headers: Record<string, string>, body?: unknown) =>
      fetch(`${replica.url}/mcp/acme`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-11-25',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const rpc = (method: string, params: unknown = {}) => ({ jsonrpc: '2.0', id: ++rpcId, method, params });
    const init = await mcp(
      a,
      'POST',
      {},
      rpc('initialize', {
        protocolVersion: '2025-11-25',
        capabilities: { sampling: {} },
        clientInfo: { name: 'roaming-client', version: '1' },
      }),
    );
    assert.equal(init.status, 200);
    await init.text();
    const session = init.headers.get('mcp-session-id')!;
    const sid = { 'mcp-session-id': session };
    assert.equal(
      (await mcp(a, 'POST', sid, { jsonrpc: '2.0', method: 'notifications/initialized' })).status,
      202,
    );
    // The next request lands on B, which never saw the session: it carries on from the stored row.
    const onB = await mcp(
      b,
      'POST',
      sid,
      rpc('tools/call', { name: 'everything__echo', arguments: { message: 'roam' } }),
    );
    assert.equal(onB.status, 200);
    assert.match(await onB.text(), /Echo: roam/);
    // A GET stream open on B; the stop acknowledged by A closes it and ends the session on both.
    const stream = await mcp(b, 'GET', { ...sid, accept: 'text/event-stream' });
    assert.equal(stream.status, 200);
    const reader = stream.body!.getReader();
    const closed = (async () => {
      for (;;) if ((await reader.read()).done) return Date.now();
    })();
    assert.equal((await api(a, 'POST', `/agents/${id}/stop`)).status, 200);
    const acked = Date.now();
    try {
      assert.ok((await closed) - acked < 10_000, 'B closed the GET stream with the stop');
      for (const replica of [a, b])
        assert.equal((await mcp(replica, 'POST', sid, rpc('tools/list'))).status, 404);
    } finally {
      assert.equal((await api(a, 'POST', `/agents/${id}/resume`)).status, 200);
    }
    // A session used on A, then ended by DELETE on B: A lets go of it too.
    const again = await mcp(
      a,
      'POST',
      {},
      rpc('initialize', {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'c', version: '1' },
      }),
    );
    await again.text();
    const second = { 'mcp-session-id': again.headers.get('mcp-session-id')! };
    assert.equal((await mcp(a, 'POST', second, rpc('tools/list'))).status, 200);
    assert.equal((await mcp(b, 'DELETE', second)).status, 200);
    // B's word reaches A over NOTIFY, a few milliseconds after B answered.
    await until(
      async () => {
        const r = await mcp(a, 'POST', second, rpc('tools/list'));
        await r.text();
        return r.status === 404;
      },
      { what: 'A to let go of the session B ended', timeoutMs: 5_000 },
    );
  });

  test("a stop NOTIFY sent in clear by a login that may only connect ends nothing on B, nor does a replica's sealed stop sent again", async () => {
    const ignored = () =>
      b
        .log()
        .split('\n')
        .filter((l) => l.includes('not sealed by a replica')).length;
    const before = ignored();
    // A reporting login: it may connect, and `pg_notify` is granted to everyone.
    const role = `paddock_reporting_${randomBytes(4).toString('hex')}`;
    await sql.raw(`create role ${role} login`).execute(t.store.db);
    const reporting = new pg.Client({ connectionString: t.databaseUrl, user: role });
    const listener = new pg.Client({ connectionString: t.databaseUrl });
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(n.payload ?? ''));
    try {
      await reporting.connect();
      await listener.connect();
      await listener.query('LISTEN paddock_stop');
      const { id, ended: onB } = await longCallOnB('forged-at');
      let settled = false;
      void onB.then(() => (settled = true));
      for (const forged of [
        { kind: 'agent', orgId: acme.id, agentId: id },
        { kind: 'org', orgId: acme.id },
      ])
        await reporting.query('select pg_notify($1, $2)', ['paddock_stop', JSON.stringify(forged)]);
      await until(() => ignored() >= before + 2, { what: 'B to ignore both forged stops' });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(settled, false, 'the call on B ran on');

      // A real stop on A crosses sealed (nothing of it in clear), and ends the call on B.
      assert.equal((await api(a, 'POST', `/agents/${id}/stop`)).status, 200);
      const ended = await onB;
      assert.equal(ended.body.error.code, 'agent_stopped', ended.text);
      await until(() => heard.some((p) => p.includes('"sealed"')), {
        what: "A's sealed stop on the channel",
      });
      const sealed = heard.find((p) => p.includes('"sealed"'))!;
      assert.ok(!sealed.includes(id), "the agent's id is not in clear");

      // Resumed, with a call in flight again: the stop read off the channel and sent again is ignored.
      assert.equal((await api(a, 'POST', `/agents/${id}/resume`)).status, 200);
      let again = false;
      const second = api(b, 'POST', `/agents/${id}/calls`, {
        connectionId,
        tool: 'trigger-long-running-operation',
        args: { duration: 20, steps: 2 },
      }).then((r) => {
        again = true;
        return r;
      });
      await until(async () => (await allowedCalls(id, 'trigger-long-running-operation')) === 2, {
        what: 'the second long call to be decided on B',
      });
      await reporting.query('select pg_notify($1, $2)', ['paddock_stop', sealed]);
      await until(() => ignored() >= before + 3, { what: 'B to ignore the replayed stop' });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(again, false, 'the replayed stop ended the call on B');
      assert.equal((await api(a, 'POST', `/agents/${id}/stop`)).status, 200);
      assert.equal((await second).body.error.code, 'agent_stopped');
    } finally {
      await reporting.end().catch(() => undefined);
      await listener.end().catch(() => undefined);
      await sql.raw(`drop role if exists ${role}`).execute(t.store.db);
    }
  });

  test('a stop sent while B was cut off from the database still ends its call: B catches up once back', async () => {
    const { id, ended: onB } = await longCallOnB('missed');
    // B loses its listening connection and cannot open another: the stop's notification reaches no
    // listener of B's (NOTIFY is not queued for a session that is not there).
    relay.down = true;
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where query = 'LISTEN paddock_stop'`.execute(
      t.store.db,
    );
    const stop = await api(a, 'POST', `/agents/${id}/stop`);
    assert.equal(stop.status, 200, stop.text);
    await until(() => relay.refused > 0, { what: 'B to try to listen again (and be refused)' });
    relay.down = false;
    const ended = await onB;
    assert.equal(ended.status, 409, `the call on B ran on: ${ended.text}`);
    assert.equal(ended.body.error.code, 'agent_stopped');
    await until(() => /stop listener lost; reconnecting/.test(b.log()), {
      what: 'B to report the lost listener',
    });
  });
});
