/**
 * `/mcp/{org}` as MCP clients meet it, over real HTTP (both engines): the official SDK client
 * sees a real server from npm (server-everything, in the org's sandbox) as it sees it directly —
 * titles, annotations, output schemas, structured results — apart from names and policy; the
 * endpoint checks Host and Origin and answers CORS for allowed browser origins, answers GET with
 * 405, speaks the current and the previous protocol version, shows a stopped agent no tools, and
 * puts every request on the request log.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ServerType, serve } from '@hono/node-server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { bubblewrap } from '../../cells/index.ts';
import { loadConfig } from '../../config/index.ts';
import { createLogger } from '../../log/index.ts';
import { call, createApp, type SeededOrg, seedOrg } from '../../testing/fixtures.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../../testing/stores.ts';
import { buildDeps } from '../deps.ts';

const EVERYTHING = ['node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'];
const EVERYTHING_MAIN = fileURLToPath(new URL(`../../../${EVERYTHING[0]}`, import.meta.url));
/** The protocol version before the current one: clients of both must keep working. */
const PREVIOUS_PROTOCOL_VERSION = '2025-06-18';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

for (const kind of STORE_KINDS) {
  describe(`MCP clients on /mcp/{org} [${kind}]`, () => {
    let t: TestStore;
    let deps: ReturnType<typeof buildDeps>;
    let app: ReturnType<typeof createApp>;
    let server: ServerType;
    let port: number;
    let acme: SeededOrg;
    let agentId: string;
    let token: string;
    const logs: Array<Record<string, unknown>> = [];
    const clients: Client[] = [];

    const api = (method: 'get' | 'post', path: string, body?: unknown) =>
      call(app, method, `/api/v1/orgs/acme${path}`, {
        token: acme.people.admin.token,
        ...(body === undefined ? {} : { body }),
      });

    async function connect(): Promise<Client> {
      const client = new Client({ name: 'external-agent', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/acme`), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      clients.push(client);
      return client;
    }

    /** A request as sent over the wire, with any Host and Origin. */
    function raw(method: string, headers: Record<string, string>, body?: unknown): Promise<Raw> {
      const text = body === undefined ? undefined : JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method,
            path: '/mcp/acme',
            headers: {
              host: `127.0.0.1:${port}`,
              authorization: `Bearer ${token}`,
              accept: 'application/json, text/event-stream',
              ...(text === undefined ? {} : { 'content-type': 'application/json' }),
              ...headers,
            },
          },
          (res) => {
            let out = '';
            res.on('data', (d: Buffer) => {
              out += d.toString();
            });
            res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: out }));
          },
        );
        req.on('error', reject);
        req.end(text);
      });
    }
    const rpc = (method: string, params: unknown = {}) => ({ jsonrpc: '2.0', id: 1, method, params });
    const initialize = (protocolVersion: string) =>
      rpc('initialize', { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '1' } });

    before(async () => {
      const check = await bubblewrap.check();
      assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
      t = await openTestStore(kind);
      const log = createLogger({
        level: 'info',
        destination: { write: (s: string) => void logs.push(JSON.parse(s)) },
      });
      deps = buildDeps(
        loadConfig(
          { home: t.home, port: 0, databaseUrl: t.databaseUrl, publicUrl: 'https://paddock.example' },
          { PADDOCK_MCP_ALLOWED_ORIGINS: 'https://console.example' },
        ),
        log,
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
      const conn = await api('post', '/connections', {
        name: 'everything',
        transport: 'stdio',
        command: 'node',
        args: EVERYTHING,
      });
      assert.equal(conn.status, 201, conn.text);
      const listed = await api('post', `/connections/${conn.body.id}/tools/refresh`);
      assert.equal(listed.status, 200, listed.text);
      const agent = await api('post', '/agents', {
        name: 'remote',
        scope: 'organization',
        instructions: 'x',
        model: { provider: 'openai', model: 'gpt-5' },
      });
      agentId = agent.body.id;
      const g = await api('post', `/agents/${agentId}/grants`, { connectionId: conn.body.id, tool: '*' });
      assert.equal(g.status, 201, g.text);
      token = (await api('post', `/agents/${agentId}/tokens`, { name: 'laptop' })).body.token;
    });

    after(async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      await deps?.gateway.close();
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      await deps?.audit.close();
      await t?.cleanup();
    });

    test('the agent sees the definitions it would see directly, apart from names and policy; results keep structured content', async () => {
      const direct = new Client({ name: 'direct', version: '1.0.0' });
      await direct.connect(
        new StdioClientTransport({ command: process.execPath, args: [EVERYTHING_MAIN, 'stdio'] }),
      );
      clients.push(direct);
      const through = await connect();
      const directTools = (await direct.listTools()).tools;
      const throughTools = (await through.listTools()).tools;
      assert.ok(directTools.length > 5 && directTools.filter((x) => x.annotations && x.title).length > 3);
      // What the gate changes on purpose: the namespace, and no task hints (it relays no tasks).
      const asDirect = (x: Tool) => ({ ...x, name: x.name.replace(/^everything__/, '') });
      const withoutTasks = ({ execution: _, ...x }: Tool) => x;
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
      assert.deepEqual(throughTools.map(asDirect).sort(byName), directTools.map(withoutTasks).sort(byName));
      const structured = throughTools.find((x) => x.name === 'everything__get-structured-content')!;
      assert.equal(structured.title, 'Get Structured Content Tool');
      assert.equal(structured.annotations?.readOnlyHint, true);
      assert.ok(structured.outputSchema, 'the output schema passes');

      // The client checks structured content against the output schema it was shown.
      const args = { name: 'get-structured-content', arguments: { location: 'Chicago' } };
      const viaGate = await through.callTool({ ...args, name: 'everything__get-structured-content' });
      const viaDirect = await direct.callTool(args);
      assert.deepEqual(viaGate.structuredContent, {
        temperature: 36,
        conditions: 'Light rain / drizzle',
        humidity: 82,
      });
      assert.deepEqual(
        {
          content: viaGate.content,
          structuredContent: viaGate.structuredContent,
          isError: viaGate.isError ?? false,
        },
        {
          content: viaDirect.content,
          structuredContent: viaDirect.structuredContent,
          isError: viaDirect.isError ?? false,
        },
      );
    });

    test('Host and Origin are checked: loopback, the public URL and configured ones only; allowed browser origins get CORS', async () => {
      const list = rpc('tools/list');
      const rebound = await raw('POST', { host: `evil.example:${port}` }, list);
      assert.equal(rebound.status, 403, rebound.body);
      assert.equal(JSON.parse(rebound.body).error.code, 'host_not_allowed');
      for (const host of [`localhost:${port}`, 'paddock.example', `[::1]:${port}`]) {
        const ok = await raw('POST', { host }, list);
        assert.equal(ok.status, 200, `${host}: ${ok.body}`);
      }
      const foreign = await raw('POST', { origin: 'https://evil.example' }, list);
      assert.equal(foreign.status, 403);
      assert.equal(JSON.parse(foreign.body).error.code, 'origin_not_allowed');
      assert.equal(foreign.headers['access-control-allow-origin'], undefined);
      for (const origin of ['https://console.example', 'https://paddock.example', 'http://localhost:6274']) {
        const ok = await raw('POST', { origin }, list);
        assert.equal(ok.status, 200, `${origin}: ${ok.body}`);
        assert.equal(ok.headers['access-control-allow-origin'], origin);
        assert.match(String(ok.headers['access-control-expose-headers']), /mcp-session-id/);
      }
      // A browser's preflight carries no token: answered before authentication, for allowed origins only.
      const preflight = await raw('OPTIONS', {
        authorization: '',
        origin: 'https://console.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, mcp-protocol-version',
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers['access-control-allow-origin'], 'https://console.example');
      assert.match(String(preflight.headers['access-control-allow-methods']), /POST/);
      assert.match(
        String(preflight.headers['access-control-allow-headers']),
        /authorization.*mcp-protocol-version/,
      );
      const badPreflight = await raw('OPTIONS', { origin: 'https://evil.example' });
      assert.equal(badPreflight.status, 403);
    });

    test('GET without a stream answers 405; the current and the previous protocol versions are both spoken', async () => {
      const get = await raw('GET', { accept: 'text/event-stream' });
      assert.equal(get.status, 405, get.body);
      assert.equal(get.headers.allow, 'POST, DELETE');
      for (const version of [LATEST_PROTOCOL_VERSION, PREVIOUS_PROTOCOL_VERSION]) {
        const init = await raw('POST', {}, initialize(version));
        assert.equal(init.status, 200, init.body);
        assert.equal(JSON.parse(init.body).result.protocolVersion, version);
        const listed = await raw('POST', { 'mcp-protocol-version': version }, rpc('tools/list'));
        assert.equal(listed.status, 200, listed.body);
        assert.ok(JSON.parse(listed.body).result.tools.length > 5);
      }
      const unknown = await raw('POST', { 'mcp-protocol-version': '2023-01-01' }, rpc('tools/list'));
      assert.equal(unknown.status, 400);
      // The official client (current version) lists and calls with the GET answered 405.
      const client = await connect();
      const r = await client.callTool({ name: 'everything__echo', arguments: { message: 'hi' } });
      assert.match(JSON.stringify(r.content), /Echo: hi/);
    });

    test("a stopped agent's tools/list is empty and its calls say it is stopped; resumed, its tools are back", async () => {
      const client = await connect();
      assert.equal((await api('post', `/agents/${agentId}/stop`)).status, 200);
      try {
        assert.deepEqual((await client.listTools()).tools, []);
        const r = await client.callTool({ name: 'everything__echo', arguments: { message: 'hi' } });
        assert.equal(r.isError, true);
        assert.match(JSON.stringify(r.content), /agent_stopped: This agent is stopped \(the kill switch\)/);
      } finally {
        assert.equal((await api('post', `/agents/${agentId}/resume`)).status, 200);
      }
      assert.ok((await client.listTools()).tools.length > 5);
    });

    test('every /mcp request is on the request log, those answered before the route too', async () => {
      const requests = logs.filter((l) => l.msg === 'request' && l.route === '/mcp/{org}');
      const seen = new Set(requests.map((l) => `${l.method} ${l.status}`));
      for (const s of ['POST 200', 'GET 405', 'POST 403', 'OPTIONS 204', 'POST 400'])
        assert.ok(seen.has(s), `${s} on the log: ${[...seen].join(', ')}`);
      assert.ok(requests.every((l) => typeof l.requestId === 'string' && typeof l.ms === 'number'));
    });
  });
}
