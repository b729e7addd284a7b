/**
 * Each agent's `tools/list` kept in memory (both engines): a second list reads no grant or tool
 * row; then every change that bears on it shows at once through `/mcp/{org}` (the official MCP
 * client, server-everything refreshed for real) on the replica that made it and on a second one
 * with its own cache (on PostgreSQL its own connection pool): a grant added, a grant revoked, a
 * tool a `*` grant covers appearing on refresh, a grant suspended by a changed definition, the
 * connection removed, the agent stopped.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type ServerType, serve } from '@hono/node-server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { bubblewrap } from '../cells/index.ts';
import { loadConfig } from '../config/index.ts';
import { createLogger } from '../log/index.ts';
import { buildDeps } from '../server/deps.ts';
import { openStore, type Store } from '../store/index.ts';
import { call, createApp, type SeededOrg, seedOrg } from '../testing/fixtures.ts';
import { notingStore } from '../testing/query-log.ts';
import { EVERYTHING } from '../testing/served.ts';
import { onCleanup, openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { ListedTools } from './listed-tools.ts';

for (const kind of STORE_KINDS) {
  describe(`tools/list kept in memory [${kind}]`, () => {
    let t: TestStore;
    let acme: SeededOrg;
    let connectionId: string;
    const replicas: Array<{ app: ReturnType<typeof createApp>; server: ServerType; port: number }> = [];
    const clients: Client[] = [];

    async function replica(store: Store, home: string) {
      const deps = buildDeps(
        loadConfig({ home, port: 0, databaseUrl: t.databaseUrl }, {}),
        createLogger({ level: 'silent' }),
        store,
        {},
        { provider: bubblewrap, problem: null },
      );
      deps.audit.start();
      onCleanup(t.store, async () => {
        await deps.runs.close();
        await deps.cells?.close();
        await deps.gateway.close();
        await deps.audit.close();
      });
      const app = createApp(deps);
      const server = await new Promise<ServerType>((resolve) => {
        const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
      });
      replicas.push({ app, server, port: (server.address() as AddressInfo).port });
    }
    const api = (method: 'get' | 'post' | 'delete', path: string, body?: unknown) =>
      call(replicas[0]!.app, method, `/api/v1/orgs/acme${path}`, {
        token: acme.people.admin.token,
        ...(body === undefined ? {} : { body }),
      });
    const refresh = async () => {
      const r = await api('post', `/connections/${connectionId}/tools/refresh`);
      assert.equal(r.status, 200, r.text);
      return r.body as { suspended: string[] };
    };

    /** A new agent, and an MCP client of it on each replica. */
    async function newAgent(name: string) {
      const agent = await api('post', '/agents', {
        name,
        scope: 'organization',
        instructions: 'x',
        model: { provider: 'openai', model: 'gpt-5' },
      });
      assert.equal(agent.status, 201, agent.text);
      const token = (await api('post', `/agents/${agent.body.id}/tokens`, { name: 'laptop' })).body.token;
      return { id: agent.body.id as string, token: token as string, listed: await sessionsOf(token) };
    }

    /** A session of the agent token on each replica: what each lists, sorted, asserted equal. */
    async function sessionsOf(token: string) {
      const on = await Promise.all(
        replicas.map(async ({ port }) => {
          const c = new Client({ name: 'listed-tools-test', version: '1.0.0' });
          await c.connect(
            new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/acme`), {
              requestInit: { headers: { authorization: `Bearer ${token}` } },
            }),
          );
          clients.push(c);
          return c;
        }),
      );
      return async () => {
        const all = await Promise.all(
          on.map(async (c) => (await c.listTools()).tools.map((x) => x.name).sort()),
        );
        for (const other of all.slice(1)) assert.deepEqual(other, all[0], 'every replica lists the same');
        return all[0]!;
      };
    }
    const grant = async (agentId: string, tool: string) => {
      const g = await api('post', `/agents/${agentId}/grants`, { connectionId, tool });
      assert.equal(g.status, 201, g.text);
      return g.body.id as string;
    };

    before(async () => {
      const check = await bubblewrap.check();
      assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
      t = await openTestStore(kind);
      acme = await seedOrg(t.store, 'acme');
      await replica(t.store, `${t.home}/a`);
      // The second replica: on PostgreSQL its own pool of connections to the same database.
      const second = t.databaseUrl
        ? await openStore({ home: `${t.home}/b`, databaseUrl: t.databaseUrl, migrate: false })
        : t.store;
      if (second !== t.store) onCleanup(t.store, () => second.close());
      await replica(second, `${t.home}/b`);
      const conn = await api('post', '/connections', {
        name: 'everything',
        transport: 'stdio',
        command: 'node',
        args: EVERYTHING,
      });
      assert.equal(conn.status, 201, conn.text);
      connectionId = conn.body.id;
      await refresh();
    });
    after(async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      for (const r of replicas) await new Promise<void>((res) => r.server.close(() => res()));
      await t?.cleanup();
    });

    test('a second list reads no grant, connection or tool row', async () => {
      const agent = await newAgent('cached');
      await grant(agent.id, 'echo');
      const { store, noting } = notingStore(t.store);
      const listed = new ListedTools(store.db);
      const first: string[] = [];
      const tools = await noting(first, () => listed.of(acme.id, agent.id));
      assert.deepEqual(
        tools.map((x) => x.name),
        ['everything__echo'],
      );
      assert.ok(first.includes('select:connection_tools'), first.join(' '));
      const second: string[] = [];
      assert.equal(await noting(second, () => listed.of(acme.id, agent.id)), tools, 'the same list, kept');
      assert.deepEqual(
        second.filter((q) => /grants|connections|connection_tools/.test(q)),
        [],
        `read: ${second.join(' ')}`,
      );
      assert.equal(second.length, 1, 'one query: the versions');
    });

    test('a grant added or revoked shows at once, on every replica', async () => {
      const agent = await newAgent('grants');
      assert.deepEqual(await agent.listed(), []);
      const echo = await grant(agent.id, 'echo');
      assert.deepEqual(await agent.listed(), ['everything__echo']);
      await grant(agent.id, 'get-sum');
      assert.deepEqual(await agent.listed(), ['everything__echo', 'everything__get-sum']);
      assert.deepEqual(await agent.listed(), ['everything__echo', 'everything__get-sum'], 'kept');
      const revoked = await api('delete', `/agents/${agent.id}/grants/${echo}`);
      assert.ok(revoked.status < 300, revoked.text);
      assert.deepEqual(await agent.listed(), ['everything__get-sum']);
    });

    test('a tool a `*` grant covers shows once a refresh lists it; a changed definition suspends its grant at once', async () => {
      const agent = await newAgent('refreshes');
      await grant(agent.id, '*');
      const all = await agent.listed();
      assert.ok(all.includes('everything__echo') && all.length > 3, all.join(' '));
      // As if an earlier listing had not had `echo`: the next refresh brings it (a new tool).
      await t.store.db
        .deleteFrom('connection_tools')
        .where('connection_id', '=', connectionId)
        .where('name', '=', 'echo')
        .execute();
      assert.deepEqual(
        await agent.listed(),
        all.filter((n) => n !== 'everything__echo'),
      );
      await refresh();
      assert.deepEqual(await agent.listed(), all);
      // A grant pinned to a definition the server no longer gives: the refresh suspends it.
      const pinned = await newAgent('pinned');
      const g = await grant(pinned.id, 'get-sum');
      assert.deepEqual(await pinned.listed(), ['everything__get-sum']);
      await t.store.db.updateTable('grants').set({ tool_digest: 'v3:0000' }).where('id', '=', g).execute();
      assert.deepEqual(await pinned.listed(), ['everything__get-sum'], 'still active until the refresh');
      const { suspended } = await refresh();
      assert.ok(suspended.includes(g), `suspended: ${suspended.join(' ')}`);
      assert.deepEqual(await pinned.listed(), []);
    });

    test('a stopped agent and a removed connection show nothing at once', async () => {
      const agent = await newAgent('stops');
      await grant(agent.id, 'echo');
      assert.deepEqual(await agent.listed(), ['everything__echo']);
      const stop = await api('post', `/agents/${agent.id}/stop`);
      assert.equal(stop.status, 200, stop.text);
      // The stop ended its sessions; initialized again, it is shown nothing.
      await assert.rejects(agent.listed(), /Session not found/);
      assert.deepEqual(await (await sessionsOf(agent.token))(), []);
      const other = await newAgent('other');
      await grant(other.id, 'echo');
      assert.deepEqual(await other.listed(), ['everything__echo']);
      const removed = await api('delete', `/connections/${connectionId}`);
      assert.ok(removed.status < 300, removed.text);
      assert.deepEqual(await other.listed(), []);
    });
  });
}

describe('tools/list kept in memory: the budget counts what is kept', () => {
  test('a list rebuilt while its JSON is being made is counted once: the budget follows the list kept', async () => {
    const t = await openTestStore('sqlite');
    try {
      const tools = (n: number) =>
        Array.from({ length: n }, (_, i) => ({
          name: `ns__t${i}`,
          description: 'd',
          inputSchema: { type: 'object' as const },
        }));
      const held: Array<() => void> = [];
      const lists = new ListedTools(t.store.db, async () => {
        await new Promise<void>((r) => held.push(r));
        return tools(500);
      });
      // A plain tools/list (its JSON) and an SDK one (the list) for the same agent, both building at once.
      const plain = lists.json('org_a', 'agt_a');
      const sdk = lists.of('org_a', 'agt_a');
      while (held.length < 2) await new Promise((r) => setImmediate(r));
      for (const release of held) release();
      const [json] = await Promise.all([plain, sdk]);
      assert.deepEqual(JSON.parse(json.toString()), tools(500));
      // The list kept, and its JSON once made: nothing more is counted.
      const made = await lists.json('org_a', 'agt_a');
      assert.equal(held.length, 2, 'the kept list served, not built again');
      assert.equal(lists.keptBytes, 500 * 1024 + made.length);
    } finally {
      await t.cleanup();
    }
  });
});
