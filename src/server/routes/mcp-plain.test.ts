/**
 * The plain `tools/call` answer of `/mcp/{org}` against the SDK's (both engines, a real MCP
 * server in the org's sandbox): each request is sent once answered plainly and once through the
 * SDK's transport, without a session and in one, and the two answers are the same bytes (status,
 * headers, body; only ids and times a call makes anew told apart): allowed, denied, waiting for
 * approval, unknown tool, bad arguments, stopped agent, malformed params, a bad protocol version,
 * someone else's session (refused and recorded alike). What it must not take goes the SDK's way:
 * a progress token, a client that declared sampling. A log line sent during a plain call in a
 * session rides on the call's answer (SSE, as the SDK's stream), not the GET stream; a client that goes away ends a plain call that waits for a person,
 * on record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { bubblewrap } from '../../cells/index.ts';
import { loadConfig } from '../../config/index.ts';
import { silentLogger } from '../../log/index.ts';
import { allAuditEntries, call, createApp, seedOrg } from '../../testing/fixtures.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../../testing/stores.ts';
import { until } from '../../testing/until.ts';
import { buildDeps } from '../deps.ts';
import { MCP_MAX_BODY_BYTES } from './mcp.ts';
import { plainAnswers, plainCall, plainList } from './mcp-plain.ts';

const EVERYTHING = ['node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'];
const MCP_HEADERS = { accept: 'application/json, text/event-stream', 'content-type': 'application/json' };

/** What differs between two calls of the same request: the ids and times each makes anew. */
const same = (text: string) =>
  text
    .replace(/\b[a-z]{2,6}_[A-Za-z0-9_-]{8,}\b/g, '<id>')
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>');

const HEADERS = ['content-type', 'mcp-session-id', 'cache-control', 'connection', 'x-accel-buffering'];

