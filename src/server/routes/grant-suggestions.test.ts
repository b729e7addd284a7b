/**
 * Grant suggestions over the API, and AgentDojo's banking suite end to end through `/mcp/{org}`
 * (both engines): its MCP server (official SDK) as an HTTP connection; an agent's denied calls
 * on record become suggestions a person accepts through the ordinary grants API; then, for each
 * user task, an agent holding the accepted suggestions for its ground-truth calls calls them
 * through the official MCP client (all allowed, all reach the server) and every injection task's
 * calls (each refused and never reaching the server, but the task's own calls and the one pair
 * not expressible).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { canonical } from '../../testing/agentdojo/replay.ts';
import { type ServedSuite, serveSuite } from '../../testing/agentdojo/server.ts';
import { attackCalls, loadSuites, type Suite } from '../../testing/agentdojo/suites.ts';
import { call, type SeededOrg, seedOrg } from '../../testing/fixtures.ts';
import { type ServedPaddock, servePaddock } from '../../testing/served.ts';
import { STORE_KINDS, type TestStore } from '../../testing/stores.ts';

const banking = loadSuites().suites.find((s) => s.name === 'banking') as Suite;
/** The one banking pair whose attacker call no suggestion can stop (replay.test.ts says why). */
const NOT_EXPRESSIBLE = new Set(['user_task_14/injection_task_7/update_password']);

type Result = { isError?: boolean; content: Array<{ type: string; text?: string }> };
const textOf = (r: Result) => r.content.map((c) => c.text ?? '').join('');

