/**
 * Two server replicas on one PostgreSQL database: a stop acknowledged by one ends the agent's
 * call in flight on the other (LISTEN/NOTIFY), and the other refuses its next call.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { bubblewrap } from '../cells/index.ts';
import { loadConfig } from '../config/index.ts';
import { silentLogger } from '../log/index.ts';
import { buildDeps } from '../server/deps.ts';
import { call, createApp, type SeededOrg, seedOrg } from '../testing/fixtures.ts';
import { openTestStore, type TestStore } from '../testing/stores.ts';

const EVERYTHING = ['node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'];

describe('the kill switch across replicas [postgres]', () => {
  let t: TestStore;
  let a: ReturnType<typeof buildDeps>;
  let b: ReturnType<typeof buildDeps>;
  let acme: SeededOrg;

  before(async () => {
    const check = await bubblewrap.check();
    assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
    t = await openTestStore('postgres');
    const replica = () =>
      buildDeps(
        loadConfig({ home: t.home, port: 0, databaseUrl: t.databaseUrl }, {}),
        silentLogger,
        t.store,
        {},
        { provider: bubblewrap, problem: null },
      );
    a = replica();
    b = replica();
    acme = await seedOrg(t.store, 'acme');
  });

  after(async () => {
    for (const d of [a, b]) {
      await d?.sessions.close();
      await d?.gateway.close();
      await d?.audit.close();
    }
    await t?.cleanup();
  });

  test("a stop on replica A ends the agent's call in flight on replica B", async () => {
    const appA = createApp(a);
    const token = acme.people.admin.token;
    const post = (path: string, body?: unknown) =>
      call(appA, 'post', `/api/v1/orgs/acme${path}`, { token, ...(body === undefined ? {} : { body }) });
    const conn = await post('/connections', {
      name: 'everything',
      transport: 'stdio',
      command: 'node',
      args: EVERYTHING,
    });
    assert.equal((await post(`/connections/${conn.body.id}/tools/refresh`)).status, 200);
    const agent = await post('/agents', {
      name: 'runaway',
      scope: 'organization',
      instructions: 'x',
      model: { provider: 'openai', model: 'gpt-5' },
    });
    await post(`/agents/${agent.body.id}/grants`, {
      connectionId: conn.body.id,
      tool: 'trigger-long-running-operation',
    });
    await b.sessions.listening();

    const onB = b.gateway
      .call({
        orgId: acme.id,
        agentId: agent.body.id,
        connectionId: conn.body.id,
        tool: 'trigger-long-running-operation',
        args: { duration: 20, steps: 2 },
        requestId: 'replica-test',
      })
      .then(
        () => ({ ok: true, at: Date.now(), code: '' }),
        (err: { code?: string }) => ({ ok: false, at: Date.now(), code: err.code ?? '' }),
      );
    while (b.gateway.inFlight(agent.body.id) < 1) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 300));
    const stop = await post(`/agents/${agent.body.id}/stop`);
    assert.equal(stop.status, 200, stop.text);
    const acked = Date.now();
    const ended = await onB;
    assert.equal(ended.ok, false, 'the call on B did not run its 20 s');
    assert.equal(ended.code, 'agent_stopped');
    assert.ok(ended.at - acked < 2000, `B ended the call ${ended.at - acked} ms after the stop`);
    await assert.rejects(
      b.gateway.call({
        orgId: acme.id,
        agentId: agent.body.id,
        connectionId: conn.body.id,
        tool: 'trigger-long-running-operation',
        args: { duration: 1, steps: 1 },
        requestId: 'replica-test-2',
      }),
      (err: { code?: string }) => err.code === 'agent_stopped',
    );
  });

  test('a stop sent while B was not listening still ends its call: B catches up when it is back', async () => {
    const appA = createApp(a);
    const token = acme.people.admin.token;
    const post = (path: string, body?: unknown) =>
      call(appA, 'post', `/api/v1/orgs/acme${path}`, { token, ...(body === undefined ? {} : { body }) });
    const conn = (await call(appA, 'get', '/api/v1/orgs/acme/connections', { token })).body.connections[0];
    const agent = await post('/agents', {
      name: 'missed',
      scope: 'organization',
      instructions: 'x',
      model: { provider: 'openai', model: 'gpt-5' },
    });
    await post(`/agents/${agent.body.id}/grants`, {
      connectionId: conn.id,
      tool: 'trigger-long-running-operation',
    });
    await b.sessions.listening();
    const onB = b.gateway
      .call({
        orgId: acme.id,
        agentId: agent.body.id,
        connectionId: conn.id,
        tool: 'trigger-long-running-operation',
        args: { duration: 20, steps: 2 },
        requestId: 'replica-missed',
      })
      .then(
        () => ({ code: 'ran' }),
        (err: { code?: string }) => ({ code: err.code ?? '' }),
      );
    while (b.gateway.inFlight(agent.body.id) < 1) await new Promise((r) => setTimeout(r, 10));
    // Both replicas' listeners are cut (a network blip); the stop's notification goes nowhere.
    const received = b.sessions.stats.received;
    const resyncs = b.sessions.stats.resyncs;
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where query = 'LISTEN paddock_stop'`.execute(
      t.store.db,
    );
    const stop = await post(`/agents/${agent.body.id}/stop`);
    assert.equal(stop.status, 200, stop.text);
    const ended = await Promise.race([
      onB,
      new Promise((r) => setTimeout(() => r({ code: 'still running' }), 5000)),
    ]);
    assert.deepEqual(ended, { code: 'agent_stopped' });
    assert.equal(b.sessions.stats.received, received, 'B never got the notification');
    assert.ok(b.sessions.stats.resyncs > resyncs, 'B caught up after reconnecting');
  });
});
