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
  let connectionId: string;

  const post = (path: string, body?: unknown) =>
    call(createApp(a), 'post', `/api/v1/orgs/acme${path}`, {
      token: acme.people.admin.token,
      ...(body === undefined ? {} : { body }),
    });

  /** A new agent allowed the long-running tool, with a 20-second call of it running on replica B. */
  async function longCallOnB(name: string) {
    const agent = await post('/agents', {
      name,
      scope: 'organization',
      instructions: 'x',
      model: { provider: 'openai', model: 'gpt-5' },
    });
    await post(`/agents/${agent.body.id}/grants`, { connectionId, tool: 'trigger-long-running-operation' });
    await b.sessions.listening();
    const ended = b.gateway
      .call({
        orgId: acme.id,
        agentId: agent.body.id,
        connectionId,
        tool: 'trigger-long-running-operation',
        args: { duration: 20, steps: 2 },
        requestId: `replica-${name}`,
      })
      .then(
        () => ({ ok: true, at: Date.now(), code: '' }),
        (err: { code?: string }) => ({ ok: false, at: Date.now(), code: err.code ?? '' }),
      );
    while (b.gateway.inFlight(agent.body.id) < 1) await new Promise((r) => setTimeout(r, 10));
    return { agentId: agent.body.id as string, ended };
  }

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
    const conn = await post('/connections', {
      name: 'everything',
      transport: 'stdio',
      command: 'node',
      args: EVERYTHING,
    });
    connectionId = conn.body.id;
    assert.equal((await post(`/connections/${connectionId}/tools/refresh`)).status, 200);
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
    const { agentId, ended: onB } = await longCallOnB('runaway');
    await new Promise((r) => setTimeout(r, 300));
    const stop = await post(`/agents/${agentId}/stop`);
    assert.equal(stop.status, 200, stop.text);
    const acked = Date.now();
    const ended = await onB;
    assert.equal(ended.ok, false, 'the call on B did not run its 20 s');
    assert.equal(ended.code, 'agent_stopped');
    assert.ok(ended.at - acked < 2000, `B ended the call ${ended.at - acked} ms after the stop`);
    await assert.rejects(
      b.gateway.call({
        orgId: acme.id,
        agentId,
        connectionId,
        tool: 'trigger-long-running-operation',
        args: { duration: 1, steps: 1 },
        requestId: 'replica-test-2',
      }),
      (err: { code?: string }) => err.code === 'agent_stopped',
    );
  });

  test('a stop sent while B was not listening still ends its call: B catches up when it is back', async () => {
    const { agentId, ended: onB } = await longCallOnB('missed');
    // Both replicas' listeners are cut (a network blip); the stop's notification goes nowhere.
    const received = b.sessions.stats.received;
    const resyncs = b.sessions.stats.resyncs;
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where query = 'LISTEN paddock_stop'`.execute(
      t.store.db,
    );
    const stop = await post(`/agents/${agentId}/stop`);
    assert.equal(stop.status, 200, stop.text);
    const ended = await Promise.race([
      onB,
      new Promise<{ code: string }>((r) => setTimeout(() => r({ code: 'still running' }), 5000)),
    ]);
    assert.equal(ended.code, 'agent_stopped');
    assert.equal(b.sessions.stats.received, received, 'B never got the notification');
    assert.ok(b.sessions.stats.resyncs > resyncs, 'B caught up after reconnecting');
  });
});
