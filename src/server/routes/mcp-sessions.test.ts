/**
 * Sessions and streams of `/mcp/{org}` over real HTTP (both engines, a real server from npm in
 * the org's sandbox): the official SDK client opens a session and keeps it (only a digest
 * stored), DELETE ends it; someone else's, forged or garbage session ids and Last-Event-IDs get a
 * clear error that changes nothing; notifications reach an agent's GET stream and a lost stream
 * resumes with `Last-Event-ID`; the kill switch closes a live GET stream and ends the session; a
 * call waiting for approval sends progress (a client that resets its timeout on progress waits
 * it out) and a client that gives up leaves a clear record; a second replica (another
 * `McpSessions` on the same database) carries a session on with what `initialize` negotiated;
 * `mcp-remote`, the stdio bridge desktop clients use, keeps one session across its requests.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  LATEST_PROTOCOL_VERSION,
  type LoggingLevel,
  type Progress,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import pg from 'pg';
import { BusSeal } from '../../gateway/index.ts';
import { heldNotification } from '../../gateway/mcp-sessions/held-notifications.ts';
import { IDLE_MS, MAX_PER_AGENT, McpSessions } from '../../gateway/mcp-sessions/index.ts';
import { silentLogger } from '../../log/index.ts';
import { allAuditEntries, call, type SeededOrg, seedOrg } from '../../testing/fixtures.ts';
import {
  addStdioConnection,
  agentWithToken,
  type ServedPaddock,
  servePaddock,
} from '../../testing/served.ts';
import { STORE_KINDS, type TestStore } from '../../testing/stores.ts';
import { until } from '../../testing/until.ts';

const MCP_REMOTE = fileURLToPath(new URL('../../../node_modules/mcp-remote/dist/proxy.js', import.meta.url));
const digest = (s: string) => createHash('sha256').update(s).digest('hex');

/** The SSE events of a stream, one at a time. */
function events(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next(timeoutMs = 5_000): Promise<{ id?: string; data: any } | 'closed'> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (data) return { ...(id ? { id } : {}), data: JSON.parse(data) };
          continue; // a priming event or a keep-alive
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error('no event in time');
        const r = await Promise.race([
          reader.read(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no event in time')), left)),
        ]);
        if (r.done) return 'closed';
        buffer += decoder.decode(r.value, { stream: true });
      }
    },
    cancel: () => reader.cancel().catch(() => undefined),
  };
}