for (const kind of STORE_KINDS) {
  describe(`plain tools/call answers of /mcp/{org}, against the SDK's [${kind}]`, () => {
    let t: TestStore;
    let deps: ReturnType<typeof buildDeps>;
    let app: ReturnType<typeof createApp>;
    let admin: string;
    let owner: string;
    let token: string;
    let stoppedToken: string;
    let otherToken: string;
    let remoteId: string;
    let connId: string;
    const api = (method: string, path: string, body?: unknown) =>
      call(app, method, `/api/v1/orgs/acme${path}`, {
        token: admin,
        ...(body === undefined ? {} : { body }),
      });
    const post = (as: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
      app.request('/mcp/acme', {
        method: 'POST',
        headers: { ...MCP_HEADERS, authorization: `Bearer ${as}`, ...headers },
        body: JSON.stringify(body),
        ...(signal ? { signal } : {}),
      });
    /** The answer with the plain path on or off. */
    /** How many requests the SDK's transport served (pooled servers, sessions' transports). */
    let viaSdk = 0;
    const answer = async (on: boolean, as: string, body: unknown, headers: Record<string, string> = {}) => {
      plainAnswers.on = on;
      try {
        const before = viaSdk;
        const res = await post(as, body, headers);
        const text = await res.text();
        return {
          sdk: viaSdk > before,
          status: res.status,
          headers: HEADERS.map((h) => `${h}: ${res.headers.get(h)}`),
          body: same(text),
          raw: text,
        };
      } finally {
        plainAnswers.on = true;
      }
    };
    const initialize = async (as: string, capabilities: Record<string, unknown> = {}) => {
      const res = await post(as, {
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: LATEST_PROTOCOL_VERSION,
          capabilities,
          clientInfo: { name: 't', version: '1' },
        },
      });
      assert.equal(res.status, 200);
      await res.text();
      const id = res.headers.get('mcp-session-id');
      assert.ok(id);
      return id;
    };
    const toolCall = (id: number, name: string, args?: unknown, extra: Record<string, unknown> = {}) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name, ...(args === undefined ? {} : { arguments: args }), ...extra },
    });

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
      app = createApp(deps);
      for (const o of [deps.mcpServers, deps.mcpSessions] as Array<{ serve: (...a: never[]) => unknown }>) {
        const serve = o.serve.bind(o);
        o.serve = (...a: never[]) => {
          viaSdk += 1;
          return serve(...a);
        };
      }
      const acme = await seedOrg(t.store, 'acme');
      admin = acme.people.admin.token;
      owner = acme.people.owner.token;
      const conn = await api('post', '/connections', {
        name: 'everything',
        transport: 'stdio',
        command: 'node',
        args: EVERYTHING,
      });
      assert.equal((await api('post', `/connections/${conn.body.id}/tools/refresh`)).status, 200);
      const agentWith = async (name: string, by: string) => {
        const agent = await call(app, 'post', '/api/v1/orgs/acme/agents', {
          token: by,
          body: {
            name,
            scope: 'organization',
            instructions: 'x',
            model: { provider: 'openai', model: 'gpt-5' },
          },
        });
        for (const grant of [
          { tool: 'echo' },
          { tool: 'get-sum', requiresApproval: true },
          { tool: 'toggle-simulated-logging' },
        ])
          assert.equal(
            (await api('post', `/agents/${agent.body.id}/grants`, { connectionId: conn.body.id, ...grant }))
              .status,
            201,
          );
        const tok = (await call(app, 'post', `/api/v1/orgs/acme/agents/${agent.body.id}/tokens`, {
          token: by,
          body: { name: 'laptop' },
        })) as { body: { token: string } };
        return { id: agent.body.id as string, token: tok.body.token };
      };
      const remote = await agentWith('remote', admin);
      token = remote.token;
      remoteId = remote.id;
      connId = conn.body.id;
      otherToken = (await agentWith('other', owner)).token;
      const stopped = await agentWith('halted', admin);
      stoppedToken = stopped.token;
      assert.equal((await api('post', `/agents/${stopped.id}/stop`)).status, 200);
      await call(app, 'patch', '/api/v1/orgs/acme', {
        token: owner,
        body: { settings: { approvalWaitSeconds: 0 } },
      });
    });
    after(async () => {
      await deps?.sessions.close();
      await deps?.gateway.close();
      await deps?.cells?.close();
      await deps?.audit.close();
      await t?.cleanup();
    });

    test('it takes only a plain call: one tools/call request, no progress token, the SDK’s headers', () => {
      const req = (headers: Record<string, string> = {}) =>
        new Request('http://x/mcp/acme', { method: 'POST', headers: { ...MCP_HEADERS, ...headers } });
      const plain = toolCall(1, 'everything__echo', { message: 'hi' });
      assert.ok(plainCall(req(), plain));
      assert.ok(plainCall(req(), { ...plain, params: { ...plain.params, _meta: { trace: 'x' } } }));
      for (const body of [
        [plain],
        { ...plain, id: undefined },
        { ...plain, method: 'tools/list' },
        toolCall(1, 'everything__echo', { message: 'hi' }, { _meta: { progressToken: 'p' } }),
        toolCall(1, 'everything__echo', { message: 'hi' }, { task: { ttl: 1000 } }),
        toolCall(1, 'everything__echo', 'not an object'),
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: {} },
      ])
        assert.equal(plainCall(req(), body), undefined, JSON.stringify(body));
      for (const headers of [
        { accept: 'application/json' } as Record<string, string>,
        { 'content-type': 'text/plain' },
        { 'mcp-protocol-version': '1999-01-01' },
        { 'last-event-id': '1' },
      ])
        assert.equal(plainCall(req(headers), plain), undefined, JSON.stringify(headers));
    });

    const cases: Array<[string, () => { as: string; body: unknown; headers?: Record<string, string> }]> = [
      ['allowed', () => ({ as: token, body: toolCall(7, 'everything__echo', { message: 'same' }) })],
      [
        'allowed, string id and no arguments',
        () => ({ as: token, body: toolCall('abc' as never, 'everything__echo') }),
      ],
      ['denied (not granted)', () => ({ as: token, body: toolCall(8, 'everything__get-env', {}) })],
      [
        'waiting for approval',
        () => ({ as: token, body: toolCall(9, 'everything__get-sum', { a: 1, b: 2 }) }),
      ],
      ['unknown tool', () => ({ as: token, body: toolCall(10, 'nowhere__echo', {}) })],
      ['unknown name form', () => ({ as: token, body: toolCall(11, 'echo', {}) })],
      ['bad arguments', () => ({ as: token, body: toolCall(12, 'everything__echo', { message: 5 }) })],
      [
        'stopped agent',
        () => ({ as: stoppedToken, body: toolCall(13, 'everything__echo', { message: 'x' }) }),
      ],
      [
        'malformed params',
        () => ({ as: token, body: { jsonrpc: '2.0', id: 14, method: 'tools/call', params: {} } }),
      ],
      ['arguments not an object', () => ({ as: token, body: toolCall(15, 'everything__echo', ['x']) })],
      [
        'a protocol version the SDK does not speak',
        () => ({
          as: token,
          body: toolCall(16, 'everything__echo', { message: 'x' }),
          headers: { 'mcp-protocol-version': '1999-01-01' },
        }),
      ],
    ];

    test('it takes only a plain list: one tools/list request, no params but a cursor, the SDK’s headers', () => {
      const req = (headers: Record<string, string> = {}) =>
        new Request('http://x/mcp/acme', { method: 'POST', headers: { ...MCP_HEADERS, ...headers } });
      const list = (params?: unknown) => ({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/list',
        ...(params === undefined ? {} : { params }),
      });
      for (const body of [list(), list({}), list({ cursor: 'next' }), list({ _meta: { trace: 'x' } })])
        assert.equal(plainList(req(), body), true, JSON.stringify(body));
      for (const body of [
        [list()],
        { ...list(), id: undefined },
        { ...list(), method: 'prompts/list' },
        list({ cursor: 5 }),
        list({ other: 1 }),
        list({ _meta: { progressToken: 'p' } }),
        list('not an object'),
      ])
        assert.equal(plainList(req(), body), false, JSON.stringify(body));
      for (const headers of [
        { accept: 'application/json' } as Record<string, string>,
        { 'content-type': 'text/plain' },
        { 'mcp-protocol-version': '1999-01-01' },
        { 'last-event-id': '1' },
      ])
        assert.equal(plainList(req(headers), list()), false, JSON.stringify(headers));
    });

    test('tools/list: the same bytes as the SDK’s answer, with and without a session, kept current as grants change', async () => {
      const list = (id: unknown, params?: unknown) => ({
        jsonrpc: '2.0',
        id,
        method: 'tools/list',
        ...(params === undefined ? {} : { params }),
      });
      const compare = async (
        name: string,
        as: string,
        body: unknown,
        headers: Record<string, string> = {},
      ) => {
        const plain = await answer(true, as, body, headers);
        const sdk = await answer(false, as, body, headers);
        assert.deepEqual(plain, { ...sdk, sdk: plain.sdk }, name);
        assert.equal(sdk.sdk, true, `${name}: the SDK answered when the plain path was off`);
        assert.equal(plain.sdk, false, `${name}: answered plainly`);
        return JSON.parse(plain.raw) as { result: { tools: Array<{ name: string; description: string }> } };
      };
      const sid = await initialize(token);
      const inSession = { 'mcp-session-id': sid, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
      const shown = await compare('no session', token, list(3));
      assert.deepEqual(shown.result.tools.map((t) => t.name).sort(), [
        'everything__echo',
        'everything__get-sum',
        'everything__toggle-simulated-logging',
      ]);
      assert.match(
        shown.result.tools.find((t) => t.name === 'everything__get-sum')!.description,
        /^\[needs a person’s approval\] /,
      );
      await compare('string id, a cursor', token, list('abc', { cursor: 'x' }));
      await compare('in a session', token, list(4), inSession);
      const halted = await compare('a stopped agent is shown nothing', stoppedToken, list(5));
      assert.deepEqual(halted.result.tools, []);
      // A grant given, then revoked: the kept list (and its JSON) follows, on both paths.
      const grant = await api('post', `/agents/${remoteId}/grants`, {
        connectionId: connId,
        tool: 'get-env',
      });
      assert.equal(grant.status, 201);
      const granted = await compare('after a grant', token, list(6), inSession);
      assert.ok(granted.result.tools.some((t) => t.name === 'everything__get-env'));
      assert.equal((await api('delete', `/agents/${remoteId}/grants/${grant.body.id}`)).status, 200);
      const revoked = await compare('after its revocation', token, list(7));
      assert.ok(!revoked.result.tools.some((t) => t.name === 'everything__get-env'));
      // Someone else's session is refused as the SDK refuses it.
      const refused = await answer(true, otherToken, list(8), inSession);
      assert.equal(refused.status, 404);
      assert.equal(refused.sdk, false);
    });

    test('without a session: the same answer as the SDK’s, case by case', async () => {
      for (const [name, make] of cases) {
        const { as, body, headers } = make();
        const plain = await answer(true, as, body, headers);
        const sdk = await answer(false, as, body, headers);
        assert.deepEqual(plain, { ...sdk, raw: plain.raw, sdk: plain.sdk }, name);
        assert.equal(sdk.sdk, true, `${name}: the SDK answered when the plain path was off`);
        // Those it must not take (malformed, a bad version) are the SDK's either way.
        assert.equal(
          plain.sdk,
          /malformed|not an object|protocol version/.test(name),
          `${name}: who answered`,
        );
        if (name === 'allowed') assert.match(plain.raw, /Echo: same/);
      }
      // The cases say what they are meant to say (the comparison is not of two failures).
      const denied = JSON.parse((await answer(true, token, toolCall(1, 'everything__get-env', {}))).raw);
      assert.equal(denied.result.isError, true);
      assert.match(denied.result.content[0].text, /^not_granted: |^tool_not_granted: |^\w+: /);
      const waiting = JSON.parse(
        (await answer(true, token, toolCall(2, 'everything__get-sum', { a: 1, b: 1 }))).raw,
      );
      assert.ok(waiting.result._meta['paddock/approval'].id);
      const stopped = JSON.parse((await answer(true, stoppedToken, toolCall(3, 'everything__echo', {}))).raw);
      assert.equal(stopped.result.isError, true);
    });

    test('in a session: the same answer as the SDK’s stream gives, headers included', async () => {
      const sid = await initialize(token);
      const headers = { 'mcp-session-id': sid, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
      for (const [name, make] of cases) {
        const { as, body, headers: more } = make();
        if (as !== token) continue; // another agent's token with this session is refused (below)
        const plain = await answer(true, as, body, { ...headers, ...more });
        const sdk = await answer(false, as, body, { ...headers, ...more });
        assert.deepEqual(plain, { ...sdk, raw: plain.raw, sdk: plain.sdk }, name);
        assert.equal(
          plain.sdk,
          /malformed|not an object|protocol version/.test(name),
          `${name}: who answered`,
        );
      }
      const allowed = await answer(true, token, toolCall(1, 'everything__echo', { message: 's' }), headers);
      assert.equal(allowed.status, 200);
      assert.ok(allowed.headers.includes(`mcp-session-id: ${sid}`));
    });

    test('someone else’s, unknown or forged session: the same 404, and the same refusal on record', async () => {
      const sid = await initialize(token);
      const refusals = async () =>
        (await allAuditEntries(t.store)).filter((e) => e.action === 'mcp.session.refused').length;
      const body = toolCall(1, 'everything__echo', { message: 'x' });
      for (const id of [sid, 'x'.repeat(43), 'garbage']) {
        const before = await refusals();
        const plain = await answer(true, otherToken, body, { 'mcp-session-id': id });
        await deps.audit.flush();
        const afterPlain = await refusals();
        const sdk = await answer(false, otherToken, body, { 'mcp-session-id': id });
        await deps.audit.flush();
        const afterSdk = await refusals();
        assert.deepEqual(plain, { ...sdk, raw: plain.raw, sdk: plain.sdk }, id);
        assert.equal(plain.sdk, false, 'refused before the SDK was reached');
        assert.equal(plain.status, 404);
        assert.equal(afterPlain - before, afterSdk - afterPlain, `${id}: recorded alike`);
        assert.equal(afterPlain - before, id === sid ? 1 : 0);
      }
    });

    test('a client that may be asked something, or asks for progress, is answered on the SDK’s stream', async () => {
      const sid = await initialize(token, { sampling: {} });
      const headers = { 'mcp-session-id': sid, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
      const res = await answer(true, token, toolCall(1, 'everything__echo', { message: 'x' }), headers);
      assert.equal(res.status, 200);
      assert.match(res.raw, /Echo: x/);
      assert.equal(res.sdk, true, 'a client that declared sampling is served by the SDK');
      const plainSid = await initialize(token);
      const streamed = await answer(
        true,
        token,
        toolCall(2, 'everything__get-sum', { a: 1, b: 2 }, { _meta: { progressToken: 'p' } }),
        { 'mcp-session-id': plainSid, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION },
      );
      assert.equal(streamed.status, 200);
      assert.match(streamed.raw, /approval_required/);
      assert.equal(streamed.sdk, true, 'a call that asks for progress is served by the SDK');
    });

    test('a log line a server sends during a plain call rides on the call’s answer, as on the SDK’s stream, not the GET stream', async () => {
      const sid = await initialize(token);
      const headers = { 'mcp-session-id': sid, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
      const stream = await app.request('/mcp/acme', {
        method: 'GET',
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers },
      });
      assert.equal(stream.status, 200);
      const reader = stream.body!.getReader();
      let seen = '';
      const reading = (async () => {
        for (;;) {
          const r = await reader.read();
          if (r.done) return;
          seen += new TextDecoder().decode(r.value);
        }
      })();
      /** The messages of an SSE answer, in order. */
      const messages = (raw: string) =>
        raw
          .split('\n\n')
          .map((e) => /^data: (.+)$/m.exec(e)?.[1])
          .filter((d): d is string => d !== undefined && d !== '')
          .map((d) => JSON.parse(d) as { method?: string; id?: number; result?: unknown });
      const shape = (raw: string) => messages(raw).map((m) => m.method ?? `answer ${m.id}`);
      try {
        // server-everything sends a log line at once when its simulated logging is switched on.
        const on = await answer(
          true,
          token,
          toolCall(1, 'everything__toggle-simulated-logging', {}),
          headers,
        );
        assert.equal(on.sdk, false, 'answered plainly');
        assert.ok(on.headers.includes('content-type: text/event-stream'), on.headers.join(', '));
        assert.ok(on.headers.includes(`mcp-session-id: ${sid}`));
        assert.deepEqual(shape(on.raw), ['notifications/message', 'answer 1']);
        assert.equal((messages(on.raw)[0] as { jsonrpc?: string }).jsonrpc, '2.0');
        // The SDK's stream carries it the same way (switched off, then on again through the SDK).
        await answer(true, token, toolCall(2, 'everything__toggle-simulated-logging', {}), headers);
        const viaSdk = await answer(
          false,
          token,
          toolCall(3, 'everything__toggle-simulated-logging', {}),
          headers,
        );
        assert.equal(viaSdk.sdk, true);
        assert.deepEqual(shape(viaSdk.raw), ['notifications/message', 'answer 3']);
        assert.deepEqual(messages(on.raw)[1]!.result, messages(viaSdk.raw)[1]!.result);
        await answer(true, token, toolCall(4, 'everything__toggle-simulated-logging', {}), headers);
        // A call during which the server says nothing is still plain JSON.
        const quiet = await answer(true, token, toolCall(5, 'everything__echo', { message: 'q' }), headers);
        assert.match(quiet.raw, /^\{"result":/);
        // Nothing of those calls went to the GET stream.
        await new Promise((r) => setTimeout(r, 200));
        assert.doesNotMatch(seen, /"method":"notifications\/message"/);
      } finally {
        await reader.cancel().catch(() => undefined);
        await reading.catch(() => undefined);
      }
    });

    test('a client’s answer may exceed the API’s 64 kB (up to 4 MiB); a request keeps the 64 kB its arguments are recorded under (413)', async () => {
      const sid = await initialize(token, { sampling: {} });
      const headers = { 'mcp-session-id': sid, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
      const large = 'x'.repeat(100 * 1024);
      // An answer to nothing this session asked: taken (202) and dropped.
      const answer = {
        jsonrpc: '2.0',
        id: 424242,
        result: { role: 'assistant', content: { type: 'text', text: large } },
      };
      const taken = await post(token, answer, headers);
      assert.equal(taken.status, 202, await taken.clone().text());
      const call = await post(token, toolCall(1, 'everything__echo', { message: large }), headers);
      assert.equal(call.status, 413);
      assert.equal((await call.json()).error.code, 'payload_too_large');
      const batch = await post(token, [answer, toolCall(2, 'everything__echo', { message: large })], headers);
      assert.equal(batch.status, 413, 'a request in a batch of answers');
      const huge = await post(
        token,
        { ...answer, result: { text: 'x'.repeat(MCP_MAX_BODY_BYTES) } },
        headers,
      );
      assert.equal(huge.status, 413);
      assert.equal((await huge.json()).error.code, 'payload_too_large');
    });

    test('a client that goes away ends a plain call waiting for a person, on record', async () => {
      await call(app, 'patch', '/api/v1/orgs/acme', {
        token: owner,
        body: { settings: { approvalWaitSeconds: 60 } },
      });
      try {
        const pending = async () =>
          (await api('get', '/approvals?status=pending')).body.approvals.length as number;
        const before = await pending();
        const sdkBefore = viaSdk;
        const away = new AbortController();
        const answered = Promise.resolve(
          post(token, toolCall(77, 'everything__get-sum', { a: 5, b: 5 }), {}, away.signal),
        ).catch((err: unknown) => err);
        await until(async () => (await pending()) > before || undefined, { what: 'the call waits' });
        away.abort();
        await answered;
        assert.equal(viaSdk, sdkBefore, 'the plain path served it');
        await until(
          async () => {
            await deps.audit.flush();
            return (
              (await allAuditEntries(t.store)).some(
                (e) =>
                  e.action === 'tool.call.denied' &&
                  /gave up while waiting for approval/.test(String(e.details)),
              ) || undefined
            );
          },
          { what: 'the give-up on record' },
        );
      } finally {
        await call(app, 'patch', '/api/v1/orgs/acme', {
          token: owner,
          body: { settings: { approvalWaitSeconds: 0 } },
        });
      }
    });
  });
}
