/**
 * Metrics and traces as an operator meets them, over real HTTP (both engines): `/metrics` parsed
 * with a Prometheus text parser moves with the requests, gate calls (the official MCP SDK client
 * on `/mcp/{org}`) and agent runs (a real org cell, a scripted model) the test makes, answers
 * only the scrape token, and carries no secret, name or message; an in-process OTLP receiver sees
 * one trace per run, with a span for each model call and each tool call, under the trace id the
 * run's audit entries name; and with no endpoint configured, nothing is traced or sent.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type ServerType, serve } from '@hono/node-server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { parse as parseYaml } from 'yaml';
import { microUsd } from '../budgets/index.ts';
import { bubblewrap } from '../cells/index.ts';
import { loadConfig } from '../config/index.ts';
import { runTrace } from '../ids/index.ts';
import { silentLogger } from '../log/index.ts';
import { buildDeps, type Deps, PLATFORM_JOBS } from '../server/deps.ts';
import { call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { type ModelServer, type ModelTurn, startModelServer } from '../testing/model-server/index.ts';
import { type OtlpReceiver, otlpReceiver } from '../testing/otlp.ts';
import { type Family, parsePrometheusText, total } from '../testing/prometheus-text.ts';
import { readPromQL } from '../testing/promql.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';
import { LABEL_VALUES, METRICS } from './index.ts';

const EVERYTHING = ['node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'];
const KEY = 'sk-telemetry-e2e-7c1d93ab02f4e5d6';
const SCRAPE = 'scrape-6b1f0e9d2c7a48e3b5d1';
const MESSAGE = 'please echo the word periwinkle';

for (const kind of STORE_KINDS) {
  describe(`metrics and traces [${kind}]`, () => {
    let t: TestStore;
    let deps: Deps;
    let app: ReturnType<typeof createApp>;
    let server: ServerType;
    let port: number;
    let models: ModelServer;
    let otlp: OtlpReceiver;
    // Both of OTLP's encodings, one per engine: protobuf (the default) and JSON.
    const protocol = kind === 'sqlite' ? 'http/protobuf' : 'http/json';
    let acme: SeededOrg;
    let agentId: string;
    let agentToken: string;
    const scripts = new Map<string, ModelTurn[]>();
    const clients: Client[] = [];

    const api = (method: 'get' | 'post' | 'patch', path: string, body?: unknown) =>
      call(app, method, `/api/v1/orgs/acme${path}`, {
        token: acme.people.admin.token,
        ...(body === undefined ? {} : { body }),
      });
    const http = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${port}${path}`, init);
    const scrape = async (): Promise<{ text: string; families: Family[] }> => {
      const r = await http('/metrics', { headers: { authorization: `Bearer ${SCRAPE}` } });
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await r.text();
      return { text, families: parsePrometheusText(text) };
    };

    before(async () => {
      const check = await bubblewrap.check();
      assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
      otlp = await otlpReceiver();
      models = await startModelServer(
        (req) => scripts.get(req.lastUserText)?.shift() ?? { text: 'nothing scripted' },
      );
      t = await openTestStore(kind);
      deps = buildDeps(
        loadConfig(
          { home: t.home, port: 0, databaseUrl: t.databaseUrl },
          {
            PADDOCK_METRICS_TOKEN: SCRAPE,
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlp.url,
            ...(protocol === 'http/json' ? { OTEL_EXPORTER_OTLP_PROTOCOL: protocol } : {}),
          },
        ),
        silentLogger,
        t.store,
        {},
        { provider: bubblewrap, problem: null },
      );
      deps.audit.start();
      app = createApp(deps);
      server = await new Promise<ServerType>((resolve) => {
        const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
      });
      port = (server.address() as AddressInfo).port;
      acme = await seedOrg(t.store, 'acme');
      const settings = await call(app, 'patch', '/api/v1/orgs/acme', {
        token: acme.people.owner.token,
        body: {
          settings: {
            egressAllowlist: [
              { host: '127.0.0.1', port: Number(new URL(models.url).port), allowPrivate: true },
            ],
          },
        },
      });
      assert.equal(settings.status, 200, settings.text);
      const key = await api('post', '/secrets', {
        name: 'openai',
        kind: 'model_key',
        provider: 'openai',
        value: KEY,
        baseUrl: `${models.url}/v1`,
      });
      assert.equal(key.status, 201, key.text);
      const conn = await api('post', '/connections', {
        name: 'everything',
        transport: 'stdio',
        command: 'node',
        args: EVERYTHING,
      });
      assert.equal(conn.status, 201, conn.text);
      assert.equal((await api('post', `/connections/${conn.body.id}/tools/refresh`)).status, 200);
      const agent = await api('post', '/agents', {
        name: 'helper',
        scope: 'organization',
        instructions: 'Help briefly.',
        model: { provider: 'openai', model: 'gpt-test' },
      });
      agentId = agent.body.id;
      const g = await api('post', `/agents/${agentId}/grants`, { connectionId: conn.body.id, tool: 'echo' });
      assert.equal(g.status, 201, g.text);
      agentToken = (await api('post', `/agents/${agentId}/tokens`, { name: 'laptop' })).body.token;
    });

    after(async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      await deps?.runs.close();
      await deps?.cells?.close();
      await deps?.gateway.close();
      deps?.siem.close();
      await deps?.audit.close();
      await deps?.telemetry.close();
      await models?.close();
      await otlp?.close();
      await t?.cleanup();
    });

    test('/metrics answers only the scrape token: none or another answers 401, and nothing is counted for them', async () => {
      const none = await http('/metrics');
      assert.equal(none.status, 401);
      assert.equal(((await none.json()) as any).error.code, 'unauthenticated');
      const wrong = await http('/metrics', { headers: { authorization: `Bearer ${SCRAPE}x` } });
      assert.equal(wrong.status, 401);
      assert.equal(((await wrong.json()) as any).error.code, 'invalid_scrape_token');
      const person = await http('/metrics', {
        headers: { authorization: `Bearer ${acme.people.owner.token}` },
      });
      assert.equal(person.status, 401, 'an API token is no scrape token');
      const { families } = await scrape();
      assert.equal(total(families, METRICS.httpRequests, { route: '/metrics', status: '401' }), 3);
      // The process's own figures come along (prom-client's defaults).
      assert.ok(total(families, 'process_cpu_user_seconds_total') > 0);
    });

    test('the counters move with HTTP requests and gate calls from the official MCP client; outcomes are told apart', async () => {
      const before = (await scrape()).families;
      const client = new Client({ name: 'external-agent', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/acme`), {
          requestInit: { headers: { authorization: `Bearer ${agentToken}` } },
        }),
      );
      clients.push(client);
      for (let i = 0; i < 3; i++) {
        const r = await client.callTool({ name: 'everything__echo', arguments: { message: `m${i}` } });
        assert.ok(!r.isError, JSON.stringify(r));
      }
      const denied = await client.callTool({ name: 'everything__get-env', arguments: {} });
      assert.equal(denied.isError, true);
      // A tool the connection lacks (no grant allows it: denied), and a name of no connection
      // of the org (nothing to decide on: unknown).
      for (const name of ['everything__no-such-tool', 'nowhere__echo']) {
        const unknown = await client.callTool({ name, arguments: {} });
        assert.equal(unknown.isError, true);
      }
      for (let i = 0; i < 2; i++) assert.equal((await http('/healthz')).status, 200);
      assert.equal((await http('/api/v1/orgs/acme/nothing-here')).status, 404);
      await deps.audit.flush();
      const { families } = await scrape();
      const moved = (name: string, labels: Record<string, string> = {}) =>
        total(families, name, labels) - total(before, name, labels);
      const org = acme.id;
      assert.equal(moved(METRICS.gateCalls, { org, outcome: 'allowed' }), 3);
      assert.equal(moved(METRICS.gateCalls, { org, outcome: 'denied' }), 2);
      assert.equal(moved(METRICS.gateCalls, { org, outcome: 'unknown' }), 1, 'the call of an unknown name');
      assert.equal(moved(METRICS.gateCalls, { org }), 6);
      assert.equal(moved(METRICS.gateSeconds, { outcome: 'allowed' }), 3);
      assert.equal(total(families, METRICS.gateInFlight), 0);
      assert.equal(moved(METRICS.httpRequests, { route: '/healthz', method: 'GET', status: '200' }), 2);
      assert.equal(moved(METRICS.httpSeconds, { route: '/healthz' }), 2);
      assert.equal(moved(METRICS.httpRequests, { route: 'unmatched', status: '404' }), 1);
      // initialize, initialized, 4 calls (the MCP client's requests, each by its route template).
      assert.ok(moved(METRICS.httpRequests, { route: '/mcp/{org}', method: 'POST' }) >= 5);
      assert.ok(moved(METRICS.auditAppendSeconds) >= 3, 'allowed calls wait for their record');
      assert.ok(moved(METRICS.auditCommitEvents) >= 1, 'commits happened (syncs)');
      assert.equal(total(families, METRICS.mcpServers, { org }), 1, 'one server-everything for the agent');
      assert.equal(total(families, METRICS.auditQueue), 0);
      assert.ok(total(families, METRICS.auditCheckpointAge, { log: org }) >= 0);
      assert.ok(families.some((f) => f.name === METRICS.auditUnsigned));
    });

    test('a run: started and completed, its model steps and tokens by provider and model, its cell ready; one trace with its model and tool calls, named by its audit entries', async () => {
      const before = (await scrape()).families;
      scripts.set(MESSAGE, [
        {
          toolCalls: [{ name: 'everything__echo', args: { message: 'periwinkle' } }],
          usage: { input: 30, output: 5 },
        },
        { text: 'It said periwinkle.', usage: { input: 40, output: 6 } },
      ]);
      const r = await call(app, 'post', `/api/v1/orgs/acme/agents/${agentId}/runs`, {
        token: acme.people.member.token,
        body: { message: MESSAGE },
      });
      assert.equal(r.body.status, 'completed', r.text);
      const runId: string = r.body.id;
      await deps.audit.flush();
      const { families, text } = await scrape();
      const moved = (name: string, labels: Record<string, string> = {}) =>
        total(families, name, labels) - total(before, name, labels);
      const org = acme.id;
      assert.equal(moved(METRICS.runsStarted, { org }), 1);
      assert.equal(moved(METRICS.runsEnded, { org, status: 'completed' }), 1);
      assert.equal(moved(METRICS.stepSeconds), 2);
      assert.equal(moved(METRICS.modelTokens, { model: 'gpt-test', kind: 'input' }), 70);
      assert.equal(moved(METRICS.modelTokens, { model: 'gpt-test', kind: 'output' }), 11);
      assert.equal(moved(METRICS.gateCalls, { org, outcome: 'allowed' }), 1);
      assert.equal(total(families, METRICS.cellState, { org, state: 'ready' }), 1);
      assert.equal(total(families, METRICS.cellState, { org }), 1, 'one state at a time');
      // The cell's memory, once a heartbeat has told it.
      await until(async () => total((await scrape()).families, METRICS.cellMemory, { org }) > 0, {
        what: 'the cell memory metric',
      });
      assert.equal(total(families, METRICS.cellRestarts, { org }), 0);
      assert.equal(total(families, METRICS.runsInFlight), 0);

      // Nothing but org ids: no secret, token, name, e-mail or message text.
      const people = Object.values(acme.people);
      for (const secret of [
        KEY,
        SCRAPE,
        agentToken,
        MESSAGE,
        'periwinkle',
        'acme',
        'helper',
        'laptop',
        agentId,
      ])
        assert.ok(!text.includes(secret), `${secret} in the metrics`);
      for (const p of people) for (const s of [p.token, p.email, p.id]) assert.ok(!text.includes(s));

      // The trace: the run's trace id is the one its audit entries carry.
      await deps.telemetry.tracing!.flush();
      const { traceId } = runTrace(runId);
      const entries = (await api('get', `/runs/${runId}`)).body.audit as Array<{
        action: string;
        details: any;
      }>;
      assert.ok(entries.length >= 5);
      for (const e of entries) assert.equal(e.details.traceId, traceId, `${e.action} names the run's trace`);
      const spans = otlp.spans.filter((s) => s.traceId === traceId);
      const root = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'invoke_agent');
      assert.equal(root.length, 1, 'one invoke_agent span');
      assert.equal(root[0]!.parentSpanId, undefined, 'the run is the root of its trace');
      assert.equal(root[0]!.spanId, runTrace(runId).spanId);
      assert.equal(root[0]!.attributes['gen_ai.agent.id'], agentId);
      assert.equal(root[0]!.attributes['paddock.run.status'], 'completed');
      assert.equal(root[0]!.attributes['gen_ai.usage.input_tokens'], 70);
      const chats = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
      assert.equal(chats.length, 2, 'a span for each model call');
      for (const c of chats) {
        assert.equal(c.parentSpanId, root[0]!.spanId);
        assert.equal(c.attributes['gen_ai.request.model'], 'gpt-test');
        assert.equal(c.attributes['gen_ai.provider.name'], 'openai', "the conventions' name");
      }
      const tools = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'execute_tool');
      assert.equal(tools.length, 1, 'a span for each tool call');
      assert.equal(tools[0]!.parentSpanId, root[0]!.spanId);
      assert.equal(tools[0]!.attributes['gen_ai.tool.name'], 'everything__echo');
      assert.equal(tools[0]!.attributes['paddock.gate.outcome'], 'allowed');
      const allowed = entries.find((e) => e.action === 'tool.call.allowed') as any;
      assert.equal(tools[0]!.attributes['paddock.audit.entry_id'], allowed.id);
      // No message content: the platform did not allow it.
      const all = JSON.stringify(spans);
      assert.ok(!all.includes('periwinkle') && !all.includes(KEY));
    });

    test('HTTP spans by route template, and the gate span of an MCP call under its request', async () => {
      await deps.telemetry.tracing!.flush();
      const requests = otlp.spans.filter((s) => s.name === 'POST /mcp/{org}');
      assert.ok(requests.length >= 4);
      const gate = otlp.spans.filter(
        (s) => s.attributes['gen_ai.operation.name'] === 'execute_tool' && !s.attributes['paddock.run.id'],
      );
      assert.equal(gate.length, 5, 'three allowed, two denied (the unknown name has no span)');
      for (const g of gate) {
        const parent = requests.find((h) => h.spanId === g.parentSpanId);
        assert.ok(parent, 'under its HTTP request');
        assert.equal(parent.traceId, g.traceId);
        assert.equal(parent.attributes['http.route'], '/mcp/{org}');
      }
      assert.equal(gate.filter((g) => g.attributes['paddock.gate.outcome'] === 'denied').length, 2);
      assert.ok(!otlp.spans.some((s) => JSON.stringify(s).includes('acme')), 'no org slug in spans');
      const sent = protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
      assert.ok(otlp.contentTypes.length > 0);
      assert.deepEqual(new Set(otlp.contentTypes), new Set([sent]), `every request in ${protocol}`);
    });

    test("an admin's test call through the API: its gate span under that request's span", async () => {
      const connectionId = (await api('get', '/connections')).body.connections[0].id as string;
      const r = await api('post', `/agents/${agentId}/calls`, {
        connectionId,
        tool: 'echo',
        args: { message: 'tried' },
      });
      assert.equal(r.status, 200, r.text);
      await deps.telemetry.tracing!.flush();
      const route = '/api/v1/orgs/{org}/agents/{agent}/calls';
      const request = otlp.spans.filter((s) => s.attributes['http.route'] === route);
      assert.equal(request.length, 1);
      const tool = otlp.spans.filter((s) => s.parentSpanId === request[0]!.spanId);
      assert.equal(tool.length, 1, 'the gate span under the request');
      assert.equal(tool[0]!.attributes['gen_ai.operation.name'], 'execute_tool');
      assert.equal(tool[0]!.traceId, request[0]!.traceId);
    });

    test('a tool span that cannot be ended changes nothing of the call: answered, and the in-flight gauge back at 0', async () => {
      const connectionId = (await api('get', '/connections')).body.connections[0].id as string;
      const tracing = deps.telemetry.tracing! as unknown as Record<string, unknown>;
      tracing.toolDone = () => {
        throw new Error('the span writer broke');
      };
      try {
        const r = await api('post', `/agents/${agentId}/calls`, {
          connectionId,
          tool: 'echo',
          args: { message: 'still answered' },
        });
        assert.equal(r.status, 200, r.text);
        assert.equal(total((await scrape()).families, METRICS.gateInFlight), 0);
      } finally {
        delete tracing.toolDone;
      }
    });

    test("a caller's traceparent over HTTP is continued: its trace, under its span; a malformed one starts a trace of its own", async () => {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const parent = '00f067aa0ba902b7';
      const traced = await http('/healthz', { headers: { traceparent: `00-${traceId}-${parent}-01` } });
      assert.equal(traced.status, 200);
      const bad = await http('/readyz', { headers: { traceparent: `00-${traceId.toUpperCase()}-zz-01` } });
      await bad.arrayBuffer();
      await deps.telemetry.tracing!.flush();
      const continued = otlp.spans.filter((s) => s.name === 'GET /healthz' && s.traceId === traceId);
      assert.equal(continued.length, 1, 'the caller’s trace continued');
      assert.equal(continued[0]!.parentSpanId, parent, 'under the caller’s span');
      const fresh = otlp.spans.filter((s) => s.name === 'GET /readyz');
      assert.ok(fresh.length >= 1);
      assert.ok(
        fresh.every((s) => s.traceId !== traceId && s.traceId !== traceId.toUpperCase() && !s.parentSpanId),
      );
    });

    test('budgets: tokens and spend against the budgets of the org agents that have them, the agent nearest its budget, and a run refused by one counted by its reason', async () => {
      const price = { inputPerMTok: 10, outputPerMTok: 30 };
      const priced = await call(app, 'put', '/api/v1/orgs/acme/model-prices', {
        token: acme.people.admin.token,
        body: { provider: 'openai', model: 'gpt-test', ...price },
      });
      assert.equal(priced.status, 200, priced.text);
      const agent = async (name: string, limits: Record<string, unknown>) => {
        const r = await api('post', '/agents', {
          name,
          scope: 'organization',
          instructions: 'Help briefly.',
          model: { provider: 'openai', model: 'gpt-test', maxOutputTokens: 50 },
          limits,
        });
        assert.equal(r.status, 201, r.text);
        return r.body.id as string;
      };
      const budgeted = await agent('budgeted', { tokensPerDay: 10_000, spend: { usd: 2, per: 'month' } });
      const tight = await agent('tight', { tokensPerDay: 10 });
      const before = (await scrape()).families;
      scripts.set('budgeted question', [{ text: 'A short answer.', usage: { input: 30, output: 5 } }]);
      const ok = await call(app, 'post', `/api/v1/orgs/acme/agents/${budgeted}/runs`, {
        token: acme.people.member.token,
        body: { message: 'budgeted question' },
      });
      assert.equal(ok.body.status, 'completed', ok.text);
      const refused = await call(app, 'post', `/api/v1/orgs/acme/agents/${tight}/runs`, {
        token: acme.people.member.token,
        body: { message: 'tight question' },
      });
      assert.equal(refused.body.status, 'failed', refused.text);
      assert.equal(refused.body.error.code, 'token_limit');
      const { families } = await scrape();
      const org = acme.id;
      assert.equal(total(families, METRICS.budgetTokensUsed, { org }), 35);
      assert.equal(total(families, METRICS.budgetTokensLimit, { org }), 10_010);
      assert.equal(total(families, METRICS.budgetUsedRatio, { org, budget: 'tokens_per_day' }), 35 / 10_000);
      const spent = microUsd(price, 30, 5) / 1e6;
      assert.ok(spent > 0);
      assert.equal(total(families, METRICS.budgetSpendUsed, { org, per: 'month' }), spent);
      assert.equal(total(families, METRICS.budgetSpendLimit, { org, per: 'month' }), 2);
      assert.equal(total(families, METRICS.budgetUsedRatio, { org, budget: 'spend' }), spent / 2);
      assert.ok(
        !families.some((f) => f.samples.some((x) => x.labels.per === 'day')),
        'no day budget, no day series',
      );
      const moved = (name: string, labels: Record<string, string>) =>
        total(families, name, labels) - total(before, name, labels);
      assert.equal(moved(METRICS.runsFailed, { org, reason: 'token_limit' }), 1);
      assert.equal(moved(METRICS.runsEnded, { org, status: 'failed' }), 1);
    });

    test('a call waiting for approval, a run paused for it, and the audit trail read from the store: checkpoint age, entries not yet signed, SIEM lag', async () => {
      const careful = await api('post', '/agents', {
        name: 'careful',
        scope: 'organization',
        instructions: 'Help briefly.',
        model: { provider: 'openai', model: 'gpt-test' },
      });
      const connectionId = (await api('get', '/connections')).body.connections[0].id as string;
      const g = await api('post', `/agents/${careful.body.id}/grants`, {
        connectionId,
        tool: 'echo',
        requiresApproval: true,
      });
      assert.equal(g.status, 201, g.text);
      const before = (await scrape()).families;
      scripts.set('careful question', [
        { toolCalls: [{ name: 'everything__echo', args: { message: 'hi' } }] },
      ]);
      const r = await call(app, 'post', `/api/v1/orgs/acme/agents/${careful.body.id}/runs`, {
        token: acme.people.member.token,
        body: { message: 'careful question' },
      });
      assert.equal(r.body.status, 'waiting_approval', r.text);
      const org = acme.id;
      // The org's log signed as it stands, then grown by one entry; a SIEM that has delivered 3.
      await deps.audit.flush();
      await deps.audit.checkpoint(org);
      await deps.audit.append({ orgId: org, actor: { type: 'system', id: 'test' }, action: 'test.after' });
      await deps.audit.flush();
      const size = Number(
        (
          await t.store.db
            .selectFrom('audit_logs')
            .select('tree_size')
            .where('id', '=', org)
            .executeTakeFirstOrThrow()
        ).tree_size,
      );
      await t.store.db
        .insertInto('audit_cursors')
        .values({ sink: 'siem', log_id: org, position: 3 })
        .execute();
      const { families } = await scrape();
      const moved = (name: string, labels: Record<string, string>) =>
        total(families, name, labels) - total(before, name, labels);
      assert.equal(total(families, METRICS.approvalsWaiting, { org }), 1);
      assert.equal(moved(METRICS.gateCalls, { org, outcome: 'approval_required' }), 1);
      assert.equal(moved(METRICS.runsEnded, { org, status: 'waiting_approval' }), 1);
      const age = families
        .find((f) => f.name === METRICS.auditCheckpointAge)!
        .samples.find((x) => x.labels.log === org);
      assert.ok(age && age.value >= 0 && age.value < 60, `checkpoint age ${age?.value}`);
      assert.equal(total(families, METRICS.auditUnsigned, { log: org }), 1, 'the entry after the checkpoint');
      assert.equal(total(families, METRICS.auditSiemLag, { log: org }), size - 3);
      assert.equal(total(families, METRICS.auditOutbox), 0);
      await t.store.db.deleteFrom('audit_cursors').where('log_id', '=', org).execute();
    });

    test('scheduled jobs: each platform job with its interval, none failing, none run yet', async () => {
      const { families } = await scrape();
      for (const job of PLATFORM_JOBS) {
        assert.equal(
          total(families, METRICS.jobInterval, { name: job.name }),
          job.intervalMs / 1000,
          job.name,
        );
        assert.equal(total(families, METRICS.jobFailing, { name: job.name }), 0);
      }
      const age = families.find((f) => f.name === METRICS.jobSuccessAge);
      assert.deepEqual(age?.samples, [], 'no age before a first success');
    });

    test('after the tour: no secret, name or message text in the scrape; closed labels take only their values; every metric the dashboard and the alert rules read is exposed', async () => {
      const { text, families } = await scrape();
      // Nothing but org ids: no secret, token, name, e-mail, id of an agent or person, or message text.
      const agents = (await api('get', '/agents')).body.agents as Array<{ id: string; name: string }>;
      assert.ok(agents.length >= 3);
      const forbidden = [
        KEY,
        SCRAPE,
        agentToken,
        MESSAGE,
        'periwinkle',
        'budgeted question',
        'careful question',
        'acme',
        'laptop',
      ];
      for (const a of agents) forbidden.push(a.id, a.name);
      for (const p of Object.values(acme.people)) forbidden.push(p.token, p.email, p.id);
      for (const secret of forbidden) assert.ok(!text.includes(secret), `${secret} in the metrics`);
      for (const f of families)
        for (const [label, values] of Object.entries(
          LABEL_VALUES[f.name.replace(/_(bucket|sum|count)$/, '')] ?? {},
        ))
          for (const x of f.samples)
            if (label in x.labels)
              assert.ok(values.includes(x.labels[label]!), `${f.name}{${label}="${x.labels[label]}"}`);
      // The dashboard and the alert rules, against the real exposition.
      const exposed = new Set<string>();
      for (const f of families) {
        exposed.add(f.name);
        if (f.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exposed.add(f.name + s);
      }
      const doc = (name: string) =>
        readFileSync(new URL(`../../docs/monitoring/${name}`, import.meta.url), 'utf8');
      const rules = parseYaml(doc('paddock-alerts.yml')) as {
        groups: Array<{ rules: Array<{ expr: string }> }>;
      };
      const dash = JSON.parse(doc('grafana-dashboard.json')) as {
        panels: Array<{ targets?: Array<{ expr: string }> }>;
      };
      const exprs = [
        ...rules.groups.flatMap((g) => g.rules.map((r) => r.expr)),
        ...dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
      ];
      assert.ok(exprs.length > 40);
      for (const expr of exprs)
        for (const s of readPromQL(expr, () => new Set()).selectors)
          assert.ok(exposed.has(s.metric), `${s.metric} (in ${expr}) is not in /metrics`);
    });
  });
}

describe('without a scrape token or an OTLP endpoint', () => {
  test('metrics are off (404 to a scraper, 401 to no one), no span is made and nothing is sent', async () => {
    // The OTLP exporter's default address: whatever sends to it by default would be seen here.
    const receiver = await otlpReceiver(4318).catch(() => null);
    const t = await openTestStore('sqlite');
    try {
      const deps = testDeps(t.store, t.home);
      assert.equal(deps.telemetry.metrics, null);
      assert.equal(deps.telemetry.tracing, null);
      assert.equal(deps.telemetry.gate, undefined, 'no observer on the gate at all');
      const app = createApp(deps);
      const none = await call(app, 'get', '/metrics');
      assert.equal(none.status, 401);
      const scraper = await call(app, 'get', '/metrics', { token: SCRAPE });
      assert.equal(scraper.status, 404);
      assert.equal(scraper.body.error.code, 'metrics_off');
      const acme = await seedOrg(t.store, 'acme');
      assert.equal(
        (await call(app, 'get', '/api/v1/orgs/acme', { token: acme.people.owner.token })).status,
        200,
      );
      await new Promise((r) => setTimeout(r, 200));
      if (receiver) assert.equal(receiver.posts, 0, 'nothing was sent to the default OTLP address');
    } finally {
      await receiver?.close();
      await t.cleanup();
    }
  });

  test('a scrape token too short to be secret, or an endpoint that is no URL, stops the start', () => {
    assert.throws(() => loadConfig({}, { PADDOCK_METRICS_TOKEN: 'short' }), /at least 16/);
    assert.throws(() => loadConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }), /not a URL/);
    const c = loadConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' });
    assert.equal(c.tracesEndpoint, 'http://collector:4318/v1/traces');
  });

  test('the OTel sampler settings: every trace by default, a ratio when asked, a misspelling refused', () => {
    assert.deepEqual(loadConfig({}, {}).traceSampler, { name: 'always_on', parentBased: true, ratio: 1 });
    assert.deepEqual(
      loadConfig({}, { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' })
        .traceSampler,
      { name: 'traceidratio', parentBased: true, ratio: 0.25 },
    );
    assert.deepEqual(loadConfig({}, { OTEL_TRACES_SAMPLER: 'always_off' }).traceSampler, {
      name: 'always_off',
      parentBased: false,
      ratio: 1,
    });
    assert.throws(
      () => loadConfig({}, { OTEL_TRACES_SAMPLER: 'sometimes' }),
      /OTEL_TRACES_SAMPLER is one of/,
    );
    for (const arg of ['2', '-0.1', 'half', '1e-2x'])
      assert.throws(
        () => loadConfig({}, { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: arg }),
        /a number from 0 to 1/,
      );
  });

  test('the OTLP encoding: protobuf by default (as OTel’s), JSON when asked, the traces’ own setting first, gRPC refused', () => {
    assert.equal(loadConfig({}, {}).traceProtocol, 'http/protobuf');
    assert.equal(loadConfig({}, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).traceProtocol, 'http/json');
    assert.equal(
      loadConfig(
        {},
        { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' },
      ).traceProtocol,
      'http/protobuf',
    );
    assert.throws(
      () => loadConfig({}, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
      /OTEL_EXPORTER_OTLP_PROTOCOL is http\/protobuf or http\/json \(gRPC is not supported\), not "grpc"/,
    );
    assert.throws(
      () => loadConfig({}, { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'json' }),
      /OTEL_EXPORTER_OTLP_TRACES_PROTOCOL is http\/protobuf or http\/json/,
    );
  });

  test('the batch span processor settings: the SDK’s by default, OTel’s names to change them, nonsense refused', () => {
    assert.deepEqual(loadConfig({}, {}).traceBatch, { scheduledDelayMillis: 5000, maxExportBatchSize: 512 });
    assert.deepEqual(
      loadConfig({}, { OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '128' }).traceBatch,
      { scheduledDelayMillis: 100, maxExportBatchSize: 128 },
    );
    for (const bad of ['0', '-1', '1.5', 'soon', '99999999'])
      assert.throws(
        () => loadConfig({}, { OTEL_BSP_SCHEDULE_DELAY: bad }),
        /OTEL_BSP_SCHEDULE_DELAY is a whole number/,
      );
    assert.throws(
      () => loadConfig({}, { OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '4096' }),
      /OTEL_BSP_MAX_EXPORT_BATCH_SIZE is a whole number from 1 to 2048/,
    );
  });
});
