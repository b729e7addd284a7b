/**
 * What servers say back, through the gate (both engines, real servers in the org's sandbox: the
 * npm server-everything, and a noisy one), to the official SDK client over an in-memory transport
 * and compared with the same client talking to server-everything directly: progress arrives under
 * the agent's token and keeps a long tool alive past the call timeout; sampling and elicitation
 * are refused (on record, by size) unless a grant allows them and the client declared them, then
 * answer as directly; a server that cancels its own request has it cancelled at the agent; log
 * lines pass at the level chosen; subscriptions are decided like reads and their updates arrive
 * namespaced, and end with the agent; a list change re-lists the connection and tells the agent
 * (recorded once per change, not once per session that says it);
 * a noisy server's huge, malformed, secret-bearing or flooding notifications are cut, scrubbed or
 * dropped, on record. Over HTTP with SSE answers, a request's progress reaches the client; a
 * server per request cannot relay a sampling request. Over HTTP end to end — the official client
 * with a session on /mcp/{org}, against the same server reached directly: progress on the call's
 * SSE answer (past a short client timeout, and past the progress of a wait for approval), log
 * lines, list changes and subscribed updates on the session's GET stream, sampling and
 * elicitation answered by POST or refused in words, a DELETEd session ending its subscription,
 * the kill switch ending subscriptions and streams.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ServerType, serve } from '@hono/node-server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type CallToolResult,
  CancelledNotificationSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
  type McpError,
  type Progress,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { sql } from 'kysely';
import pg from 'pg';
import { bubblewrap } from '../cells/index.ts';
import { loadConfig } from '../config/index.ts';
import { hashSecret } from '../identity/index.ts';
import { silentLogger } from '../log/index.ts';
import { buildDeps } from '../server/deps.ts';
import { allAuditEntries, call, createApp, type SeededOrg, seedOrg } from '../testing/fixtures.ts';
import { leakedForms } from '../testing/leaks.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';
import { BusSeal } from './bus-seal.ts';
import { ToolGateway } from './gate.ts';
import { agentServer, serveAgent } from './mcp-server.ts';
import { McpSessions } from './mcp-sessions/index.ts';
import { MAX_SUBSCRIPTIONS_PER_SESSION } from './relay-bounds.ts';

const EVERYTHING = ['node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'];
const EVERYTHING_MAIN = fileURLToPath(new URL(`../../${EVERYTHING[0]}`, import.meta.url));
const NOISY = fileURLToPath(new URL('../testing/noisy-mcp-server.ts', import.meta.url));
const SECRET = 'noisy-SECRET-9f8e7d6c5b4a';
const CAPABLE = { capabilities: { sampling: {}, elicitation: {} } };
const MODEL_ANSWER = {
  model: 'test-model',
  role: 'assistant' as const,
  content: { type: 'text' as const, text: 'the model says hi' },
};
const PERSON_ANSWER = { action: 'accept' as const, content: { name: 'Ada Lovelace', check: true } };

const text = (r: unknown) => ((r as CallToolResult).content[0] as { text?: string } | undefined)?.text ?? '';

for (const kind of STORE_KINDS) {
  describe(`server → agent traffic through the gate [${kind}]`, () => {
    let t: TestStore;
    let deps: ReturnType<typeof buildDeps>;
    let app: ReturnType<typeof createApp>;
    let acme: SeededOrg;
    let gate: ToolGateway;
    let agentId: string;
    let everything: string;
    let noisy: string;
    const closing: Array<{ close: () => Promise<void> }> = [];
    const api = (method: 'get' | 'post' | 'delete', path: string, body?: unknown) =>
      call(app, method, `/api/v1/orgs/acme${path}`, {
        token: acme.people.admin.token,
        ...(body === undefined ? {} : { body }),
      });
    const grant = async (body: Record<string, unknown>) => {
      const r = await api('post', `/agents/${agentId}/grants`, body);
      assert.equal(r.status, 201, r.text);
      return r.body.id as string;
    };
    const entries = async (action: string) => {
      await deps.audit.flush();
      return (await allAuditEntries(t.store))
        .filter((e) => e.action === action)
        .map((e) => ({ ...e, details: JSON.parse(String(e.details)) as Record<string, unknown> }));
    };

    /** What the agent's client saw: sampling and elicitation requests, notifications. */
    interface Seen {
      sampled: unknown[];
      elicited: unknown[];
      logs: Array<{ level: string; data?: unknown }>;
      updated: string[];
      listChanged: number;
      /** The ids of requests a handler that never answers was asked, and the ids the client was told were cancelled. */
      hung: Array<string | number>;
      cancelled: Array<string | number>;
    }

    function handlers(client: Client, seen: Seen, hang = false) {
      try {
        client.setRequestHandler(CreateMessageRequestSchema, async (req, extra) => {
          seen.sampled.push(req.params);
          if (!hang) return MODEL_ANSWER;
          seen.hung.push(extra.requestId);
          return new Promise((_r, reject) =>
            extra.signal.addEventListener('abort', () => reject(new Error('gone'))),
          );
        });
        client.setRequestHandler(ElicitRequestSchema, async (req) => {
          seen.elicited.push(req.params);
          return PERSON_ANSWER;
        });
      } catch {
        // A client that declared neither takes no such handlers.
      }
      // Noted as received (the SDK's own handler ignores a cancellation of request id 0).
      client.setNotificationHandler(CancelledNotificationSchema, (n) => {
        if (n.params.requestId !== undefined) seen.cancelled.push(n.params.requestId);
      });
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void seen.logs.push(n.params));
      client.setNotificationHandler(
        ResourceUpdatedNotificationSchema,
        (n) => void seen.updated.push(n.params.uri),
      );
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        seen.listChanged++;
      });
    }

    const fresh = (): Seen => ({
      sampled: [],
      elicited: [],
      logs: [],
      updated: [],
      listChanged: 0,
      hung: [],
      cancelled: [],
    });

    /** The agent's client connected to the gate (in memory), declaring sampling and elicitation unless told not to. */
    async function agent(o: { capable?: boolean; hang?: boolean } = {}) {
      const [mine, theirs] = InMemoryTransport.createLinkedPair();
      const server: Server = await serveAgent(
        { gate, db: t.store.db, log: silentLogger },
        {
          caller: { orgId: acme.id, agentId, onBehalfOf: acme.people.admin.id, requestId: 'req_relays' },
          approval: 'return',
        },
        theirs,
      );
      const client = new Client({ name: 'agent', version: '1' }, o.capable === false ? {} : CAPABLE);
      const seen = fresh();
      handlers(client, seen, o.hang ?? false);
      await client.connect(mine);
      closing.push(client, server);
      return { client, server, seen };
    }

    /** The same client, straight to server-everything (no Paddock). */
    async function direct() {
      const client = new Client({ name: 'direct', version: '1' }, CAPABLE);
      const seen = fresh();
      handlers(client, seen);
      await client.connect(
        new StdioClientTransport({ command: process.execPath, args: [EVERYTHING_MAIN, 'stdio'] }),
      );
      closing.push(client);
      return { client, seen };
    }

    /** Sampling and elicitation asked through Paddock answer as server-everything answers directly. */
    async function sameAsDirect(
      a: { client: Client; seen: Seen },
      d: { client: Client; seen: Seen },
      prompt: string,
    ) {
      const args = { name: 'trigger-sampling-request', arguments: { prompt } };
      const viaDirect = await d.client.callTool(args);
      const through = await a.client.callTool({ ...args, name: `everything__${args.name}` });
      assert.equal(text(through), text(viaDirect));
      assert.match(text(through), /the model says hi/);
      assert.deepEqual(a.seen.sampled, d.seen.sampled);
      const e = { name: 'trigger-elicitation-request', arguments: {} };
      const eDirect = await d.client.callTool(e);
      const eThrough = await a.client.callTool({ ...e, name: `everything__${e.name}` });
      assert.equal(text(eThrough), text(eDirect));
      assert.deepEqual(a.seen.elicited, d.seen.elicited);
    }

    before(async () => {
      const check = await bubblewrap.check();
      assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
      t = await openTestStore(kind);
      deps = buildDeps(
        loadConfig({ home: t.home, port: 0, databaseUrl: t.databaseUrl }, {}),
        silentLogger,
        t.store,
        {},
        { provider: bubblewrap, problem: null },
      );
      deps.audit.start();
      app = createApp(deps);
      acme = await seedOrg(t.store, 'acme');
      // A short call timeout: a tool that reports progress must outlive it.
      gate = new ToolGateway({
        db: t.store.db,
        audit: deps.audit,
        opener: deps.opener,
        log: silentLogger,
        callTimeoutMs: 1500,
      });
      const secret = await api('post', '/secrets', {
        name: 'noisy',
        kind: 'connector_credential',
        value: SECRET,
      });
      assert.equal(secret.status, 201, secret.text);
      everything = (
        await api('post', '/connections', {
          name: 'everything',
          transport: 'stdio',
          command: 'node',
          args: EVERYTHING,
        })
      ).body.id;
      noisy = (
        await api('post', '/connections', {
          name: 'noisy',
          transport: 'stdio',
          command: 'node',
          args: [NOISY],
          env: { NOISY_SECRET: secret.body.id },
        })
      ).body.id;
      for (const id of [everything, noisy])
        assert.equal((await api('post', `/connections/${id}/tools/refresh`)).status, 200);
      agentId = (
        await api('post', '/agents', {
          name: 'relayed',
          scope: 'organization',
          instructions: 'x',
          model: { provider: 'openai', model: 'gpt-5' },
        })
      ).body.id;
      for (const tool of [
        'trigger-long-running-operation',
        'trigger-sampling-request',
        'trigger-elicitation-request',
        'toggle-simulated-logging',
        'toggle-subscriber-updates',
      ])
        await grant({ connectionId: everything, tool });
      for (const tool of ['noise', 'ask-then-give-up', 'endless']) await grant({ connectionId: noisy, tool });
    });
    after(async () => {
      for (const c of closing.reverse()) await c.close().catch(() => undefined);
      await gate?.close();
      await deps?.gateway.close();
      await deps?.cells?.close();
      await deps?.audit.close();
      await t?.cleanup();
    });

    test('a long tool reports progress under the agent’s own token, as directly, and outlives the call timeout', async () => {
      const args = { name: 'trigger-long-running-operation', arguments: { duration: 4, steps: 8 } };
      const d = await direct();
      const directProgress: unknown[] = [];
      const viaDirect = await d.client.callTool(args, undefined, {
        onprogress: (p) => directProgress.push(p),
      });
      const a = await agent();
      const progress: unknown[] = [];
      const through = await a.client.callTool({ ...args, name: `everything__${args.name}` }, undefined, {
        onprogress: (p) => progress.push(p),
      });
      // Four seconds against a 1.5-second timeout: progress kept it alive.
      assert.equal(through.isError, false, text(through));
      assert.equal(text(through), text(viaDirect));
      assert.deepEqual(
        progress,
        [1, 2, 3, 4, 5, 6, 7, 8].map((progress) => ({ progress, total: 8 })),
      );
      // A direct SDK client may lose the last one (settled with the answer in one read): Paddock's does not.
      for (const p of directProgress)
        assert.ok(progress.some((q) => JSON.stringify(q) === JSON.stringify(p)));
      assert.ok(directProgress.length >= 7);
    });

    test('sampling and elicitation are refused by default, on record without their text; nothing reaches the client', async () => {
      const a = await agent();
      const sampled = await a.client.callTool({
        name: 'everything__trigger-sampling-request',
        arguments: { prompt: 'tell me a secret plan' },
      });
      assert.match(
        text(sampled),
        /sampling_denied: No grant allows this agent to pass on requests for its model from/,
      );
      const elicited = await a.client.callTool({
        name: 'everything__trigger-elicitation-request',
        arguments: {},
      });
      assert.match(text(elicited), /elicitation_denied: No grant allows/);
      assert.equal(a.seen.sampled.length + a.seen.elicited.length, 0);
      const [denied] = await entries('sampling.request.denied');
      assert.ok(denied, 'the refusal is on record');
      assert.equal(denied.actor_id, agentId);
      assert.equal(denied.target_id, `${everything}/*`);
      const args = denied.details.args as Record<string, unknown>;
      assert.equal(args.messages, 1);
      assert.equal(args.maxTokens, 100);
      assert.doesNotMatch(JSON.stringify(denied.details), /secret plan/);
      assert.equal((await entries('elicitation.request.denied')).length, 1);
    });

    test('granted, sampling and elicitation reach a client that declared them and answer as directly', async () => {
      const samplingGrant = await grant({ connectionId: everything, sampling: true });
      await grant({ connectionId: everything, elicitation: true });
      const d = await direct();
      await sameAsDirect(await agent(), d, 'hello');
      const [allowed] = await entries('sampling.request.allowed');
      assert.deepEqual(allowed?.details.grants, [samplingGrant]);
      const [completed] = await entries('sampling.request.completed');
      assert.equal(completed?.details.error, null);
      assert.doesNotMatch(JSON.stringify(completed?.details), /the model says hi/);
      // A client that did not declare sampling is not asked, whatever the grants: refused, on record.
      const plain = await agent({ capable: false });
      const refused = await plain.client.callTool({
        name: 'everything__trigger-sampling-request',
        arguments: { prompt: 'hello' },
      });
      assert.match(text(refused), /sampling_denied: The agent's client did not declare sampling/);
      const denials = await entries('sampling.request.denied');
      assert.match(String(denials.at(-1)?.details.reason), /did not declare sampling/);
    });

    test('a server that cancels its own request has it cancelled at the agent’s client', async () => {
      const a = await agent({ hang: true });
      await grant({ connectionId: noisy, sampling: true });
      const r = await a.client.callTool({ name: 'noisy__ask-then-give-up', arguments: { afterMs: 300 } });
      assert.match(text(r), /^gave up: /);
      assert.equal(a.seen.hung.length, 1);
      await until(() => a.seen.cancelled.length > 0, { what: 'the cancellation to reach the agent' });
      assert.deepEqual(a.seen.cancelled, a.seen.hung);
      const [ended] = (await entries('sampling.request.completed')).filter(
        (e) => e.target_id === `${noisy}/*`,
      );
      assert.equal(ended?.details.error, 'cancelled by the server');
    });

    test('the kill switch ends a relayed request with the call it rides on', async () => {
      const a = await agent({ hang: true });
      const pending = a.client.callTool({
        name: 'everything__trigger-sampling-request',
        arguments: { prompt: 'x' },
      });
      await until(() => a.seen.hung.length === 1, { what: 'the sampling request to reach the agent' });
      await gate.end({ kind: 'agent', orgId: acme.id, agentId });
      assert.match(text(await pending), /^agent_stopped: /);
      await until(() => a.seen.cancelled.length > 0, { what: 'the cancellation to reach the agent' });
      assert.deepEqual(a.seen.cancelled, a.seen.hung);
    });

    test('log lines reach the agent once it chose a level, as they reach a direct client', async () => {
      const a = await agent();
      await a.client.setLoggingLevel('debug');
      const d = await direct();
      await d.client.setLoggingLevel('debug');
      for (const c of [a.client, d.client]) {
        const prefix = c === a.client ? 'everything__' : '';
        await c.callTool({ name: `${prefix}toggle-simulated-logging`, arguments: {} });
      }
      const simulated = (s: Seen) => s.logs.some((l) => /level.message/i.test(String(l.data)));
      await until(() => simulated(a.seen) && simulated(d.seen), { what: 'a simulated log line on both' });
      for (const c of [a.client, d.client]) {
        const prefix = c === a.client ? 'everything__' : '';
        await c.callTool({ name: `${prefix}toggle-simulated-logging`, arguments: {} });
      }
    });

    test('a subscription is decided like a read: ungranted denied on record; granted, its updates arrive namespaced; the kill switch ends it, and so does revoking its grant', async () => {
      const a = await agent();
      const uri = 'demo://resource/dynamic/text/1';
      await assert.rejects(
        a.client.subscribeResource({ uri: `everything+${uri}` }),
        (err: McpError) =>
          err.code === -32003 &&
          /subscription_denied: No grant allows this agent to subscribe to/.test(err.message),
      );
      const [denied] = await entries('resource.subscribe.denied');
      assert.equal(denied?.target_id, `${everything}/${uri}`);
      const resources = await grant({
        connectionId: everything,
        resource: 'demo://resource/dynamic/text/',
        match: 'prefix',
      });
      await a.client.subscribeResource({ uri: `everything+${uri}` });
      assert.equal((await entries('resource.subscribe.allowed')).length, 1);
      assert.equal(gate.relays.subscriptions, 1);
      await a.client.callTool({ name: 'everything__toggle-subscriber-updates', arguments: {} });
      await until(() => a.seen.updated.length > 0, { what: 'an update' });
      assert.equal(a.seen.updated[0], `everything+${uri}`);
      await a.client.callTool({ name: 'everything__toggle-subscriber-updates', arguments: {} });
      await gate.end({ kind: 'agent', orgId: acme.id, agentId });
      assert.equal(gate.relays.subscriptions, 0);
      // Subscribed again, then the grant revoked: the next update is not relayed, and the subscription ends.
      const b = await agent();
      await b.client.subscribeResource({ uri: `everything+${uri}` });
      assert.equal(gate.relays.subscriptions, 1);
      assert.equal((await api('delete', `/agents/${agentId}/grants/${resources}`)).status, 200);
      await b.client.callTool({ name: 'everything__toggle-subscriber-updates', arguments: {} });
      await until(() => gate.relays.subscriptions === 0, { what: 'the subscription to end with its grant' });
      assert.deepEqual(b.seen.updated, []);
      await b.client.callTool({ name: 'everything__toggle-subscriber-updates', arguments: {} });
    });

    test('a client session holds at most 100 subscriptions: the next is refused in words, nothing kept or passed on', async () => {
      const a = await agent();
      const resources = await grant({
        connectionId: everything,
        resource: 'demo://resource/dynamic/text/',
        match: 'prefix',
      });
      const before = gate.relays.subscriptions;
      for (let i = 1; i <= MAX_SUBSCRIPTIONS_PER_SESSION; i++)
        await a.client.subscribeResource({ uri: `everything+demo://resource/dynamic/text/${i}` });
      // The same one again is no new subscription.
      await a.client.subscribeResource({ uri: 'everything+demo://resource/dynamic/text/1' });
      await assert.rejects(
        a.client.subscribeResource({ uri: 'everything+demo://resource/dynamic/text/101' }),
        (err: McpError) => /too_many_subscriptions/.test(err.message),
      );
      assert.equal(gate.relays.subscriptions, before + MAX_SUBSCRIPTIONS_PER_SESSION);
      await gate.end({ kind: 'agent', orgId: acme.id, agentId });
      assert.equal((await api('delete', `/agents/${agentId}/grants/${resources}`)).status, 200);
    });

    test('a list change re-lists the connection on the agent’s session and tells the agent; the same listing said again by each new session is recorded once', async () => {
      // The record lacks one of the tools server-everything registers once a client is known (as if listed before it did).
      await t.store.db
        .deleteFrom('connection_tools')
        .where('connection_id', '=', everything)
        .where('name', '=', 'simulate-research-query')
        .execute();
      const listings = async () => (await entries('connection.tools.listed')).length;
      /** A fresh session of the agent to server-everything, which says its list changed as it starts. */
      const freshSession = async () => {
        await gate.end({ kind: 'agent', orgId: acme.id, agentId });
        const a = await agent();
        await a.client.callTool({
          name: 'everything__trigger-long-running-operation',
          arguments: { duration: 0, steps: 1 },
        });
        return a;
      };
      const before = await listings();
      const a = await freshSession();
      await until(async () => (await listings()) > before, { what: 'a listing' });
      const listed = (await entries('connection.tools.listed')).at(-1)!;
      assert.equal(listed.actor_id, 'connection-monitor');
      assert.deepEqual(listed.details.secretsOf, { agent: agentId });
      assert.deepEqual(listed.details.suspended, []);
      await until(() => a.seen.listChanged > 0, { what: 'the agent to be told' });
      const stored = await t.store.db
        .selectFrom('connection_tools')
        .select('name')
        .where('connection_id', '=', everything)
        .where('name', '=', 'simulate-research-query')
        .execute();
      assert.equal(stored.length, 1, 'the record has the tool again');
      // Two more new sessions say the same: their agent is told (as directly), nothing more on record.
      for (let i = 0; i < 2; i++) {
        const b = await freshSession();
        await until(() => b.seen.listChanged > 0, { what: 'the agent to be told again' });
      }
      assert.equal(await listings(), before + 1, 'one listing for one change');
    });

    test('over HTTP with SSE answers, a request’s progress reaches the client as directly; a stateless server cannot relay sampling, and says so', async () => {
      // What the endpoint does per request, answering with SSE: a server bound to the caller, on a fresh transport.
      const servers: Server[] = [];
      const http = await new Promise<ServerType>((resolve) => {
        const s = serve(
          {
            fetch: async (request: Request) => {
              const transport = new WebStandardStreamableHTTPServerTransport({
                sessionIdGenerator: undefined,
              });
              const server = agentServer(
                { gate, db: t.store.db, log: silentLogger },
                {
                  caller: { orgId: acme.id, agentId, onBehalfOf: null, requestId: 'req_http' },
                  approval: 'return',
                  signal: request.signal,
                },
              );
              servers.push(server);
              await server.connect(transport);
              return transport.handleRequest(request);
            },
            port: 0,
            hostname: '127.0.0.1',
          },
          () => resolve(s),
        );
      });
      try {
        const client = new Client({ name: 'agent-over-http', version: '1' }, CAPABLE);
        handlers(client, fresh());
        await client.connect(
          new StreamableHTTPClientTransport(
            new URL(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`),
          ),
        );
        closing.push(client);
        const progress: unknown[] = [];
        const r = await client.callTool(
          { name: 'everything__trigger-long-running-operation', arguments: { duration: 2, steps: 4 } },
          undefined,
          { onprogress: (p) => progress.push(p) },
        );
        assert.equal(r.isError, false, text(r));
        // (The SDK's own client can lose a progress that shares a read with the answer.)
        assert.ok(progress.length >= 3, JSON.stringify(progress));
        assert.deepEqual(
          progress.slice(0, 3),
          [1, 2, 3].map((progress) => ({ progress, total: 4 })),
        );
        const sampled = await client.callTool({
          name: 'everything__trigger-sampling-request',
          arguments: { prompt: 'x' },
        });
        assert.match(
          text(sampled),
          /sampling_denied: The agent's client did not declare sampling \(or its transport cannot carry a request to it\)/,
        );
      } finally {
        http.close();
        for (const s of servers) await s.close().catch(() => undefined);
      }
    });

    describe('over HTTP: the official client with a session on /mcp/{org}', () => {
      let http: ServerType;
      let url: string;
      let token: string;
      /** A second agent, whose long tool needs a person's approval. */
      let waiting: { id: string; token: string };
      const asOwner = (method: 'patch' | 'post', path: string, body: unknown) =>
        call(app, method, `/api/v1/orgs/acme${path}`, { token: acme.people.owner.token, body });
      const tokenOf = async (id: string) => {
        const r = await api('post', `/agents/${id}/tokens`, { name: 'laptop' });
        assert.equal(r.status, 201, r.text);
        return r.body.token as string;
      };

      /** The agent's client over Streamable HTTP: it initializes a session and opens its GET stream. */
      async function overHttp(o: { capable?: boolean; as?: string; fetch?: FetchLike } = {}) {
        const client = new Client(
          { name: 'agent-over-http', version: '1' },
          o.capable === false ? {} : CAPABLE,
        );
        const seen = fresh();
        handlers(client, seen);
        const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp/acme`), {
          requestInit: { headers: { authorization: `Bearer ${o.as ?? token}` } },
          ...(o.fetch ? { fetch: o.fetch } : {}),
        });
        await client.connect(transport);
        closing.push(client);
        const sessionId = transport.sessionId!;
        assert.match(sessionId, /^[A-Za-z0-9_-]{43}$/);
        await until(() => deps.mcpSessions.streamsOf(sessionId) === 1, { what: 'the GET stream' });
        return { client, seen, sessionId, transport };
      }

      before(async () => {
        http = await new Promise<ServerType>((resolve) => {
          const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
        });
        url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
        token = await tokenOf(agentId);
        const made = await api('post', '/agents', {
          name: 'waits',
          scope: 'organization',
          instructions: 'x',
          model: { provider: 'openai', model: 'gpt-5' },
        });
        assert.equal(made.status, 201, made.text);
        waiting = { id: made.body.id, token: await tokenOf(made.body.id) };
        const r = await api('post', `/agents/${waiting.id}/grants`, {
          connectionId: everything,
          tool: 'trigger-long-running-operation',
          requiresApproval: true,
        });
        assert.equal(r.status, 201, r.text);
      });
      after(() => void http?.close());

      test('a long tool’s progress comes on the call’s SSE answer under the client’s token, as directly, and outlives a short client timeout; the server’s list change reaches the GET stream', async () => {
        const a = await overHttp();
        const args = { name: 'trigger-long-running-operation', arguments: { duration: 4, steps: 8 } };
        const d = await direct();
        const viaDirect = await d.client.callTool(args);
        const progress: Progress[] = [];
        const through = await a.client.callTool({ ...args, name: `everything__${args.name}` }, undefined, {
          onprogress: (p) => void progress.push(p),
          // Four seconds against a two-second timeout (progress every half second, so a loaded
          // machine's slow start or late progress does not end it): progress keeps the call alive.
          timeout: 2_000,
          resetTimeoutOnProgress: true,
        });
        assert.equal(through.isError, false, text(through));
        assert.equal(text(through), text(viaDirect));
        // (The SDK's client can lose a progress that shares a read with the answer.)
        assert.ok(progress.length >= 5, JSON.stringify(progress));
        assert.deepEqual(
          progress.slice(0, 5),
          [1, 2, 3, 4, 5].map((progress) => ({ progress, total: 8 })),
        );
        // server-everything says its tool list changed once a client is known: listed again, the agent is told.
        await until(() => a.seen.listChanged > 0, { what: 'list_changed on the GET stream' });
      });

      test('after a wait for approval, the tool’s own progress goes on past the waiting progress under the same token', async () => {
        assert.equal((await asOwner('patch', '', { settings: { approvalWaitSeconds: 8 } })).status, 200);
        const a = await overHttp({ as: waiting.token });
        const progress: Progress[] = [];
        const answer = a.client.callTool(
          { name: 'everything__trigger-long-running-operation', arguments: { duration: 1, steps: 2 } },
          undefined,
          { onprogress: (p) => void progress.push(p), timeout: 5_000, resetTimeoutOnProgress: true },
        );
        const pending = await until(
          async () =>
            (await api('get', '/approvals?status=pending')).body.approvals.find(
              (x: { agentId?: string; agent?: { id: string }; tool: string }) =>
                x.tool === 'trigger-long-running-operation',
            ),
          { what: 'the approval request' },
        );
        // Every two seconds (a quarter of the wait): the second says about 2 s waited.
        await until(() => progress.length >= 2, {
          what: 'two waiting progress notifications',
          timeoutMs: 10_000,
        });
        assert.equal((await asOwner('post', `/approvals/${pending.id}/approve`, {})).status, 200);
        const r = await answer;
        assert.equal(r.isError, false, text(r));
        const waited = progress.filter((p) => /Waiting for a person's approval/.test(p.message ?? ''));
        const own = progress.slice(waited.length);
        assert.ok(waited.length >= 1 && own.length >= 1, JSON.stringify(progress));
        for (let i = 1; i < progress.length; i++)
          assert.ok(progress[i]!.progress > progress[i - 1]!.progress, JSON.stringify(progress));
        // The server's 1 of 2 goes on past the last waiting second.
        const offset = Math.floor(waited.at(-1)!.progress) + 1;
        assert.deepEqual(own[0], { progress: 1 + offset, total: 2 + offset });
      });

      test('log lines chosen with logging/setLevel reach the GET stream, as they reach a direct client', async () => {
        const a = await overHttp();
        await a.client.setLoggingLevel('debug');
        const d = await direct();
        await d.client.setLoggingLevel('debug');
        await a.client.callTool({ name: 'everything__toggle-simulated-logging', arguments: {} });
        await d.client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
        const simulated = (s: Seen) => s.logs.filter((l) => /level.message/i.test(String(l.data)));
        await until(() => simulated(a.seen).length > 0 && simulated(d.seen).length > 0, {
          what: 'a simulated log line on both',
        });
        const shape = (l: { level: string; data?: unknown }) => [typeof l.level, typeof l.data];
        assert.deepEqual(shape(simulated(a.seen)[0]!), shape(simulated(d.seen)[0]!));
        await a.client.callTool({ name: 'everything__toggle-simulated-logging', arguments: {} });
        await d.client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
      });

      test("each session keeps its own log level: one client's logging/setLevel neither silences nor floods the agent's other sessions; the level is in the session's row", async () => {
        const quiet = await overHttp();
        const chatty = await overHttp();
        // The quiet one chooses last: the agent's one server session is still told the most
        // verbose (debug), and each client is held to its own where it is delivered.
        await chatty.client.setLoggingLevel('debug');
        await quiet.client.setLoggingLevel('emergency');
        await chatty.client.callTool({ name: 'everything__toggle-simulated-logging', arguments: {} });
        try {
          const simulated = (s: Seen) => s.logs.filter((l) => /message/i.test(String(l.data)));
          // The server logs a line at a random level every 5 s, sent to every session of the agent
          // (the first came on the call's own answer): wait for one below emergency sent so.
          const onTheCall = simulated(chatty.seen).length;
          await until(
            () =>
              simulated(chatty.seen)
                .slice(onTheCall)
                .some((l) => l.level !== 'emergency'),
            {
              what: 'a log line below emergency sent to the chatty session',
              timeoutMs: 60_000,
            },
          );
          await new Promise((r) => setTimeout(r, 300));
          const below = simulated(quiet.seen).filter((l) => l.level !== 'emergency');
          assert.deepEqual(below, [], 'the quiet session hears nothing below emergency');
          // Both levels are kept where every replica reads them.
          const levels = (
            await t.store.db
              .selectFrom('mcp_sessions')
              .select('log_level')
              .where('agent_id', '=', agentId)
              .where('log_level', 'is not', null)
              .execute()
          ).map((r) => r.log_level);
          assert.ok(levels.includes('emergency') && levels.includes('debug'), JSON.stringify(levels));
        } finally {
          await chatty.client.callTool({ name: 'everything__toggle-simulated-logging', arguments: {} });
        }
      });

      test('sampling and elicitation are relayed on the call’s SSE answer to a client that declared them, answered by POST, as directly; a client that did not is refused in words, on record', async () => {
        const d = await direct();
        await sameAsDirect(await overHttp(), d, 'hello over http');
        const plain = await overHttp({ capable: false });
        const before = (await entries('sampling.request.denied')).length;
        const refused = await plain.client.callTool({
          name: 'everything__trigger-sampling-request',
          arguments: { prompt: 'hello over http' },
        });
        assert.match(text(refused), /sampling_denied: The agent's client did not declare sampling/);
        const denials = await entries('sampling.request.denied');
        assert.equal(denials.length, before + 1);
        assert.equal(denials.at(-1)?.actor_id, agentId);
        assert.doesNotMatch(JSON.stringify(denials.at(-1)?.details), /hello over http/);
        assert.deepEqual(plain.seen.sampled, []);
      });

      /** A second replica on the same database, sharing nothing in memory; the client's answers go to it. */
      async function secondReplica() {
        const b = new McpSessions({
          server: { gate: deps.gateway, db: t.store.db, log: silentLogger },
          store: t.store,
          databaseUrl: t.databaseUrl,
          audit: deps.audit,
          log: silentLogger,
          busSeal: new BusSeal((orgId) => deps.vault.dataKeyFor(t.store.db, orgId)),
        });
        await Promise.all([b.listening(), deps.mcpSessions.listening()]);
        const routed: number[] = [];
        const viaB: FetchLike = async (input, init) => {
          const body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
          const sessionId = new Headers(init?.headers).get('mcp-session-id');
          if (init?.method !== 'POST' || !sessionId || !body || !('result' in body))
            return fetch(input, init);
          const row = await t.store.db
            .selectFrom('mcp_sessions')
            .selectAll()
            .where('id_hash', '=', hashSecret(sessionId))
            .executeTakeFirstOrThrow();
          const caller = {
            orgId: acme.id,
            agentId,
            onBehalfOf: row.issued_by,
            requestId: 'req_replica_b',
            token: { id: row.token_id, issuedBy: row.issued_by },
          };
          const res = await b.serve(sessionId, { caller, approval: 'pause' }, new Request(input, init), body);
          routed.push(res.status);
          return res;
        };
        return { b, viaB, routed };
      }

      // Replicas share PostgreSQL (on SQLite there is one).
      if (kind === 'postgres') {
        test('a sampling answer POSTed to another replica reaches the replica that asked, and the call completes as directly', async () => {
          const { b, viaB, routed } = await secondReplica();
          // What crosses between the replicas, as any session on the database that LISTENs sees it.
          const listener = new pg.Client({ connectionString: t.databaseUrl });
          await listener.connect();
          const heard: string[] = [];
          listener.on('notification', (n) => heard.push(n.payload ?? ''));
          await listener.query('LISTEN paddock_mcp');
          try {
            const d = await direct();
            const a = await overHttp({ fetch: viaB });
            const args = { name: 'trigger-sampling-request', arguments: { prompt: 'across replicas' } };
            const viaDirect = await d.client.callTool(args);
            const through = await a.client.callTool({ ...args, name: `everything__${args.name}` });
            // The call can end on its stream before the answer's POST to the other replica is answered.
            await until(() => routed.length > 0, { what: 'the answer’s POST to the other replica answered' });
            assert.deepEqual(routed, [202], 'the answer went to the other replica');
            assert.equal(text(through), text(viaDirect));
            assert.match(text(through), /the model says hi/);
            const answers = heard.filter((p) => p.includes('"kind":"answer"'));
            assert.equal(answers.length, 1, 'the answer crossed on the bus');
            assert.match(answers[0]!, /"sealed":"v1\./);
            assert.ok(
              heard.every((p) => !p.includes('the model says')),
              'the answer never crosses in clear',
            );
          } finally {
            await listener.end();
            await b.close();
          }
        });

        test('a sampling answer over 64 kB reaches the replica that asked through the database, sealed, and is gone once taken', async () => {
          const { b, viaB, routed } = await secondReplica();
          // What the database held meanwhile (a trigger keeps a copy of each row as inserted).
          await sql`create table if not exists held_copy (sealed text)`.execute(t.store.db);
          await sql`create or replace function copy_held() returns trigger as $$ begin insert into held_copy values (new.sealed); return new; end $$ language plpgsql`.execute(
            t.store.db,
          );
          await sql`create or replace trigger copy_held after insert on mcp_passed_answers for each row execute function copy_held()`.execute(
            t.store.db,
          );
          try {
            const big = `${'the model says a lot '.repeat(4_000)}THE END`;
            assert.ok(big.length > 64 * 1024);
            const a = await overHttp({ fetch: viaB });
            a.client.setRequestHandler(CreateMessageRequestSchema, async () => ({
              ...MODEL_ANSWER,
              content: { type: 'text', text: big },
            }));
            const through = await a.client.callTool({
              name: 'everything__trigger-sampling-request',
              arguments: { prompt: 'a long answer across replicas' },
            });
            // The call can end on its stream before the answer's POST to the other replica is answered.
            await until(() => routed.length > 0, { what: 'the answer’s POST to the other replica answered' });
            assert.deepEqual(routed, [202], 'the answer went to the other replica');
            assert.equal(through.isError, false, text(through).slice(0, 300));
            assert.ok(text(through).includes(big), 'the whole answer reached the server');
            const held = await sql<{ sealed: string }>`select sealed from held_copy`.execute(t.store.db);
            assert.equal(held.rows.length, 1, 'held once');
            assert.match(held.rows[0]!.sealed, /^v1\./);
            assert.doesNotMatch(held.rows[0]!.sealed, /the model says/, 'never in clear');
            const left = await t.store.db.selectFrom('mcp_passed_answers').selectAll().execute();
            assert.deepEqual(left, [], 'taken, so deleted');
          } finally {
            await sql`drop trigger if exists copy_held on mcp_passed_answers`.execute(t.store.db);
            await sql`drop table if exists held_copy`.execute(t.store.db);
            await b.close();
          }
        });
      }

      test('a subscription’s updates reach the GET stream of the session that subscribed, namespaced; the kill switch ends the subscription and the streams', async () => {
        await grant({ connectionId: everything, resource: 'demo://resource/dynamic/text/', match: 'prefix' });
        const uri = 'demo://resource/dynamic/text/1';
        const a = await overHttp();
        const other = await overHttp();
        await a.client.subscribeResource({ uri: `everything+${uri}` });
        assert.equal(deps.gateway.relays.subscriptions, 1);
        await a.client.callTool({ name: 'everything__toggle-subscriber-updates', arguments: {} });
        try {
          await until(() => a.seen.updated.length > 0, { what: 'an update on the GET stream' });
          assert.equal(a.seen.updated[0], `everything+${uri}`);
          // Only the session that subscribed is told.
          assert.deepEqual(other.seen.updated, []);
          // A session that ends (DELETE) ends its own subscription, not the other session's.
          const third = await overHttp();
          await third.client.subscribeResource({ uri: `everything+${uri}` });
          assert.equal(deps.gateway.relays.subscriptions, 2);
          await third.transport.terminateSession();
          await until(() => deps.gateway.relays.subscriptions === 1, {
            what: 'the closed session’s subscription to end',
          });
          assert.equal((await api('post', `/agents/${agentId}/stop`)).status, 200);
          assert.equal(deps.gateway.relays.subscriptions, 0);
          await until(
            () => deps.mcpSessions.streamsOf(a.sessionId) + deps.mcpSessions.streamsOf(other.sessionId) === 0,
            {
              what: 'the streams to close',
            },
          );
          assert.equal(deps.mcpSessions.count(agentId), 0);
        } finally {
          assert.equal((await api('post', `/agents/${agentId}/resume`)).status, 200);
        }
      });
    });

    test('a noisy server’s huge, malformed, secret-bearing and flooding notifications are cut, dropped or scrubbed, on record', async () => {
      const a = await agent();
      await a.client.setLoggingLevel('debug');
      const progress: Array<{ message?: string }> = [];
      const r = await a.client.callTool({ name: 'noisy__noise', arguments: {} }, undefined, {
        onprogress: (p) => progress.push(p),
      });
      assert.equal(text(r), 'done');
      await until(async () => (await entries('connection.notification.dropped')).length >= 3, {
        what: 'the drops on record',
      });
      const seen = JSON.stringify([a.seen.logs, progress, a.seen.updated]);
      for (const form of leakedForms(SECRET))
        assert.ok(!seen.includes(form), `a form of the secret reached the agent: ${form}`);
      assert.match(seen, /\[REDACTED\]/);
      const huge = a.seen.logs.find((l) => String(l.data).startsWith('xxxx'));
      assert.ok(huge && String(huge.data).length < 10_000, 'the megabyte line is cut');
      assert.match(String(huge.data), /characters cut by Paddock/);
      assert.ok(
        a.seen.logs.filter((l) => /^line /.test(String(l.data))).length < 200,
        'the flood is bounded',
      );
      assert.ok(!a.seen.logs.some((l) => l.level === 'shouting'));
      assert.ok(
        progress.length >= 1 && progress.length < 200,
        `the progress flood is bounded (${progress.length})`,
      );
      assert.equal(a.seen.updated.length, 0, 'the 10 kB URI is dropped');
      const drops = (await entries('connection.notification.dropped')).map((e) => String(e.details.what));
      for (const what of ['log message cut', 'malformed message', 'resource update', 'progress'])
        assert.ok(drops.includes(what), `${what} on record (${drops.join(', ')})`);
      const flood = await entries('connection.notification.dropped');
      assert.ok(flood.some((e) => /more than 50 notifications/.test(String(e.details.why))));
      for (const e of flood)
        for (const form of leakedForms(SECRET)) assert.ok(!JSON.stringify(e.details).includes(form));
      // A line that never ends ends the session (on record), not the control plane's memory.
      const endless = await a.client.callTool({ name: 'noisy__endless', arguments: {} });
      assert.equal(endless.isError, true);
      assert.match(text(endless), /^tool_failed: /);
      await until(
        async () =>
          (await entries('connection.notification.dropped')).some((e) =>
            /too much without an end: ReadBuffer exceeded maximum size of 10485760 bytes/.test(
              String(e.details.why),
            ),
          ),
        { what: 'the endless line on record' },
      );
    });
  });
}
