/**
 * `/mcp/{org}` as MCP clients meet it, over real HTTP (both engines): the official SDK client
 * sees a real server from npm (server-everything, in the org's sandbox) as it sees it directly —
 * titles, annotations, output schemas, structured results — apart from names and policy; the
 * MCP Inspector's command line (`mcp-inspector --cli`) lists, calls and reads a refusal; the
 * endpoint checks Host and Origin and answers CORS for allowed browser origins, answers GET
 * without a session 400, speaks the current and the previous protocol version, ends a stopped
 * agent's sessions and shows it no tools, and puts every request on the request log.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  LATEST_PROTOCOL_VERSION,
  McpError,
  type Prompt,
  type Resource,
  type ResourceTemplate,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { CLIENT_CAPABILITIES } from '../../connections/mcp.ts';
import { createLogger } from '../../log/index.ts';
import { allAuditEntries, call, type SeededOrg, seedOrg } from '../../testing/fixtures.ts';
import {
  addStdioConnection,
  agentWithToken,
  EVERYTHING,
  type ServedPaddock,
  servePaddock,
} from '../../testing/served.ts';
import { STORE_KINDS, type TestStore } from '../../testing/stores.ts';

const EVERYTHING_MAIN = fileURLToPath(new URL(`../../../${EVERYTHING[0]}`, import.meta.url));
/** The MCP Inspector's command line (`mcp-inspector --cli`), as a person trying a server runs it. */
const INSPECTOR = fileURLToPath(
  new URL(
    '../../../node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js',
    import.meta.url,
  ),
);
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
    let paddock: ServedPaddock;
    let app: ServedPaddock['app'];
    let port: number;
    let acme: SeededOrg;
    let agentId: string;
    let token: string;
    const logs: Array<Record<string, unknown>> = [];
    const clients: Client[] = [];

    let connectionId: string;
    const api = (method: 'get' | 'post' | 'patch' | 'delete', path: string, body?: unknown) =>
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
    /** The JSON-RPC message of an answer: JSON, or an SSE stream's one `data:` line. */
    const sseMessage = (body: string): Record<string, any> =>
      JSON.parse(
        body.startsWith('{')
          ? body
          : body
              .split('\n')
              .find((l) => l.startsWith('data: {'))!
              .slice(6),
      );
    const rpc = (method: string, params: unknown = {}) => ({ jsonrpc: '2.0', id: 1, method, params });
    const initialize = (protocolVersion: string) =>
      rpc('initialize', { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '1' } });

    before(async () => {
      const log = createLogger({
        level: 'info',
        destination: { write: (s: string) => void logs.push(JSON.parse(s)) },
      });
      paddock = await servePaddock(kind, {
        env: {
          PADDOCK_PUBLIC_URL: 'https://paddock.example',
          PADDOCK_MCP_ALLOWED_ORIGINS: 'https://console.example',
        },
        log,
      });
      ({ t, app } = paddock);
      port = Number(new URL(paddock.url).port);
      acme = await seedOrg(t.store, 'acme');
      connectionId = await addStdioConnection(app, acme, { by: acme.people.admin.token });
      ({ id: agentId, token } = await agentWithToken(app, acme, {
        name: 'remote',
        grants: [{ connectionId, tool: '*' }],
      }));
    });

    after(async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      await paddock?.close();
    });

    test('the agent sees the definitions it would see directly, apart from names and policy; results keep structured content', async () => {
      // Declaring what Paddock's own client declares: server-everything shows its sampling and elicitation tools.
      const direct = new Client({ name: 'direct', version: '1.0.0' }, { capabilities: CLIENT_CAPABILITIES });
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

    test('the MCP Inspector CLI lists the granted tools, calls one, and reads a refusal in words', async () => {
      const inspect = (bearer: string, ...args: string[]) =>
        new Promise<{ code: number; out: string; err: string }>((resolve) => {
          execFile(
            process.execPath,
            [
              INSPECTOR,
              '--cli',
              `http://127.0.0.1:${port}/mcp/acme`,
              '--transport',
              'http',
              '--header',
              `Authorization: Bearer ${bearer}`,
              ...args,
            ],
            { timeout: 60_000 },
            (err, stdout, stderr) =>
              resolve({
                code: err ? Number((err as { code?: number }).code ?? 1) : 0,
                out: stdout,
                err: stderr,
              }),
          );
        });
      const listed = await inspect(token, '--method', 'tools/list');
      assert.equal(listed.code, 0, listed.out);
      const tools = (JSON.parse(listed.out) as { tools: Tool[] }).tools;
      const echo = tools.find((x) => x.name === 'everything__echo');
      assert.ok(echo, tools.map((x) => x.name).join(' '));
      assert.equal(echo.title, 'Echo Tool', 'the definition passes through whole');
      const called = await inspect(
        token,
        '--method',
        'tools/call',
        '--tool-name',
        'everything__echo',
        '--tool-arg',
        'message=inspected',
      );
      assert.equal(called.code, 0, called.out);
      assert.match(called.out, /Echo: inspected/);
      // An agent whose grant allows echo only with message "ok": the Inspector reads the refusal.
      const narrow = await api('post', '/agents', {
        name: 'inspected',
        scope: 'organization',
        instructions: 'x',
        model: { provider: 'openai', model: 'gpt-5' },
      });
      const g = await api('post', `/agents/${narrow.body.id}/grants`, {
        connectionId,
        tool: 'echo',
        constraints: [{ arg: 'message', oneOf: ['ok'] }],
      });
      assert.equal(g.status, 201, g.text);
      const narrowToken = (await api('post', `/agents/${narrow.body.id}/tokens`, { name: 'inspector' })).body
        .token as string;
      const refused = await inspect(
        narrowToken,
        '--method',
        'tools/call',
        '--tool-name',
        'everything__echo',
        '--tool-arg',
        'message=not ok',
      );
      assert.match(refused.out + refused.err, /"isError": ?true/);
      assert.match(refused.out + refused.err, /message/, 'the refusal names the argument');
      await paddock.deps.audit.flush();
      const denied = (await allAuditEntries(t.store)).filter(
        (e) => e.action === 'tool.call.denied' && e.actor_id === narrow.body.id,
      );
      assert.equal(denied.length, 1, 'the refusal is on the audit trail');
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

    test('GET without a session answers 400; the current and the previous protocol versions are both spoken', async () => {
      const get = await raw('GET', { accept: 'text/event-stream' });
      assert.equal(get.status, 400, get.body);
      assert.match(get.body, /Mcp-Session-Id header is required/);
      for (const version of [LATEST_PROTOCOL_VERSION, PREVIOUS_PROTOCOL_VERSION]) {
        const init = await raw('POST', {}, initialize(version));
        assert.equal(init.status, 200, init.body);
        assert.equal(sseMessage(init.body).result.protocolVersion, version);
        const session = String(init.headers['mcp-session-id']);
        const listed = await raw(
          'POST',
          { 'mcp-protocol-version': version, 'mcp-session-id': session },
          rpc('tools/list'),
        );
        assert.equal(listed.status, 200, listed.body);
        assert.ok(sseMessage(listed.body).result.tools.length > 5);
        // A client that never initialized is served without a session, with JSON answers.
        const stateless = await raw('POST', { 'mcp-protocol-version': version }, rpc('tools/list'));
        assert.equal(stateless.status, 200, stateless.body);
        assert.ok(JSON.parse(stateless.body).result.tools.length > 5);
      }
      const unknown = await raw('POST', { 'mcp-protocol-version': '2023-01-01' }, rpc('tools/list'));
      assert.equal(unknown.status, 400);
      const client = await connect();
      const r = await client.callTool({ name: 'everything__echo', arguments: { message: 'hi' } });
      assert.match(JSON.stringify(r.content), /Echo: hi/);
    });

    test("a stopped agent's session ends; re-initialized, its tools/list is empty and its calls say it is stopped; resumed, its tools are back", async () => {
      const before = await connect();
      assert.equal((await api('post', `/agents/${agentId}/stop`)).status, 200);
      try {
        await assert.rejects(before.listTools(), /Session not found/);
        const client = await connect();
        assert.deepEqual((await client.listTools()).tools, []);
        const r = await client.callTool({ name: 'everything__echo', arguments: { message: 'hi' } });
        assert.equal(r.isError, true);
        assert.match(JSON.stringify(r.content), /agent_stopped: This agent is stopped \(the kill switch\)/);
      } finally {
        assert.equal((await api('post', `/agents/${agentId}/resume`)).status, 200);
      }
      assert.ok((await (await connect()).listTools()).tools.length > 5);
    });

    test('every /mcp request is on the request log, those answered before the route too', async () => {
      const requests = logs.filter((l) => l.msg === 'request' && l.route === '/mcp/{org}');
      const seen = new Set(requests.map((l) => `${l.method} ${l.status}`));
      for (const s of ['POST 200', 'GET 400', 'POST 403', 'OPTIONS 204', 'POST 400'])
        assert.ok(seen.has(s), `${s} on the log: ${[...seen].join(', ')}`);
      assert.ok(requests.every((l) => typeof l.requestId === 'string' && typeof l.ms === 'number'));
    });

    /** The server reached directly, as the agent would without Paddock. */
    async function direct(): Promise<Client> {
      const c = new Client({ name: 'direct', version: '1.0.0' });
      await c.connect(
        new StdioClientTransport({ command: process.execPath, args: [EVERYTHING_MAIN, 'stdio'] }),
      );
      clients.push(c);
      return c;
    }

    /** The JSON-RPC error a request was refused with. */
    async function refusal(p: Promise<unknown>): Promise<McpError> {
      const err = await p.then(
        () => assert.fail('expected a refusal'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof McpError, String(err));
      return err;
    }

    /** The org's audit entries of an action, their details parsed (the gate's records placed first: see audit/journal.ts). */
    async function entries(action: string) {
      await paddock.deps.audit.flush();
      return (await allAuditEntries(t.store))
        .filter((e) => e.action === action)
        .map((e) => ({
          ...e,
          details: (typeof e.details === 'string' ? JSON.parse(e.details) : e.details) as Record<string, any>,
        }));
    }

    const grantIds: string[] = [];
    async function grant(body: Record<string, unknown>): Promise<string> {
      const g = await api('post', `/agents/${agentId}/grants`, { connectionId, ...body });
      assert.equal(g.status, 201, g.text);
      grantIds.push(g.body.id);
      return g.body.id;
    }

    const DOC = 'demo://resource/static/document/architecture.md';

    test('with no prompt or resource grant, nothing is listed and every read, get and completion is denied and audited like a tool', async () => {
      const client = await connect();
      assert.deepEqual((await client.listPrompts()).prompts, []);
      assert.deepEqual((await client.listResources()).resources, []);
      assert.deepEqual((await client.listResourceTemplates()).resourceTemplates, []);
      const read = await refusal(client.readResource({ uri: `everything+${DOC}` }));
      assert.equal(read.code, -32003);
      assert.match(
        read.message,
        /resource_denied: No grant allows this agent to read everything\+demo:\/\/\S+: it has none for this resource/,
      );
      assert.equal((read.data as { code: string }).code, 'resource_denied');
      const get = await refusal(client.getPrompt({ name: 'everything__simple-prompt' }));
      assert.match(get.message, /prompt_denied: No grant allows this agent to get everything__simple-prompt/);
      const complete = await refusal(
        client.complete({
          ref: { type: 'ref/prompt', name: 'everything__completable-prompt' },
          argument: { name: 'department', value: 'E' },
        }),
      );
      assert.match(
        complete.message,
        /completion_denied: No grant allows this agent to complete arguments of/,
      );
      // A URI without a connection's namespace names nothing the agent was shown.
      const bare = await refusal(client.readResource({ uri: DOC }));
      assert.match(
        bare.message,
        /resource_denied: No resource demo:\/\/\S+ for this agent: .*<connection>\+<uri>/,
      );

      const reads = await entries('resource.read.denied');
      const ofDoc = reads.find((e) => e.details.calledAs === `everything+${DOC}`);
      assert.ok(ofDoc, 'the denied read is on record, with the name the agent used');
      assert.equal(ofDoc.target_id, `${connectionId}/${DOC}`);
      assert.equal(ofDoc.actor_id, agentId);
      assert.equal(ofDoc.details.reason, 'no grant for this resource');
      assert.ok(reads.some((e) => e.details.reason === 'no such resource for this agent'));
      assert.ok(
        (await entries('prompt.get.denied')).some((e) => e.target_id === `${connectionId}/simple-prompt`),
      );
      const completions = await entries('prompt.complete.denied');
      assert.deepEqual(completions.at(-1)?.details.args, { argument: { name: 'department', value: 'E' } });
    });

    test('granted, prompts, resources, templates and completions answer as the server does directly, apart from names', async () => {
      await grant({ prompt: '*' });
      await grant({ resource: '', match: 'prefix' });
      const [through, server] = [await connect(), await direct()];
      const strip = (ns: string, sep: string) => (v: string) =>
        v.startsWith(`${ns}${sep}`) ? v.slice(ns.length + sep.length) : v;
      const uri = strip('everything', '+');
      const name = strip('everything', '__');
      const byKey = (k: string) => (a: Record<string, unknown>, b: Record<string, unknown>) =>
        String(a[k]).localeCompare(String(b[k]));
      const all = async <T>(
        list: (cursor?: string) => Promise<{ items: T[]; next?: string | undefined }>,
      ) => {
        const out: T[] = [];
        let cursor: string | undefined;
        do {
          const page = await list(cursor);
          out.push(...page.items);
          cursor = page.next;
        } while (cursor);
        return out;
      };

      const directPrompts = (await server.listPrompts()).prompts;
      const throughPrompts = (await through.listPrompts()).prompts;
      assert.ok(directPrompts.length >= 4);
      assert.deepEqual(
        throughPrompts.map((p: Prompt) => ({ ...p, name: name(p.name) })).sort(byKey('name')),
        [...directPrompts].sort(byKey('name')),
      );
      const directResources = await all(async (cursor) => {
        const r = await server.listResources(cursor ? { cursor } : {});
        return { items: r.resources, next: r.nextCursor };
      });
      const throughResources = (await through.listResources()).resources;
      assert.ok(directResources.length > 0);
      assert.deepEqual(
        throughResources.map((r: Resource) => ({ ...r, uri: uri(r.uri) })).sort(byKey('uri')),
        [...directResources].sort(byKey('uri')),
      );
      const directTemplates = (await server.listResourceTemplates()).resourceTemplates;
      const throughTemplates = (await through.listResourceTemplates()).resourceTemplates;
      assert.ok(directTemplates.length >= 2);
      assert.deepEqual(
        throughTemplates
          .map((r: ResourceTemplate) => ({ ...r, uriTemplate: uri(r.uriTemplate) }))
          .sort(byKey('uriTemplate')),
        [...directTemplates].sort(byKey('uriTemplate')),
      );

      // Reads: the same contents, each naming the resource as the agent asked for it.
      const viaGate = await through.readResource({ uri: `everything+${DOC}` });
      const viaDirect = await server.readResource({ uri: DOC });
      assert.deepEqual(
        viaGate.contents.map((c) => ({ ...c, uri: uri(c.uri) })),
        viaDirect.contents,
      );
      assert.equal(viaGate.contents[0]?.uri, `everything+${DOC}`);
      const dynamic = await through.readResource({ uri: 'everything+demo://resource/dynamic/text/7' });
      assert.match(JSON.stringify(dynamic.contents), /Resource 7: This is a plaintext resource/);
      // A server's own error keeps its code.
      const missing = await refusal(
        through.readResource({ uri: 'everything+demo://resource/dynamic/text/0' }),
      );
      const missingDirect = await refusal(server.readResource({ uri: 'demo://resource/dynamic/text/0' }));
      assert.equal(missing.code, missingDirect.code);
      assert.match(missing.message, /resource_failed: Reading the resource failed/);

      // Prompts, with and without arguments.
      for (const [p, args] of [
        ['simple-prompt', undefined],
        ['args-prompt', { city: 'Chicago', state: 'IL' }],
        ['completable-prompt', { department: 'Sales', name: 'Eve' }],
      ] as const) {
        const a = await through.getPrompt({ name: `everything__${p}`, ...(args ? { arguments: args } : {}) });
        const b = await server.getPrompt({ name: p, ...(args ? { arguments: args } : {}) });
        assert.deepEqual(a, b, p);
      }
      // Completions of a prompt's argument (with context) and of a template's.
      const completePrompt = async (c: Client, n: string) =>
        c.complete({
          ref: { type: 'ref/prompt', name: n },
          argument: { name: 'name', value: '' },
          context: { arguments: { department: 'Engineering' } },
        });
      const cp = await completePrompt(through, 'everything__completable-prompt');
      assert.deepEqual(cp, await completePrompt(server, 'completable-prompt'));
      assert.deepEqual(cp.completion.values, ['Alice', 'Bob', 'Charlie']);
      const completeTemplate = async (c: Client, u: string) =>
        c.complete({ ref: { type: 'ref/resource', uri: u }, argument: { name: 'resourceId', value: '5' } });
      const ct = await completeTemplate(through, 'everything+demo://resource/dynamic/text/{resourceId}');
      assert.deepEqual(ct, await completeTemplate(server, 'demo://resource/dynamic/text/{resourceId}'));
      assert.deepEqual(ct.completion.values, ['5']);

      const allowed = (await entries('resource.read.allowed')).find(
        (e) => e.details.calledAs === `everything+${DOC}`,
      );
      assert.ok(allowed, 'the read is on record before it ran');
      assert.equal(allowed.target_id, `${connectionId}/${DOC}`);
      assert.ok((await entries('prompt.get.allowed')).length >= 3);
      assert.ok((await entries('resource.complete.allowed')).length >= 1);
    });

    test('a narrower grant shows and allows only what it covers; a prompt grant keeps its constraints and asks a person when it says so', async () => {
      for (const id of grantIds.splice(0))
        assert.equal((await api('delete', `/agents/${agentId}/grants/${id}`)).status, 200);
      await grant({ resource: 'demo://resource/static/', match: 'prefix' });
      await grant({
        prompt: 'args-prompt',
        constraints: [{ arg: 'city', oneOf: ['Chicago'] }],
        requiresApproval: true,
      });
      assert.equal((await api('patch', '', { settings: { approvalWaitSeconds: 0 } })).status, 200);
      const client = await connect();
      const resources = (await client.listResources()).resources;
      assert.ok(
        resources.length > 0 &&
          resources.every((r) => r.uri.startsWith('everything+demo://resource/static/')),
      );
      assert.deepEqual(
        (await client.listResourceTemplates()).resourceTemplates,
        [],
        'the templates are wider than the grant',
      );
      const prompts = (await client.listPrompts()).prompts;
      assert.deepEqual(
        prompts.map((p) => p.name),
        ['everything__args-prompt'],
      );
      assert.match(String(prompts[0]?.description), /^\[needs a person’s approval\] /);
      const dyn = await refusal(client.readResource({ uri: 'everything+demo://resource/dynamic/text/1' }));
      assert.match(dyn.message, /resource_denied/);
      const climb = await refusal(
        client.readResource({ uri: 'everything+demo://resource/static/../dynamic/text/1' }),
      );
      assert.match(climb.message, /resource_denied/);
      const tpl = await refusal(
        client.complete({
          ref: { type: 'ref/resource', uri: 'everything+demo://resource/dynamic/text/{resourceId}' },
          argument: { name: 'resourceId', value: '1' },
        }),
      );
      assert.match(tpl.message, /completion_denied/);
      const paris = await refusal(
        client.getPrompt({ name: 'everything__args-prompt', arguments: { city: 'Paris' } }),
      );
      assert.match(
        paris.message,
        /prompt_denied: No grant allows everything__args-prompt with these arguments: the grant needs city is one of "Chicago"/,
      );
      const waiting = await refusal(
        client.getPrompt({ name: 'everything__args-prompt', arguments: { city: 'Chicago' } }),
      );
      assert.match(waiting.message, /approval_required/);
      const approval = (waiting.data as Record<string, { id: string }>)['paddock/approval'];
      assert.ok(approval?.id, 'the waiting request is in the error’s data');
      const inbox = await api('get', '/approvals?status=pending');
      const request = inbox.body.approvals.find((a: { id: string }) => a.id === approval.id);
      assert.equal(request.kind, 'prompt');
      assert.equal(request.tool, 'args-prompt');
      assert.equal((await api('post', `/approvals/${approval.id}/approve`, {})).status, 200);
      const got = await client.getPrompt({ name: 'everything__args-prompt', arguments: { city: 'Chicago' } });
      assert.match(JSON.stringify(got.messages), /weather in Chicago/);
      const used = (await entries('prompt.get.allowed')).find((e) => e.details.approvalId === approval.id);
      assert.ok(used, 'the get ran with that approval, on record');
      // The grants and permissions say what was granted.
      const grants = await api('get', `/agents/${agentId}/grants`);
      const active = grants.body.grants.filter((g: { status: string }) => g.status === 'active');
      assert.ok(
        active.some(
          (g: any) =>
            g.kind === 'resource' && g.resource === 'demo://resource/static/' && g.match === 'prefix',
        ),
      );
      assert.ok(active.some((g: any) => g.kind === 'prompt' && g.prompt === 'args-prompt'));
      const perms = await api('get', `/agents/${agentId}/permissions`);
      assert.equal(perms.body.prompts[0].prompt.name, 'args-prompt');
      assert.equal(perms.body.prompts[0].needsApproval, true);
      assert.equal(perms.body.resources[0].uri, 'demo://resource/static/');
    });

    test('a stopped agent is shown no prompts or resources, and its reads and gets say it is stopped', async () => {
      assert.equal((await api('post', `/agents/${agentId}/stop`)).status, 200);
      try {
        const client = await connect();
        assert.deepEqual((await client.listResources()).resources, []);
        assert.deepEqual((await client.listPrompts()).prompts, []);
        const read = await refusal(client.readResource({ uri: `everything+${DOC}` }));
        assert.match(read.message, /agent_stopped: This agent is stopped/);
      } finally {
        assert.equal((await api('post', `/agents/${agentId}/resume`)).status, 200);
      }
      assert.ok((await (await connect()).listResources()).resources.length > 0);
    });
  });
}