for (const kind of STORE_KINDS) {
  describe(`MCP sessions and streams on /mcp/{org} [${kind}]`, () => {
    let p: ServedPaddock;
    let t: TestStore;
    let deps: ServedPaddock['deps'];
    let app: ServedPaddock['app'];
    let url: string;
    let acme: SeededOrg;
    let globex: SeededOrg;
    let agentId: string;
    let token: string;
    let otherToken: string;
    let globexToken: string;
    const clients: Client[] = [];

    const api = (method: string, path: string, body?: unknown, as = acme.people.admin.token, org = 'acme') =>
      call(app, method, `/api/v1/orgs/${org}${path}`, { token: as, ...(body === undefined ? {} : { body }) });

    async function connect(
      withToken = token,
    ): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
      const client = new Client({ name: 'external-agent', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp/acme`), {
        requestInit: { headers: { authorization: `Bearer ${withToken}` } },
      });
      await client.connect(transport);
      clients.push(client);
      return { client, transport };
    }

    /** A request as a client sends it, with any headers. */
    const send = (method: string, headers: Record<string, string>, body?: unknown, withToken = token) =>
      fetch(`${url}/mcp/acme`, {
        method,
        headers: {
          authorization: `Bearer ${withToken}`,
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    let rpcId = 0;
    const rpc = (method: string, params: unknown = {}) => ({ jsonrpc: '2.0', id: ++rpcId, method, params });

    /** A session opened by hand (no GET stream of the SDK client's own): its id. */
    async function rawSession(withToken = token): Promise<string> {
      const init = await send(
        'POST',
        {},
        rpc('initialize', {
          protocolVersion: LATEST_PROTOCOL_VERSION,
          capabilities: { sampling: {} },
          clientInfo: { name: 'raw', version: '1' },
        }),
        withToken,
      );
      assert.equal(init.status, 200, await init.clone().text());
      await init.text();
      const id = init.headers.get('mcp-session-id')!;
      const ready = await send(
        'POST',
        { 'mcp-session-id': id },
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        withToken,
      );
      assert.equal(ready.status, 202);
      return id;
    }

    const rows = () => t.store.db.selectFrom('mcp_sessions').selectAll().orderBy('id_hash').execute();

    /** A second replica's sessions on the same PostgreSQL (its own bus listener), beside the served one. */
    const otherReplica = () =>
      new McpSessions({
        server: { gate: deps.gateway, db: t.store.db, log: silentLogger },
        store: t.store,
        databaseUrl: t.databaseUrl,
        audit: deps.audit,
        log: silentLogger,
        busSeal: new BusSeal((orgId) => deps.vault.dataKeyFor(t.store.db, orgId)),
      });

    /** What another replica is handed for a POST on session `id`: its caller as the session's row names it, and the request. */
    async function replicaCall(id: string, requestId = 'r-b') {
      const row = (await rows()).find((r) => r.id_hash === digest(id))!;
      const conn = {
        caller: {
          orgId: acme.id,
          agentId,
          onBehalfOf: row.issued_by,
          requestId,
          token: { id: row.token_id, issuedBy: row.issued_by },
        },
        approval: 'pause' as const,
      };
      const request = () =>
        new Request(`${url}/mcp/acme`, {
          method: 'POST',
          headers: {
            accept: 'application/json, text/event-stream',
            'content-type': 'application/json',
            'mcp-session-id': id,
            'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
          },
        });
      return { conn, request };
    }

    /** A POST on session `id` as another replica `b` serves it. */
    async function postOn(b: McpSessions, id: string, body: unknown, requestId = 'r-b'): Promise<Response> {
      const { conn, request } = await replicaCall(id, requestId);
      return b.serve(id, conn, request(), body);
    }

    /**
     * A session with its GET stream open here (A), and a second replica (B) listening on the same
     * bus: `body` runs with both, and the stream and B are closed after it.
     */
    async function streamBesideReplica(
      body: (s: { id: string; stream: ReturnType<typeof events>; b: McpSessions }) => Promise<void>,
    ): Promise<void> {
      const id = await rawSession();
      const res = await send('GET', { 'mcp-session-id': id, accept: 'text/event-stream' });
      assert.equal(res.status, 200);
      const stream = events(res.body!);
      const b = otherReplica();
      try {
        await Promise.all([b.listening(), deps.mcpSessions.listening()]);
        await body({ id, stream, b });
      } finally {
        await stream.cancel();
        await b.close();
      }
    }

    before(async () => {
      p = await servePaddock(kind);
      ({ t, deps, app, url } = p);
      acme = await seedOrg(t.store, 'acme');
      globex = await seedOrg(t.store, 'globex');
      const connectionId = await addStdioConnection(app, acme, { by: acme.people.admin.token });
      const remote = await agentWithToken(app, acme, {
        name: 'remote',
        grants: [
          { connectionId, tool: 'echo' },
          { connectionId, tool: 'get-sum', requiresApproval: true },
        ],
      });
      agentId = remote.id;
      token = remote.token;
      otherToken = (await agentWithToken(app, acme, { name: 'other' })).token;
      globexToken = (await agentWithToken(app, globex, { name: 'stranger' })).token;
    });

    after(async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      await p?.close();
    });

    // Replicas share PostgreSQL; anyone who can connect to it can NOTIFY on the bus.
    if (kind === 'postgres')
      test('an `ended` on the bus ends a session only once its row is gone: one NOTIFYed by a stranger ends none', async () => {
        const kept = await rawSession();
        const closed = await rawSession();
        assert.ok(deps.mcpSessions.serverOf(kept) && deps.mcpSessions.serverOf(closed));
        const stranger = new pg.Client({ connectionString: t.databaseUrl });
        await stranger.connect();
        try {
          const ended = (id: string) =>
            stranger.query('select pg_notify($1, $2)', [
              'paddock_mcp',
              JSON.stringify({ from: 'elsewhere', kind: 'ended', idHash: digest(id) }),
            ]);
          await ended(kept);
          // As another replica ends a session the client closed there: its row deleted, then `ended`.
          await t.store.db.deleteFrom('mcp_sessions').where('id_hash', '=', digest(closed)).execute();
          await ended(closed);
          await until(() => deps.mcpSessions.serverOf(closed) === undefined, {
            what: 'the closed session ended',
          });
          assert.ok(deps.mcpSessions.serverOf(kept), 'a session whose row is there lives on');
        } finally {
          await stranger.end();
        }
      });

    test('the official client opens a session (only its digest stored), keeps it, and DELETE ends it', async () => {
      const { client, transport } = await connect();
      const id = transport.sessionId!;
      assert.match(id, /^[A-Za-z0-9_-]{43}$/, '256 random bits');
      const stored = await rows();
      const row = stored.find((r) => r.id_hash === digest(id));
      assert.ok(row, 'stored by its digest');
      assert.ok(!JSON.stringify(stored).includes(id), 'the id itself is nowhere at rest');
      assert.equal(row.agent_id, agentId);
      assert.equal(row.protocol_version, LATEST_PROTOCOL_VERSION);
      assert.equal(JSON.parse(row.client_info).name, 'external-agent');
      const r = await client.callTool({ name: 'everything__echo', arguments: { message: 'hi' } });
      assert.match(JSON.stringify(r.content), /Echo: hi/);
      assert.equal(deps.mcpSessions.count(agentId) >= 1, true);
      await transport.terminateSession();
      assert.equal(
        (await rows()).some((x) => x.id_hash === digest(id)),
        false,
        'ended: its row is gone',
      );
      const after = await send('POST', { 'mcp-session-id': id }, rpc('tools/list'));
      assert.equal(after.status, 404);
      assert.equal((await after.json()).error.data.code, 'session_not_found');
    });

    test("forged, oversized, someone else's and another org's session ids, bad Last-Event-IDs and someone else's DELETE: a clear error that changes nothing", async () => {
      const id = await rawSession();
      const before = await rows();
      const notFound = async (res: Response) => {
        assert.equal(res.status, 404, await res.clone().text());
        const body = await res.json();
        assert.equal(body.error.code, -32001);
        assert.match(body.error.message, /Session not found/);
      };
      await notFound(
        await send('POST', { 'mcp-session-id': randomBytes(32).toString('base64url') }, rpc('tools/list')),
      );
      await notFound(await send('POST', { 'mcp-session-id': 'x'.repeat(4000) }, rpc('tools/list')));
      await notFound(
        await send('POST', { 'mcp-session-id': "'; drop table mcp_sessions; --" }, rpc('tools/list')),
      );
      // Another agent's token, then another org's agent token (at its own org's path), present it.
      await notFound(await send('POST', { 'mcp-session-id': id }, rpc('tools/list'), otherToken));
      const foreign = await fetch(`${url}/mcp/globex`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${globexToken}`,
          accept: 'application/json, text/event-stream',
          'content-type': 'application/json',
          'mcp-session-id': id,
        },
        body: JSON.stringify(rpc('tools/list')),
      });
      await notFound(foreign);
      await notFound(await send('DELETE', { 'mcp-session-id': id }, undefined, otherToken));
      await notFound(
        await send('GET', { 'mcp-session-id': id, accept: 'text/event-stream' }, undefined, otherToken),
      );
      // Bad Last-Event-IDs on the rightful session: 400, saying what is wrong.
      for (const last of ['garbage', '9'.repeat(16), 'x'.repeat(6000), '-1']) {
        const res = await send('GET', {
          'mcp-session-id': id,
          accept: 'text/event-stream',
          'last-event-id': last,
        });
        assert.equal(res.status, 400, last.slice(0, 20));
        assert.equal((await res.json()).error.data.code, 'bad_last_event_id');
      }
      // Without a session: GET and DELETE need one (400); POST is served without one.
      for (const method of ['GET', 'DELETE']) {
        const res = await send(method, { accept: 'text/event-stream, application/json' });
        assert.equal(res.status, 400);
        assert.equal((await res.json()).error.data.code, 'session_required');
      }
      // Nothing changed: the same sessions, the rightful owner's still works.
      assert.deepEqual(
        (await rows()).map((r) => [r.id_hash, r.agent_id, r.token_id]),
        before.map((r) => [r.id_hash, r.agent_id, r.token_id]),
      );
      const listed = await send('POST', { 'mcp-session-id': id }, rpc('tools/list'));
      assert.equal(listed.status, 200);
      assert.match(await listed.text(), /everything__echo/);
      // The attempts with a real session are on record, each in the presenter's own org.
      const refused = await until(
        async () => {
          await deps.audit.flush();
          const found = (await allAuditEntries(t.store)).filter((e) => e.action === 'mcp.session.refused');
          return found.length >= 4 ? found : undefined;
        },
        { what: 'the four refusals on record' },
      );
      assert.equal(refused.length, 4, 'another agent (POST, DELETE, GET) and another org');
      assert.ok(refused.some((e) => e.leaf?.includes(`"org":"${globex.id}"`)));
      assert.ok(refused.every((e) => e.actor_id !== agentId && e.leaf?.includes('"outcome":"denied"')));
      assert.ok(!JSON.stringify(refused).includes(id), 'the session id is not on record');
    });

    test('notifications reach the official client on its GET stream; a lost stream resumes with Last-Event-ID', async () => {
      const { client } = await connect();
      const heard: string[] = [];
      client.setNotificationHandler(
        ToolListChangedNotificationSchema,
        async (n) => void heard.push(n.method),
      );
      // The SDK client opens its GET stream right after initialize: wait until it is open here.
      await until(
        async () => {
          await deps.mcpSessions.notifyAgent(
            { orgId: acme.id, agentId },
            { method: 'notifications/tools/list_changed' },
          );
          return heard.length > 0;
        },
        { what: 'a notification on the SDK client’s GET stream' },
      );

      const id = await rawSession();
      const first = await send('GET', { 'mcp-session-id': id, accept: 'text/event-stream' });
      assert.equal(first.status, 200);
      assert.equal(first.headers.get('content-type'), 'text/event-stream');
      const stream = events(first.body!);
      await deps.mcpSessions.notifyAgent(
        { orgId: acme.id, agentId, sessionId: id },
        { method: 'notifications/tools/list_changed' },
      );
      const one = await stream.next();
      assert.ok(one !== 'closed' && one.id, 'an event with an id');
      assert.equal(one.data.method, 'notifications/tools/list_changed');
      await stream.cancel();
      await until(() => deps.mcpSessions.streamsOf(id) === 0, { what: 'the lost stream to be let go' });
      // Sent while no stream was open: kept, and replayed after the client's last event.
      await deps.mcpSessions.notifyAgent(
        { orgId: acme.id, agentId, sessionId: id },
        { method: 'notifications/resources/list_changed' },
      );
      const resumed = await send('GET', {
        'mcp-session-id': id,
        accept: 'text/event-stream',
        'last-event-id': one.id!,
      });
      assert.equal(resumed.status, 200);
      const replay = events(resumed.body!);
      const missed = await replay.next();
      assert.ok(missed !== 'closed');
      assert.equal(missed.data.method, 'notifications/resources/list_changed');
      assert.ok(Number(missed.id) > Number(one.id));
      await replay.cancel();
      // A well-formed id this replica never sent (another's, or long gone): a fresh stream, not an error.
      await until(() => deps.mcpSessions.streamsOf(id) === 0, { what: 'the resumed stream to be let go' });
      const headers = { 'mcp-session-id': id, accept: 'text/event-stream', 'last-event-id': '999999' };
      const fresh = await send('GET', headers);
      assert.equal(fresh.status, 200);
      await fresh.body?.cancel();
    });

    // Replicas share PostgreSQL (on SQLite there is one).
    if (kind === 'postgres')
      test('a stream lost on one replica resumes on another: a GET stream’s missed events (sealed where kept), then that replica’s own stream; a call’s stream replayed to its answer, then ended', async () => {
        const id = await rawSession();
        const first = await send('GET', { 'mcp-session-id': id, accept: 'text/event-stream' });
        assert.equal(first.status, 200);
        const stream = events(first.body!);
        const notify = (on: McpSessions, method: string) =>
          on.notifyAgent({ orgId: acme.id, agentId, sessionId: id }, { method } as never);
        await notify(deps.mcpSessions, 'notifications/tools/list_changed');
        const one = await stream.next();
        assert.ok(one !== 'closed' && one.id);
        await stream.cancel();
        await until(() => deps.mcpSessions.streamsOf(id) === 0, { what: 'the lost stream to be let go' });
        // Sent on A while no stream was open: kept there, and for the other replicas.
        await notify(deps.mcpSessions, 'notifications/resources/list_changed');
        const kept = await until(
          async () => {
            const r = await t.store.db
              .selectFrom('mcp_session_events')
              .selectAll()
              .where('session_hash', '=', digest(id))
              .where('seq', '>', Number(one.id))
              .execute();
            return r.length > 0 ? r : undefined;
          },
          { what: 'the event kept for other replicas' },
        );
        assert.ok(
          kept.every((r) => r.org_id === acme.id && !r.sealed.includes('list_changed')),
          'sealed',
        );
        const b = otherReplica();
        try {
          await Promise.all([b.listening(), deps.mcpSessions.listening()]);
          const row = (await rows()).find((r) => r.id_hash === digest(id))!;
          const conn = {
            caller: {
              orgId: acme.id,
              agentId,
              onBehalfOf: row.issued_by,
              requestId: 'r-b',
              token: { id: row.token_id, issuedBy: row.issued_by },
            },
            approval: 'pause' as const,
          };
          const get = (last: string) =>
            new Request(`${url}/mcp/acme`, {
              method: 'GET',
              headers: {
                accept: 'text/event-stream',
                'mcp-session-id': id,
                'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
                'last-event-id': last,
              },
            });
          const resumed = await b.serve(id, conn, get(one.id!), undefined);
          assert.equal(resumed.status, 200);
          assert.equal(resumed.headers.get('content-type'), 'text/event-stream');
          const replay = events(resumed.body!);
          const missed = await replay.next();
          assert.ok(missed !== 'closed');
          assert.equal(missed.data.method, 'notifications/resources/list_changed');
          assert.equal(missed.id, String(kept[0]!.seq), 'under the id A gave it');
          // B's own GET stream carries on in the same response.
          assert.equal(b.streamsOf(id), 1);
          await notify(b, 'notifications/prompts/list_changed');
          const next = await replay.next();
          assert.ok(next !== 'closed');
          assert.equal(next.data.method, 'notifications/prompts/list_changed');
          await replay.cancel();
          // A request's stream A sent (a call on the SDK's path: this client declared sampling): replayed, then the end.
          const called = await send(
            'POST',
            { 'mcp-session-id': id },
            rpc('tools/call', { name: 'everything__echo', arguments: { message: 'once more' } }),
          );
          assert.equal(called.status, 200);
          assert.match(await called.text(), /Echo: once more/);
          // The call's stream is the latest request stream kept (its priming event and its answer); the first is the priming one.
          const priming = await until(
            async () => {
              const kept = await t.store.db
                .selectFrom('mcp_session_events')
                .select(['seq', 'stream_id'])
                .where('session_hash', '=', digest(id))
                .where('stream_id', '!=', '_GET_stream')
                .orderBy('seq')
                .execute();
              const streams = [...new Set(kept.map((r) => r.stream_id))];
              const call = kept.filter((r) => r.stream_id === streams.at(-1));
              return streams.length >= 2 && call.length >= 2 ? call[0] : undefined;
            },
            { what: 'the call’s stream kept' },
          );
          const again = events((await b.serve(id, conn, get(String(priming.seq)), undefined)).body!);
          const answer = await again.next();
          assert.ok(answer !== 'closed');
          assert.match(JSON.stringify(answer.data.result), /Echo: once more/);
          assert.equal(await again.next(), 'closed');
          // Another agent's token presenting the session and its event id: the same 404 as ever.
          const other = { ...conn, caller: { ...conn.caller, agentId: 'agt_other' } };
          assert.equal((await b.serve(id, other, get(one.id!), undefined)).status, 404);
        } finally {
          await b.close();
        }
      });

    // Replicas share PostgreSQL (on SQLite there is one).
    if (kind === 'postgres')
      test('a notification too large for a NOTIFY (a long log line) reaches the session on another replica, held sealed; a forged reference delivers nothing; a stale one is not read', async () => {
        await streamBesideReplica(async ({ stream, b }) => {
          const line = `secret-looking line ${'x'.repeat(8000)}`;
          await b.notifyAgent(
            { orgId: acme.id, agentId },
            { method: 'notifications/message', params: { level: 'info', data: line } },
          );
          const got = await stream.next();
          assert.ok(got !== 'closed');
          assert.equal(got.data.method, 'notifications/message');
          assert.equal((got.data.params as { data: string }).data, line, 'delivered whole on A');
          const held = await t.store.db.selectFrom('mcp_held_notifications').selectAll().execute();
          assert.equal(held.length, 1);
          assert.equal(held[0]!.org_id, acme.id);
          assert.ok(!held[0]!.sealed.includes('secret-looking'), 'sealed at rest');
          // A stranger who can NOTIFY names the held row for another org, or a row that is not there: nothing is delivered.
          const forge = async (event: object) => {
            const client = new pg.Client({ connectionString: t.databaseUrl });
            await client.connect();
            try {
              await client.query('select pg_notify($1, $2)', ['paddock_mcp', JSON.stringify(event)]);
            } finally {
              await client.end();
            }
          };
          // The reference in clear, or sealed for another org: neither opens, and nothing is read.
          await forge({ from: 'x', kind: 'notify-held', orgId: acme.id, agentId, sealedRef: held[0]!.ref });
          await forge({ from: 'x', kind: 'notify-held', orgId: acme.id, agentId, ref: held[0]!.ref });
          const otherOrgs = new BusSeal((orgId) => deps.vault.dataKeyFor(t.store.db, orgId));
          await forge({
            from: 'x',
            kind: 'notify-held',
            orgId: acme.id,
            agentId,
            sealedRef: await otherOrgs.seal(globex.id, `held|notify|${agentId}||`, held[0]!.ref),
          });
          await b.notifyAgent({ orgId: acme.id, agentId }, { method: 'notifications/tools/list_changed' });
          const next = await stream.next();
          assert.ok(next !== 'closed');
          assert.equal(next.data.method, 'notifications/tools/list_changed', 'nothing came before it');
          // Read only while fresh: a row a sweep has not reached yet is past its minute all the same.
          const ref = held[0]!.ref;
          assert.ok(await heldNotification(t.store.db, acme.id, agentId, ref));
          assert.equal(await heldNotification(t.store.db, globex.id, agentId, ref), undefined, 'another org');
          await t.store.db
            .updateTable('mcp_held_notifications')
            .set({ created_at: new Date(Date.now() - 61_000).toISOString() })
            .execute();
          assert.equal(await heldNotification(t.store.db, acme.id, agentId, ref), undefined, 'stale');
          // Forgotten a minute on, by any replica's sweep.
          await b.sweep(Date.now() + 61_000);
          assert.equal(
            (await t.store.db.selectFrom('mcp_held_notifications').selectAll().execute()).length,
            0,
          );
        });
      });

    // Replicas share PostgreSQL (on SQLite there is one).
    if (kind === 'postgres')
      test('a log level chosen on one replica holds the session on the replica with its stream; a forged `level` event changes nothing', async () => {
        await streamBesideReplica(async ({ id, stream, b }) => {
          const chose = await postOn(b, id, rpc('logging/setLevel', { level: 'error' }), 'r-level');
          assert.equal(chose.status, 200, await chose.text());
          assert.equal((await rows()).find((r) => r.id_hash === digest(id))!.log_level, 'error');
          const log = (level: LoggingLevel, data: string) =>
            b.notifyAgent(
              { orgId: acme.id, agentId },
              { method: 'notifications/message', params: { level, data } },
            );
          /** A line below the level and one at or above it, sent on B: whether A's stream had the one below before the other. */
          let round = 0;
          const belowCame = async (below: LoggingLevel, above: LoggingLevel): Promise<boolean> => {
            const n = ++round;
            await log(below, `below ${n}`);
            await log(above, `above ${n}`);
            let seenBelow = false;
            for (;;) {
              const got = await stream.next();
              assert.ok(got !== 'closed');
              // Other notifications of the agent (a list changed) may come between.
              if (got.data.method !== 'notifications/message') continue;
              const data = (got.data.params as { data: string }).data;
              if (data === `below ${n}`) seenBelow = true;
              if (data === `above ${n}`) return seenBelow;
            }
          };
          // A's copy of the session learns the level (its row, read again on the bus's word).
          await until(async () => !(await belowCame('info', 'error')), {
            what: 'A holding the session to the level chosen on B',
          });
          // A forged `level` (anyone who can NOTIFY) sets nothing: the row still says error.
          const forge = new pg.Client({ connectionString: t.databaseUrl });
          await forge.connect();
          try {
            await forge.query('select pg_notify($1, $2)', [
              'paddock_mcp',
              JSON.stringify({
                from: 'x',
                kind: 'level',
                orgId: acme.id,
                agentId,
                idHash: digest(id),
                level: 'debug',
              }),
            ]);
          } finally {
            await forge.end();
          }
          for (let i = 0; i < 3; i++)
            assert.equal(await belowCame('warning', 'critical'), false, 'nothing below came');
        });
      });

    test('a call waiting for approval sends progress: a client that resets its timeout on progress waits until a person approves', async () => {
      assert.equal(
        (await api('patch', '', { settings: { approvalWaitSeconds: 8 } }, acme.people.owner.token)).status,
        200,
      );
      const { client } = await connect();
      const progress: Progress[] = [];
      const started = Date.now();
      const answer = client.callTool({ name: 'everything__get-sum', arguments: { a: 2, b: 3 } }, undefined, {
        onprogress: (p) => void progress.push(p),
        // Without progress the client would give up after 2.5 s, long before the approval.
        timeout: 2_500,
        resetTimeoutOnProgress: true,
      });
      const pending = await until(
        async () =>
          (await api('get', '/approvals?status=pending')).body.approvals.find(
            (a: { tool: string }) => a.tool === 'get-sum',
          ),
        { what: 'the approval request' },
      );
      await until(() => Date.now() - started > 4_000, {
        what: 'a wait past the client’s timeout',
        timeoutMs: 10_000,
      });
      assert.equal(
        (await api('post', `/approvals/${pending.id}/approve`, {}, acme.people.owner.token)).status,
        200,
      );
      const r = await answer;
      assert.equal(r.isError, false, JSON.stringify(r.content));
      assert.match(JSON.stringify(r.content), /5/);
      assert.ok(progress.length >= 2, `progress while waiting: ${progress.length}`);
      assert.match(
        progress[0]!.message ?? '',
        new RegExp(`Waiting for a person's approval \\(request ${pending.id}\\)`),
      );
      assert.equal(progress[0]!.total, 8);
      for (let i = 1; i < progress.length; i++) assert.ok(progress[i]!.progress > progress[i - 1]!.progress);
    });

    test('a client that gives up while waiting (cancels, or disconnects) leaves a clear record', async () => {
      const { client } = await connect();
      const cancel = new AbortController();
      let heard = 0;
      const gaveUp = client
        .callTool({ name: 'everything__get-sum', arguments: { a: 1, b: 1 } }, undefined, {
          signal: cancel.signal,
          onprogress: () => {
            heard += 1;
          },
        })
        .catch((err: unknown) => err);
      await until(() => heard > 0, { what: 'the first progress of the wait' });
      cancel.abort('the user pressed stop');
      assert.ok((await gaveUp) instanceof Error);
      // A client that simply goes away: its POST stream closes while the call waits.
      const id = await rawSession();
      const away = new AbortController();
      const res = await fetch(`${url}/mcp/acme`, {
        method: 'POST',
        signal: away.signal,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json, text/event-stream',
          'content-type': 'application/json',
          'mcp-session-id': id,
          'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
        },
        body: JSON.stringify(
          rpc('tools/call', {
            name: 'everything__get-sum',
            arguments: { a: 4, b: 4 },
            _meta: { progressToken: 'p1' },
          }),
        ),
      });
      const first = await events(res.body!).next();
      assert.ok(first !== 'closed' && first.data.method === 'notifications/progress', 'told it waits');
      away.abort();
      await deps.audit.flush();
      const records = await until(
        async () => {
          await deps.audit.flush();
          const found = (await allAuditEntries(t.store)).filter(
            (e) =>
              e.action === 'tool.call.denied' && /gave up while waiting for approval/.test(String(e.details)),
          );
          return found.length >= 2 ? found : undefined;
        },
        { what: 'both give-ups on record' },
      );
      assert.ok(records.every((e) => e.actor_id === agentId));
      assert.equal((await api('get', '/approvals?status=pending')).status, 200);
    });

    test('the kill switch closes a live GET stream and ends the session; re-initialized, the agent sees no tools', async () => {
      const id = await rawSession();
      const get = await send('GET', { 'mcp-session-id': id, accept: 'text/event-stream' });
      assert.equal(get.status, 200);
      const stream = events(get.body!);
      const ended = stream.next(10_000);
      assert.equal((await api('post', `/agents/${agentId}/stop`)).status, 200);
      try {
        assert.equal(await ended, 'closed', 'the stop closed the stream');
        assert.equal(
          (await rows()).some((r) => r.id_hash === digest(id)),
          false,
        );
        assert.equal((await send('POST', { 'mcp-session-id': id }, rpc('tools/list'))).status, 404);
        const { client } = await connect();
        assert.deepEqual((await client.listTools()).tools, []);
      } finally {
        assert.equal((await api('post', `/agents/${agentId}/resume`)).status, 200);
      }
    });

    test("a GET stream opened with a token that is then revoked closes, though the session (opened with another of the person's tokens) lives on", async () => {
      const second = await api('post', `/agents/${agentId}/tokens`, { name: 'second laptop' });
      assert.equal(second.status, 201, second.text);
      const id = await rawSession();
      const get = await send(
        'GET',
        { 'mcp-session-id': id, accept: 'text/event-stream' },
        undefined,
        second.body.token,
      );
      assert.equal(get.status, 200, 'the same person’s other token may read the session’s stream');
      const stream = events(get.body!);
      const ended = (async () => {
        for (;;) if ((await stream.next(5_000)) === 'closed') return 'closed';
      })().catch((err: Error) => err.message);
      const revoked = await api('delete', `/agents/${agentId}/tokens/${second.body.info.id}`);
      assert.equal(revoked.status, 200, revoked.text);
      try {
        assert.equal(await ended, 'closed', 'the revoked token’s stream closed');
      } finally {
        await stream.cancel();
      }
      const res = await send('POST', { 'mcp-session-id': id }, rpc('tools/list'));
      assert.equal(res.status, 200, 'the session lives on for the token that opened it');
      await res.text();
      const again = await send(
        'GET',
        { 'mcp-session-id': id, accept: 'text/event-stream' },
        undefined,
        second.body.token,
      );
      assert.equal(again.status, 401);
      await again.text();
    });

    test('a GET stream whose token expires closes at the next sweep: no event says so, and a stream is no credential', async () => {
      const third = await api('post', `/agents/${agentId}/tokens`, { name: 'short-lived' });
      assert.equal(third.status, 201, third.text);
      const id = await rawSession();
      const get = await send(
        'GET',
        { 'mcp-session-id': id, accept: 'text/event-stream' },
        undefined,
        third.body.token,
      );
      assert.equal(get.status, 200);
      const stream = events(get.body!);
      await deps.mcpSessions.sweep();
      assert.equal(deps.mcpSessions.streamsOf(id), 1, 'a live token’s stream stays open');
      await t.store.db
        .updateTable('agent_tokens')
        .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .where('id', '=', third.body.info.id)
        .execute();
      const ended = (async () => {
        for (;;) if ((await stream.next(5_000)) === 'closed') return 'closed';
      })().catch((err: Error) => err.message);
      await deps.mcpSessions.sweep();
      try {
        assert.equal(await ended, 'closed', 'the expired token’s stream closed');
      } finally {
        await stream.cancel();
      }
      const res = await send('POST', { 'mcp-session-id': id }, rpc('tools/list'));
      assert.equal(res.status, 200, 'the session lives on for the token that opened it');
      await res.text();
    });

    test('a flood of initializes keeps the agent at its most recent 100 sessions: the oldest ends', async () => {
      const opened: string[] = [];
      for (let i = 0; i <= MAX_PER_AGENT; i++) opened.push(await rawSession());
      const mine = (await rows()).filter((r) => r.agent_id === agentId);
      assert.equal(mine.length, MAX_PER_AGENT);
      assert.equal((await send('POST', { 'mcp-session-id': opened[0]! }, rpc('tools/list'))).status, 404);
      const last = await send('POST', { 'mcp-session-id': opened.at(-1)! }, rpc('tools/list'));
      assert.equal(last.status, 200);
      await last.text();
      assert.ok(deps.mcpSessions.count(agentId) <= MAX_PER_AGENT);
    });

    test("one person's flood of initializes does not end another person's session of the same agent", async () => {
      const tok = await api(
        'post',
        `/agents/${agentId}/tokens`,
        { name: 'owner laptop' },
        acme.people.owner.token,
      );
      assert.equal(tok.status, 201, tok.text);
      const owners = await rawSession(tok.body.token);
      for (let i = 0; i <= MAX_PER_AGENT; i++) await rawSession();
      const res = await send('POST', { 'mcp-session-id': owners }, rpc('tools/list'), tok.body.token);
      assert.equal(res.status, 200, 'the owner’s session lives on');
      await res.text();
      assert.equal(
        (await rows()).filter((r) => r.agent_id === agentId && r.issued_by === acme.people.admin.id).length,
        MAX_PER_AGENT,
      );
    });

    test('a client without a session cannot subscribe: its updates would have no stream, its subscription no end', async () => {
      const before = deps.gateway.relays.subscriptions;
      const res = await send(
        'POST',
        {},
        rpc('resources/subscribe', { uri: 'everything+demo://resource/static/document/architecture.md' }),
      );
      assert.equal(res.status, 200);
      const body = (await res.json()) as { error?: { message: string; data?: { code?: string } } };
      assert.equal(body.error?.data?.code, 'session_required');
      assert.match(body.error!.message, /initialize/);
      assert.equal(deps.gateway.relays.subscriptions, before, 'no subscription kept');
    });

    test('mcp-remote (the stdio bridge desktop clients use) opens a session and keeps it: a stdio client lists and calls through it', async () => {
      const client = new Client({ name: 'desktop-app', version: '2.0.0' });
      await client.connect(
        new StdioClientTransport({
          command: process.execPath,
          args: [
            MCP_REMOTE,
            `${url}/mcp/acme`,
            '--header',
            `Authorization:Bearer ${token}`,
            '--transport',
            'http-only',
          ],
          env: {
            ...(process.env as Record<string, string>),
            MCP_REMOTE_CONFIG_DIR: join(t.home, 'mcp-remote'),
          },
          stderr: 'ignore',
        }),
      );
      clients.push(client);
      try {
        const tools = (await client.listTools()).tools.map((x) => x.name);
        assert.ok(tools.includes('everything__echo'), tools.join(' '));
        for (const message of ['one', 'two']) {
          const r = await client.callTool({ name: 'everything__echo', arguments: { message } });
          assert.match(JSON.stringify(r.content), new RegExp(`Echo: ${message}`));
        }
        const mine = (await rows()).filter((r) => /desktop-app/.test(r.client_info));
        assert.equal(mine.length, 1, 'one session, kept across its requests');
      } finally {
        await client.close();
      }
    });

    test('another replica carries the session on: restored from its row with the negotiated version and the client’s capabilities', async () => {
      const id = await rawSession();
      // A second replica on the same database (as `paddock up` builds it), sharing nothing in memory.
      const b = new McpSessions({
        server: { gate: deps.gateway, db: t.store.db, log: silentLogger },
        store: t.store,
        audit: deps.audit,
        log: silentLogger,
        busSeal: new BusSeal((orgId) => deps.vault.dataKeyFor(t.store.db, orgId)),
      });
      try {
        const { conn, request } = await replicaCall(id);
        const res = await b.serve(id, conn, request(), rpc('tools/list'));
        assert.equal(res.status, 200);
        assert.match(await res.text(), /everything__echo/);
        const restored = b.serverOf(id)!;
        assert.deepEqual(restored.getClientCapabilities(), { sampling: {} });
        assert.deepEqual(restored.getClientVersion(), { name: 'raw', version: '1' });
        assert.equal(b.protocolVersionOf(id), LATEST_PROTOCOL_VERSION);
        // Another person's token on B: refused there too.
        const theirs = await b.serve(
          id,
          {
            ...conn,
            caller: { ...conn.caller, onBehalfOf: 'someone', token: { id: 'x', issuedBy: 'someone' } },
          },
          request(),
          rpc('tools/list'),
        );
        assert.equal(theirs.status, 404);
        // A session idle past the idle time (30 minutes) has ended: refused, and swept from the store.
        const idle = await rawSession();
        await t.store.db
          .updateTable('mcp_sessions')
          .set({ last_seen_at: new Date(Date.now() - IDLE_MS - 60_000).toISOString() })
          .where('id_hash', '=', digest(idle))
          .execute();
        const expired = await b.serve(idle, conn, request(), rpc('tools/list'));
        assert.equal(expired.status, 404);
        await b.sweep();
        assert.equal(
          (await rows()).some((r) => r.id_hash === digest(idle)),
          false,
        );
      } finally {
        await b.close();
      }
    });

    test('a session its client comes back to while a stop is still deleting its row ends with the stop', async () => {
      const id = await rawSession();
      // A replica whose database is slow to delete sessions: a request meanwhile still finds the row.
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      const slowed = <T extends object>(q: T): T =>
        new Proxy(q, {
          get(target, prop) {
            const v = Reflect.get(target, prop) as unknown;
            if (typeof v !== 'function') return v;
            if (prop === 'executeTakeFirst')
              return async (...a: unknown[]) => {
                await held;
                return v.apply(target, a);
              };
            return (...a: unknown[]) => {
              const r = v.apply(target, a) as unknown;
              return r && typeof r === 'object' && 'executeTakeFirst' in r ? slowed(r) : r;
            };
          },
        });
      const db = new Proxy(t.store.db, {
        get(target, prop) {
          const v = Reflect.get(target, prop) as unknown;
          if (prop === 'deleteFrom')
            return (table: 'mcp_sessions') => {
              const q = target.deleteFrom(table);
              return table === 'mcp_sessions' ? slowed(q) : q;
            };
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      const store = new Proxy(t.store, {
        get(target, prop) {
          if (prop === 'db') return db;
          const v = Reflect.get(target, prop) as unknown;
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      const c = new McpSessions({
        server: { gate: deps.gateway, db: t.store.db, log: silentLogger },
        store,
        audit: deps.audit,
        log: silentLogger,
        busSeal: new BusSeal((orgId) => deps.vault.dataKeyFor(t.store.db, orgId)),
      });
      const { conn, request: post } = await replicaCall(id, 'r-c');
      try {
        const first = await c.serve(id, conn, post(), rpc('tools/list'));
        assert.equal(first.status, 200);
        await first.text();
        // The stop ends it here at once; its row goes once the database answers.
        const ending = c.end({ kind: 'agent', orgId: acme.id, agentId });
        const back = await c.serve(id, conn, post(), rpc('tools/list'));
        await back.text();
        release();
        await ending;
        assert.equal(c.serverOf(id), undefined, 'the session taken up again meanwhile ended with the stop');
        assert.equal((await c.serve(id, conn, post(), rpc('tools/list'))).status, 404);
      } finally {
        release();
        await c.close();
      }
    });
  });
}