for (const kind of STORE_KINDS) {
  describe(`grant suggestions, and AgentDojo banking through /mcp/{org} [${kind}]`, () => {
    let paddock: ServedPaddock;
    let t: TestStore;
    let app: ServedPaddock['app'];
    let port: number;
    let acme: SeededOrg;
    let suite: ServedSuite;
    let connectionId: string;
    const clients: Client[] = [];
    const api = (method: 'get' | 'post' | 'patch' | 'delete', path: string, body?: unknown, token?: string) =>
      call(app, method, `/api/v1/orgs/acme${path}`, {
        token: token ?? acme.people.admin.token,
        ...(body === undefined ? {} : { body }),
      });

    async function newAgent(name: string): Promise<{ id: string; client: Client }> {
      const agent = await api('post', '/agents', {
        name,
        scope: 'organization',
        instructions: 'x',
        model: { provider: 'openai', model: 'gpt-5' },
      });
      assert.equal(agent.status, 201, agent.text);
      const token = (await api('post', `/agents/${agent.body.id}/tokens`, { name: 'replay' })).body.token;
      const client = new Client({ name: 'agentdojo-replay', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/acme`), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      clients.push(client);
      return { id: agent.body.id, client };
    }
    const callTool = async (client: Client, tool: string, args: Record<string, unknown>) =>
      (await client.callTool({ name: `banking__${tool}`, arguments: args })) as Result;
    const observed = (calls: Array<{ function: string; args: Record<string, unknown> }>) =>
      calls.map((c) => ({ connectionId, tool: c.function, args: c.args }));
    /** A person accepts each suggestion: saved through the grants API as it stands. */
    async function accept(agentId: string, suggestions: Array<{ grant: unknown }>) {
      for (const s of suggestions) {
        const saved = await api('post', `/agents/${agentId}/grants`, s.grant);
        assert.equal(saved.status, 201, saved.text);
      }
    }

    before(async () => {
      paddock = await servePaddock(kind, { env: { PADDOCK_PUBLIC_URL: 'https://paddock.example' } });
      ({ t, app } = paddock);
      port = Number(new URL(paddock.url).port);
      acme = await seedOrg(t.store, 'acme');
      suite = await serveSuite(banking);
      const target = new URL(suite.url);
      const allow = await api(
        'patch',
        '',
        {
          settings: {
            egressAllowlist: [{ host: '127.0.0.1', port: Number(target.port), allowPrivate: true }],
          },
        },
        acme.people.owner.token,
      );
      assert.equal(allow.status, 200, allow.text);
      const conn = await api('post', '/connections', { name: 'banking', transport: 'http', url: suite.url });
      assert.equal(conn.status, 201, conn.text);
      connectionId = conn.body.id;
      const listed = await api('post', `/connections/${connectionId}/tools/refresh`);
      assert.equal(listed.status, 200, listed.text);
      assert.deepEqual(
        listed.body.tools.map((x: { name: string }) => x.name).sort(),
        banking.tools.map((x) => x.name).sort(),
      );
    });

    after(async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      await paddock?.close();
      await suite?.close();
    });

    test("an agent's denied calls on record become suggestions; accepted, the same calls are allowed and nothing else", async () => {
      const task = banking.userTasks.find((x) => x.id === 'user_task_0')!;
      const { id, client } = await newAgent('dry-run');
      for (const c of task.calls) {
        const r = await callTool(client, c.function, c.args);
        assert.match(
          textOf(r),
          /^tool_denied: No grant allows this agent to call/,
          'a new agent can call nothing',
        );
      }
      const before = suite.received.length;
      const got = await api('get', `/agents/${id}/grant-suggestions`);
      assert.equal(got.status, 200, got.text);
      assert.equal(got.body.observed, task.calls.length);
      assert.deepEqual(got.body.suggestions.map((s: { grant: { tool: string } }) => s.grant.tool).sort(), [
        'read_file',
        'send_money',
      ]);
      const money = got.body.suggestions.find(
        (s: { grant: { tool: string } }) => s.grant.tool === 'send_money',
      );
      assert.deepEqual(money.grant.constraints, [
        { arg: 'amount', min: 98.7 },
        { arg: 'amount', max: 98.7 },
        { arg: 'date', oneOf: ['2022-01-01'] },
        { arg: 'recipient', oneOf: ['UK12345678901234567890'] },
        { arg: 'subject', notContains: ['://', 'www.'] },
      ]);
      // Each was refused by the gate, and says so (an injected call is refused too: read before accepting).
      for (const s of got.body.suggestions) assert.equal(s.refused, s.calls, JSON.stringify(s));
      // The same calls given as a list suggest the same grants (refused only if the list says so).
      const posted = await api('post', `/agents/${id}/grant-suggestions`, { calls: observed(task.calls) });
      assert.equal(posted.status, 200, posted.text);
      const grantsOf = (b: { suggestions: Array<{ grant: unknown }> }) => b.suggestions.map((s) => s.grant);
      assert.deepEqual(grantsOf(posted.body), grantsOf(got.body));
      assert.ok(posted.body.suggestions.every((s: { refused: number }) => s.refused === 0));
      const postedRefused = await api('post', `/agents/${id}/grant-suggestions`, {
        calls: observed(task.calls).map((c: object) => ({ ...c, refused: true })),
      });
      assert.equal(postedRefused.status, 200, postedRefused.text);
      assert.deepEqual(postedRefused.body.suggestions, got.body.suggestions);
      assert.equal(
        (await api('get', `/agents/${id}/grants`)).body.grants.length,
        0,
        'suggesting grants nothing',
      );
      await accept(id, got.body.suggestions);
      for (const c of task.calls) {
        const r = await callTool(client, c.function, c.args);
        assert.equal(r.isError ?? false, false, textOf(r));
      }
      assert.equal(suite.received.length, before + task.calls.length);
      const r = await callTool(client, 'send_money', {
        ...task.calls[1]!.args,
        recipient: 'US133000000121212121212',
      });
      assert.match(textOf(r), /^tool_denied: .*recipient is one of "UK12345678901234567890"/);
      const audit = await api('get', `/audit?action=grant.created&limit=10`);
      assert.equal(audit.status, 200, audit.text);
      assert.equal(
        audit.body.events.filter((e: { target: { id: string } }) => e.target.id === id).length,
        2,
        'accepting is the audited grant creation',
      );
    });

    test("a suggestion keeps the approval the agent's grants ask for its tool: it never drops a person's check", async () => {
      const task = banking.userTasks.find((x) => x.id === 'user_task_0')!;
      const { id } = await newAgent('approving');
      const approvalOf = async () =>
        Object.fromEntries(
          (
            await api('post', `/agents/${id}/grant-suggestions`, { calls: observed(task.calls) })
          ).body.suggestions.map((x: { grant: { tool: string; requiresApproval: boolean } }) => [
            x.grant.tool,
            x.grant.requiresApproval,
          ]),
        );
      assert.deepEqual(await approvalOf(), { read_file: false, send_money: false });
      const grant = (tool: string) =>
        api('post', `/agents/${id}/grants`, {
          connectionId,
          tool,
          effect: 'allow',
          constraints: [],
          requiresApproval: true,
        });
      assert.equal((await grant('send_money')).status, 201);
      assert.deepEqual(await approvalOf(), { read_file: false, send_money: true });
      assert.equal((await grant('*')).status, 201, 'a connection-wide grant stands for each tool');
      assert.deepEqual(await approvalOf(), { read_file: true, send_money: true });
    });

    test('suggestions refuse what is not theirs: a member, another org’s agent, a bad call list', async () => {
      const { id } = await newAgent('someone');
      const asMember = await api(
        'get',
        `/agents/${id}/grant-suggestions`,
        undefined,
        acme.people.member.token,
      );
      assert.equal(asMember.status, 403, asMember.text);
      const other = await seedOrg(t.store, 'other');
      const cross = await call(app, 'get', `/api/v1/orgs/other/agents/${id}/grant-suggestions`, {
        token: other.people.admin.token,
      });
      assert.equal(cross.status, 404, cross.text);
      for (const body of [{ calls: [] }, { calls: [{ connectionId, tool: '' }] }, { calls: 'x' }, {}]) {
        const r = await api('post', `/agents/${id}/grant-suggestions`, body);
        assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      }
      const elsewhere = await call(app, 'post', '/api/v1/orgs/other/connections', {
        token: other.people.admin.token,
        body: { name: 'theirs', transport: 'http', url: 'https://mcp.other.test/mcp' },
      });
      assert.equal(elsewhere.status, 201, elsewhere.text);
      const alien = await api('post', `/agents/${id}/grant-suggestions`, {
        calls: [{ connectionId: elsewhere.body.id, tool: 'send_money', args: {} }],
      });
      assert.equal(alien.status, 404, 'another org’s connection is not found');
      assert.equal(alien.body.error.code, 'connection_not_found');
      const unknown = await api('post', `/agents/${id}/grant-suggestions`, {
        calls: [{ connectionId, tool: 'transfer_everything', args: {} }],
      });
      assert.equal(unknown.status, 200, unknown.text);
      assert.deepEqual(unknown.body.suggestions, []);
      assert.deepEqual(unknown.body.unknownTools, [{ connectionId, tool: 'transfer_everything', calls: 1 }]);
    });

    test('banking end to end: each user task under its accepted suggestions — its calls allowed, every attacker call refused but its own and the one not expressible', async () => {
      let userCalls = 0;
      let attackerCalls = 0;
      let refused = 0;
      const through: string[] = [];
      for (const task of banking.userTasks) {
        const { id, client } = await newAgent(`replay-${task.id}`);
        const s = await api('post', `/agents/${id}/grant-suggestions`, { calls: observed(task.calls) });
        assert.equal(s.status, 200, s.text);
        await accept(id, s.body.suggestions);
        for (const c of task.calls) {
          const before = suite.received.length;
          const r = await callTool(client, c.function, c.args);
          assert.equal(r.isError ?? false, false, `${task.id} ${c.function}: ${textOf(r)}`);
          assert.equal(suite.received.length, before + 1, 'the allowed call reached the server');
          userCalls++;
        }
        const own = new Set(task.calls.map((c) => `${c.function}${canonical(c.args)}`));
        for (const inj of banking.injectionTasks) {
          for (const c of attackCalls(inj)) {
            attackerCalls++;
            const before = suite.received.length;
            const r = await callTool(client, c.function, c.args);
            if (/^tool_denied: /.test(textOf(r))) {
              refused++;
              assert.equal(suite.received.length, before, 'a refused call never reaches the server');
              continue;
            }
            assert.equal(r.isError ?? false, false, textOf(r));
            if (own.has(`${c.function}${canonical(c.args)}`)) continue;
            through.push(`${task.id}/${inj.id}/${c.function}`);
          }
        }
      }
      assert.equal(userCalls, 33);
      assert.equal(attackerCalls, 16 * 12);
      assert.deepEqual(through, [...NOT_EXPRESSIBLE]);
      assert.ok(refused >= attackerCalls - 4, `${refused} of ${attackerCalls} refused`);
    });
  });
}
