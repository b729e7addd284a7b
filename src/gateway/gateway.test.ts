/**
 * The governed gateway end to end: real MCP servers from npm (server-everything and
 * server-filesystem) in the org's bubblewrap sandbox, reached by an external agent through
 * `/mcp/{org}` with the official MCP SDK client over real HTTP.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { journalFiles } from '../audit/index.ts';
import { makeFolder, serverFolder } from '../cells/folders.ts';
import { orgHostUser } from '../cells/host-users.ts';
import { bubblewrap } from '../cells/index.ts';
import { call, type SeededOrg, seedOrg } from '../testing/fixtures.ts';
import {
  addStdioConnection,
  agentWithToken,
  EVERYTHING,
  type ServedPaddock,
  servePaddock,
} from '../testing/served.ts';
import { STORE_KINDS, type StoreKind, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';

// Each server session's /cell is its own folder (the connection's, for that agent).
const FILESYSTEM = ['node_modules/@modelcontextprotocol/server-filesystem/dist/index.js', '/cell'];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

type Result = { isError?: boolean; content: Array<{ type: string; text?: string }> };
const text = (r: unknown) => (r as Result).content.map((c) => c.text ?? '').join('\n');

/** On each engine: the same suite, once per store kind. */
function gatewaySuite(kind: StoreKind): void {
  let paddock: ServedPaddock;
  let t: TestStore;
  let deps: ServedPaddock['deps'];
  let app: ServedPaddock['app'];
  let url: string;
  let acme: SeededOrg;
  let beta: SeededOrg;
  let everything: string;
  let files: string;
  /** The files server's /cell for an agent, on the host, with `sub` made in it as the org's user. */
  async function filesDir(agentId: string, sub: string): Promise<string> {
    const user = bubblewrap.runsAsOrgUsers ? await orgHostUser(t.store.db, acme.id) : undefined;
    const folder = serverFolder(t.home, acme.id, files, agentId);
    makeFolder(t.home, folder, user);
    mkdirSync(join(folder, sub));
    if (user) chownSync(join(folder, sub), user.uid, user.gid);
    return join(folder, sub);
  }
  const clients: Client[] = [];

  const admin = () => acme.people.admin.token;
  const api = (method: 'get' | 'post' | 'delete' | 'patch', path: string, body?: unknown, token = admin()) =>
    call(app, method, `/api/v1/orgs/acme${path}`, { token, ...(body === undefined ? {} : { body }) });

  const newAgent = (name: string, org = acme) => agentWithToken(app, org, { name, tokenName: 'mcp' });

  async function connect(token: string, org = 'acme'): Promise<Client> {
    const client = new Client({ name: 'external-agent', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${url}/mcp/${org}`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    clients.push(client);
    return client;
  }

  async function grant(agentId: string, body: Record<string, unknown>) {
    const g = await api('post', `/agents/${agentId}/grants`, body);
    assert.equal(g.status, 201, g.text);
    return g.body.id as string;
  }

  const addConnection = (name: string, args: string[], env?: Record<string, string>) =>
    addStdioConnection(app, acme, { name, args, ...(env ? { env } : {}), by: admin() });

  before(async () => {
    paddock = await servePaddock(kind);
    ({ t, deps, app, url } = paddock);
    acme = await seedOrg(t.store, 'acme');
    beta = await seedOrg(t.store, 'beta');
    everything = await addConnection('Everything', EVERYTHING);
    files = await addConnection('files', FILESYSTEM);
    // Calls needing approval answer at once here; the pause itself has its own test.
    await call(app, 'patch', '/api/v1/orgs/acme', {
      token: acme.people.owner.token,
      body: { settings: { approvalWaitSeconds: 0 } },
    });
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await paddock?.close();
  });

  test('an agent with no grants sees no tools, and every call is denied and audited', async () => {
    const agent = await newAgent('nothing-granted');
    const client = await connect(agent.token);
    assert.deepEqual((await client.listTools()).tools, []);
    const r = await client.callTool({ name: 'everything__echo', arguments: { message: 'hi' } });
    assert.equal(r.isError, true);
    assert.match(
      text(r),
      /^tool_denied: No grant allows this agent to call everything__echo: it has none for this tool\./,
    );
    await deps.audit.flush();
    const denied = await t.store.db
      .selectFrom('audit_entries')
      .select(['action', 'details'])
      .where('actor_id', '=', agent.id)
      .execute();
    assert.deepEqual(
      denied.map((d) => d.action),
      ['tool.call.denied'],
    );
    // On record: why in words, and the name the agent used beside the ids.
    const details = JSON.parse(denied[0]!.details!);
    assert.equal(details.reason, 'no grant for this tool');
    assert.equal(details.calledAs, 'everything__echo');
  });

  test('tools/list shows exactly the granted tools, namespaced by connection; constraints hold', async () => {
    const agent = await newAgent('writer');
    const out = await filesDir(agent.id, 'out');
    await grant(agent.id, {
      connectionId: everything,
      tool: 'echo',
      constraints: [{ arg: 'message', prefix: 'status:' }],
    });
    await grant(agent.id, {
      connectionId: files,
      tool: 'write_file',
      constraints: [{ arg: 'path', prefix: '/cell/out/' }],
    });
    const client = await connect(agent.token);
    const names = (await client.listTools()).tools.map((x) => x.name).sort();
    assert.deepEqual(names, ['everything__echo', 'files__write_file']);

    const ok = await client.callTool({ name: 'everything__echo', arguments: { message: 'status: ok' } });
    assert.equal(ok.isError, false, text(ok));
    assert.match(text(ok), /Echo: status: ok/);
    // An argument holding NUL is the agent's data: it goes through (and is on record) on both engines.
    const nul = await client.callTool({
      name: 'everything__echo',
      arguments: { message: 'status: a\u0000b' },
    });
    assert.equal(nul.isError, false, text(nul));
    assert.match(text(nul), /Echo: status: a.b/);
    const outside = await client.callTool({ name: 'everything__echo', arguments: { message: 'rm -rf /' } });
    assert.equal(outside.isError, true);
    assert.match(
      text(outside),
      /^tool_denied: No grant allows everything__echo with these arguments: the grant needs message starts with "status:" \(no "\.\."\)\./,
    );

    const wrote = await client.callTool({
      name: 'files__write_file',
      arguments: { path: '/cell/out/report.txt', content: 'quarterly' },
    });
    assert.equal(wrote.isError, false, text(wrote));
    assert.equal(readFileSync(join(out, 'report.txt'), 'utf8'), 'quarterly');
    for (const path of ['/cell/escape.txt', '/cell/out/../escape.txt']) {
      const refused = await client.callTool({ name: 'files__write_file', arguments: { path, content: 'x' } });
      assert.equal(refused.isError, true, path);
      assert.match(text(refused), /tool_denied/);
    }
    assert.ok(!existsSync(join(out, '..', 'escape.txt')));
    const notGranted = await client.callTool({
      name: 'files__list_directory',
      arguments: { path: '/cell' },
    });
    assert.match(text(notGranted), /tool_denied/);

    const perms = await api('get', `/agents/${agent.id}/permissions`, undefined, acme.people.auditor.token);
    assert.equal(perms.status, 200, perms.text);
    const echo = perms.body.tools.find((p: any) => p.tool.name === 'echo');
    assert.equal(echo.access, 'conditional');
    assert.deepEqual(echo.conditions, ['message starts with "status:" (no "..")']);
  });

  test("effective permissions do not show a member other people's private connections", async () => {
    const mine = await api('post', '/connections', {
      name: 'admin-private',
      transport: 'stdio',
      command: 'node',
      args: EVERYTHING,
      private: true,
    });
    assert.equal(mine.status, 201, mine.text);
    assert.equal((await api('post', `/connections/${mine.body.id}/tools/refresh`)).status, 200);
    const agent = await newAgent('sees-private');
    await grant(agent.id, { connectionId: mine.body.id, tool: 'echo' });
    const names = async (token: string) =>
      (await api('get', `/agents/${agent.id}/permissions`, undefined, token)).body.tools.map(
        (x: any) => x.connectionName,
      );
    assert.deepEqual(await names(admin()), ['admin-private']);
    assert.deepEqual(await names(acme.people.member.token), []);
    const grantsSeen = (await api('get', `/agents/${agent.id}/grants`, undefined, acme.people.member.token))
      .body.grants;
    assert.deepEqual(grantsSeen, [], 'nor through its grants');
  });

  test("other orgs' agents, tokens and connections are unreachable; people's tokens are not agent tokens", async () => {
    const agent = await newAgent('acme-agent');
    const stranger = await newAgent('beta-agent', beta);
    const post = (path: string, token?: string) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
    assert.equal((await post('/mcp/acme')).status, 401, 'no token');
    assert.equal((await post('/mcp/acme', acme.people.owner.token)).status, 401, "a person's API token");
    assert.equal((await post('/mcp/acme', stranger.token)).status, 404, "beta's agent on acme's endpoint");
    assert.equal((await post('/mcp/nope', agent.token)).status, 404);
    // Beta's agent on its own endpoint cannot name acme's connection.
    const betaClient = await connect(stranger.token, 'beta');
    const r = await betaClient.callTool({ name: 'everything__echo', arguments: { message: 'status: x' } });
    assert.match(text(r), /No tool named/);
    // A revoked agent token stops working at once.
    await api('delete', `/agents/${agent.id}/tokens/${agent.tokenId}`);
    const revoked = await post('/mcp/acme', agent.token);
    assert.equal(revoked.status, 401);
    assert.equal(((await revoked.json()) as any).error.code, 'token_revoked');
  });

  test('approvals: single-use, bound to the exact arguments and the policy version, expiring; never by the agent', async () => {
    const agent = await newAgent('adder');
    await grant(agent.id, { connectionId: everything, tool: 'get-sum', requiresApproval: true });
    const client = await connect(agent.token);
    const tools = (await client.listTools()).tools;
    assert.match(
      tools.find((x) => x.name === 'everything__get-sum')!.description!,
      /needs a person’s approval/,
    );

    const sum = (a: number, b: number) =>
      client.callTool({ name: 'everything__get-sum', arguments: { a, b } });
    const first = await sum(2, 3);
    assert.equal(first.isError, true);
    assert.match(text(first), /approval_required/);
    const pending = await api('get', '/approvals?status=pending', undefined, acme.people.auditor.token);
    const request = pending.body.approvals.find((a: any) => a.agentId === agent.id);
    assert.deepEqual(request.args, { a: 2, b: 3 });
    // Asking again does not pile up requests.
    await sum(2, 3);
    assert.equal(
      (await api('get', '/approvals?status=pending')).body.approvals.filter(
        (a: any) => a.agentId === agent.id,
      ).length,
      1,
    );
    // The agent cannot approve (its token is no API credential), nor can an auditor.
    assert.equal((await api('post', `/approvals/${request.id}/approve`, {}, agent.token)).status, 401);
    assert.equal(
      (await api('post', `/approvals/${request.id}/approve`, {}, acme.people.auditor.token)).status,
      403,
    );

    const approved = await api('post', `/approvals/${request.id}/approve`, { reason: 'fine' });
    assert.equal(approved.status, 200, approved.text);
    assert.match(text(await sum(2, 4)), /approval_required/, 'other arguments need their own approval');
    const ran = await sum(2, 3);
    assert.equal(ran.isError, false, text(ran));
    assert.match(text(ran), /5/);
    assert.match(text(await sum(2, 3)), /approval_required/, 'an approval is used once');

    // Expired before use: refused, a new request is made.
    const again = (await api('get', '/approvals?status=pending')).body.approvals.find(
      (a: any) => a.agentId === agent.id && a.args.b === 3,
    );
    assert.equal((await api('post', `/approvals/${again.id}/approve`, {})).status, 200);
    await t.store.db
      .updateTable('approvals')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('id', '=', again.id)
      .execute();
    assert.match(text(await sum(2, 3)), /approval_required/, 'an expired approval is no approval');

    // A grant change moves the policy version: an approval given before no longer applies.
    const fresh = (await api('get', '/approvals?status=pending')).body.approvals.find(
      (a: any) => a.agentId === agent.id && a.args.b === 3,
    );
    assert.equal((await api('post', `/approvals/${fresh.id}/approve`, {})).status, 200);
    await grant(agent.id, { connectionId: everything, tool: 'echo' });
    assert.match(text(await sum(2, 3)), /approval_required/, 'the policy changed since the approval');

    await deps.audit.flush();
    const actions = (
      await t.store.db
        .selectFrom('audit_entries')
        .select(['action', 'leaf', 'details'])
        .where('log_id', '=', acme.id)
        .execute()
    ).map((e) => e.action);
    for (const a of ['approval.requested', 'approval.granted', 'tool.call.allowed'])
      assert.ok(actions.includes(a), a);
  });

  test('a call needing approval pauses: approved meanwhile it runs, denied it is refused', async () => {
    const agent = await newAgent('patient');
    const sumGrant = await grant(agent.id, {
      connectionId: everything,
      tool: 'get-sum',
      requiresApproval: true,
    });
    await api('patch', '', { settings: { approvalWaitSeconds: 60 } }, acme.people.owner.token);
    try {
      const client = await connect(agent.token);
      const pendingFor = (match: (a: any) => boolean, what: string) =>
        until(
          async () =>
            (await api('get', '/approvals?status=pending')).body.approvals.find(
              (a: any) => a.agentId === agent.id && match(a),
            ),
          { what },
        );
      const decideWhenAsked = async (decision: 'approve' | 'deny') => {
        const p = await pendingFor(() => true, 'the paused call’s approval request');
        return api('post', `/approvals/${p.id}/${decision}`, {}, acme.people.owner.token);
      };
      // Read after a flush: a denial is acknowledged from the journal, placed in the log just after.
      const deniedCalls = async () => {
        await deps.audit.flush();
        return (
          await t.store.db
            .selectFrom('audit_entries')
            .select('id')
            .where('actor_id', '=', agent.id)
            .where('action', '=', 'tool.call.denied')
            .execute()
        ).length;
      };
      const started = Date.now();
      const [r, approved] = await Promise.all([
        client.callTool({ name: 'everything__get-sum', arguments: { a: 20, b: 22 } }),
        decideWhenAsked('approve'),
      ]);
      assert.equal(approved.status, 200, approved.text);
      assert.equal(r.isError, false, text(r));
      assert.match(text(r), /42/);
      assert.ok(Date.now() - started < 30_000, 'it went on as soon as a person approved, not after the wait');
      const [refused] = await Promise.all([
        client.callTool({ name: 'everything__get-sum', arguments: { a: 1, b: 1 } }),
        decideWhenAsked('deny'),
      ]);
      assert.match(text(refused), /approval_denied/);

      // The client gives up while the call waits (its cancellation arrives on another request):
      // the paused call ends, on record, and approving its request afterwards runs nothing.
      const denied = await deniedCalls();
      await assert.rejects(
        client.callTool({ name: 'everything__get-sum', arguments: { a: 30, b: 3 } }, undefined, {
          timeout: 800,
        }),
      );
      await until(async () => (await deniedCalls()) > denied, { what: 'the abandoned call to end' });
      const late = await pendingFor((a) => a.args.a === 30, 'the abandoned call’s request');
      const approvedLate = await api('post', `/approvals/${late.id}/approve`, {}, acme.people.owner.token);
      assert.equal(approvedLate.status, 200, approvedLate.text);
      await deps.audit.flush();
      const ran = await t.store.db
        .selectFrom('audit_entries')
        .select(['leaf', 'details'])
        .where('actor_id', '=', agent.id)
        .where('action', '=', 'tool.call.allowed')
        .execute();
      assert.ok(!ran.some((e) => `${e.leaf}${e.details}`.includes('"a":30')), 'an abandoned call never runs');

      // The grant is revoked while a call waits: approving it is refused, and the call never runs.
      await api('patch', '', { settings: { approvalWaitSeconds: 2 } }, acme.people.owner.token);
      const waiting = client.callTool({ name: 'everything__get-sum', arguments: { a: 5, b: 5 } });
      const pendingId = (await pendingFor((a) => a.args.a === 5, 'the waiting call’s request')).id;
      assert.equal((await api('delete', `/agents/${agent.id}/grants/${sumGrant}`)).status, 200);
      const stale = await api('post', `/approvals/${pendingId}/approve`, {}, acme.people.owner.token);
      assert.equal(stale.status, 409, stale.text);
      assert.equal(stale.body.error.code, 'approval_stale');
      const after = await waiting;
      assert.equal(after.isError, true);
      // The answer names its approval request (a random id may hold "10"): check what ran instead.
      await deps.audit.flush();
      const allowed = await t.store.db
        .selectFrom('audit_entries')
        .select(['leaf', 'details'])
        .where('actor_id', '=', agent.id)
        .where('action', '=', 'tool.call.allowed')
        .execute();
      assert.ok(
        !allowed.some((e) => `${e.details}`.includes('"a":5')),
        `the revoked call must not run: ${text(after)}`,
      );
    } finally {
      await api('patch', '', { settings: { approvalWaitSeconds: 0 } }, acme.people.owner.token);
    }
  });

  test('with the two-person rule, the person who asked cannot approve their own call', async () => {
    const agent = await newAgent('two-person');
    await grant(agent.id, { connectionId: everything, tool: 'get-sum', requiresApproval: true });
    assert.equal(
      (await api('patch', '', { settings: { approvalsNeedTwoPeople: true } }, acme.people.owner.token))
        .status,
      200,
    );
    try {
      const ask = () =>
        api('post', `/agents/${agent.id}/calls`, {
          connectionId: everything,
          tool: 'get-sum',
          args: { a: 1, b: 1 },
        });
      const held = await ask();
      assert.equal(held.status, 403);
      assert.equal(held.body.error.code, 'approval_required');
      const id = held.body.error.details.approvalId;
      const self = await api('post', `/approvals/${id}/approve`, {});
      assert.equal(self.status, 403);
      assert.equal(self.body.error.code, 'self_approval');
      assert.equal((await api('post', `/approvals/${id}/approve`, {}, acme.people.owner.token)).status, 200);
      const ran = await ask();
      assert.equal(ran.status, 200, ran.text);

      // Through the MCP endpoint the agent's calls answer to whoever issued its token (the admin).
      const client = await connect(agent.token);
      const viaMcp = await client.callTool({ name: 'everything__get-sum', arguments: { a: 7, b: 8 } });
      const mcpId = /request (apr_\w+)/.exec(text(viaMcp))![1]!;
      assert.equal((await api('post', `/approvals/${mcpId}/approve`, {})).body.error.code, 'self_approval');
      assert.equal(
        (await api('post', `/approvals/${mcpId}/approve`, {}, acme.people.owner.token)).status,
        200,
      );
      assert.match(
        text(await client.callTool({ name: 'everything__get-sum', arguments: { a: 7, b: 8 } })),
        /15/,
      );
    } finally {
      await api('patch', '', { settings: { approvalsNeedTwoPeople: false } }, acme.people.owner.token);
    }
  });

  test('a test call with approval "return" answers at once with the request, and runs once it is approved', async () => {
    const agent = await newAgent('no-wait');
    await grant(agent.id, { connectionId: everything, tool: 'get-sum', requiresApproval: true });
    await api('patch', '', { settings: { approvalWaitSeconds: 60 } }, acme.people.owner.token);
    try {
      const ask = () =>
        api('post', `/agents/${agent.id}/calls`, {
          connectionId: everything,
          tool: 'get-sum',
          args: { a: 4, b: 5 },
          approval: 'return',
        });
      const started = Date.now();
      const held = await ask();
      assert.equal(held.body.error?.code, 'approval_required', held.text);
      assert.ok(Date.now() - started < 10_000, 'answered at once, not after the minute’s wait');
      const id = held.body.error.details.approvalId;
      assert.equal((await api('post', `/approvals/${id}/approve`, {}, acme.people.owner.token)).status, 200);
      const ran = await ask();
      assert.equal(ran.status, 200, ran.text);
      assert.match(ran.body.auditEntryId, /^evt_/);
    } finally {
      await api('patch', '', { settings: { approvalWaitSeconds: 0 } }, acme.people.owner.token);
    }
  });

  test('an approval serves only the calls of the person it was asked for; the approver sees the exact arguments', async () => {
    const agent = await newAgent('shared');
    await grant(agent.id, { connectionId: everything, tool: 'echo', requiresApproval: true });
    const message = 'Bearer AAAAAAAAAAAAAAAAAAAA && curl evil.example';
    const ask = (token: string) =>
      api(
        'post',
        `/agents/${agent.id}/calls`,
        { connectionId: everything, tool: 'echo', args: { message } },
        token,
      );
    const byAdmin = await ask(admin());
    const forAdmin = byAdmin.body.error.details.approvalId;
    const byOwner = await ask(acme.people.owner.token);
    assert.notEqual(
      byOwner.body.error.details.approvalId,
      forAdmin,
      'another person asking gets their own request',
    );
    const listed = (await api('get', '/approvals?status=pending', undefined, acme.people.auditor.token)).body
      .approvals;
    assert.equal(
      listed.find((a: any) => a.id === forAdmin).args.message,
      message,
      'nothing hidden from the approver',
    );
    assert.equal(
      (await api('post', `/approvals/${forAdmin}/approve`, {}, acme.people.owner.token)).status,
      200,
    );
    assert.equal(
      (await ask(acme.people.owner.token)).body.error.code,
      'approval_required',
      "the admin's approval is not the owner's",
    );
    assert.equal((await ask(admin())).status, 200);
    // An expired request is listed as such, and only there.
    await t.store.db
      .updateTable('approvals')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('id', '=', byOwner.body.error.details.approvalId)
      .execute();
    const expired = (await api('get', '/approvals?status=expired')).body.approvals.map((a: any) => a.id);
    const pending = (await api('get', '/approvals?status=pending')).body.approvals.map((a: any) => a.id);
    assert.ok(expired.includes(byOwner.body.error.details.approvalId));
    assert.ok(!pending.includes(byOwner.body.error.details.approvalId));
  });

  test('deleting a connection, or narrowing a secret, ends the sessions that depended on it', async () => {
    const value = 'rescoped-secret-44d1a0';
    const secret = await api('post', '/secrets', {
      name: 'short-lived',
      kind: 'connector_credential',
      value,
    });
    const conn = await addConnection('ephemeral', EVERYTHING, { API_TOKEN: secret.body.id });
    const agent = await newAgent('dependent');
    await grant(agent.id, { connectionId: conn, tool: 'echo' });
    await grant(agent.id, { connectionId: conn, tool: 'get-env' });
    const run = (tool: string) =>
      api('post', `/agents/${agent.id}/calls`, {
        connectionId: conn,
        tool,
        args: tool === 'echo' ? { message: 'x' } : {},
      });
    assert.equal((await run('get-env')).status, 200);
    // The secret now belongs to another agent only: the open server, which holds it, is ended.
    const other = await newAgent('entitled');
    assert.equal((await api('patch', `/secrets/${secret.body.id}`, { agentIds: [other.id] })).status, 200);
    const refused = await run('get-env');
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.body.error.code, 'secret_not_allowed');
    // Deleting the connection removes its grants (on record) and ends what was open.
    assert.equal((await api('patch', `/secrets/${secret.body.id}`, { agentIds: [agent.id] })).status, 200);
    assert.equal((await run('echo')).status, 200);
    assert.equal((await api('delete', `/connections/${conn}`)).status, 204);
    const after = await run('echo');
    assert.equal(after.status, 404, after.text);
    assert.equal(after.body.error.code, 'connection_not_found');
    await deps.audit.flush();
    const deleted = await t.store.db
      .selectFrom('audit_entries')
      .select(['leaf', 'details'])
      .where('action', '=', 'connection.deleted')
      .where('target_id', '=', conn)
      .executeTakeFirstOrThrow();
    assert.equal(JSON.parse(deleted.details!).grantsRemoved.length, 2);
  });

  test('kill switch: once stop is acknowledged, no call of the agent executes, in flight or new', async () => {
    const agent = await newAgent('runaway');
    const killDir = await filesDir(agent.id, 'kill');
    await grant(agent.id, {
      connectionId: files,
      tool: 'write_file',
      constraints: [{ arg: 'path', prefix: '/cell/kill/' }],
    });
    await grant(agent.id, { connectionId: everything, tool: 'trigger-long-running-operation' });
    const client = await connect(agent.token);
    const long = Array.from({ length: 4 }, () =>
      client
        .callTool({
          name: 'everything__trigger-long-running-operation',
          arguments: { duration: 20, steps: 2 },
        })
        .then((r) => ({ r, at: Date.now() })),
    );
    let n = 0;
    let stopping = false;
    const writers = Array.from({ length: 4 }, async () => {
      const outcomes: string[] = [];
      while (outcomes.length < 10_000) {
        // The stop also ends the session: a call sent after it is refused as of no session.
        const r = await client
          .callTool({ name: 'files__write_file', arguments: { path: `/cell/kill/${n++}.txt`, content: 'x' } })
          .catch((err: unknown) => ({ isError: true, content: [{ type: 'text', text: String(err) }] }));
        outcomes.push(r.isError ? text(r as CallToolResult) : 'ok');
        if (stopping && r.isError) break;
      }
      return outcomes;
    });
    // Writes are landing, and the four long calls are past their (durable) decision: in flight.
    await until(
      async () =>
        readdirSync(killDir).length > 0 &&
        (
          await t.store.db
            .selectFrom('audit_entries')
            .select('id')
            .where('actor_id', '=', agent.id)
            .where('action', '=', 'tool.call.allowed')
            .where('target_id', '=', `${everything}/trigger-long-running-operation`)
            .execute()
        ).length >= 4,
      { what: 'writes and long calls running before the stop' },
    );
    stopping = true;
    const stop = await api('post', `/agents/${agent.id}/stop`);
    const ackedAt = Date.now();
    assert.equal(stop.status, 200, stop.text);
    const atAck = readdirSync(killDir).sort();
    const settled = await Promise.all(long);
    for (const { r, at } of settled) {
      assert.equal(r.isError, true);
      assert.match(text(r), /agent_stopped/);
      assert.ok(at - ackedAt < 10_000, 'the in-flight call ended with the stop, not after its 20 s');
    }
    const outcomes = await Promise.all(writers);
    // A check that nothing happened: the pause can only give a late write (the bug) time to land.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(readdirSync(killDir).sort(), atAck, 'nothing was written after the stop');
    for (const o of outcomes) assert.match(o.at(-1)!, /agent_stopped|Session not found/);
    assert.equal(deps.gateway.kills.inFlight({ agentId: agent.id }), 0);
    await deps.audit.flush();
    const stoppedCalls = await t.store.db
      .selectFrom('audit_entries')
      .select(['leaf', 'details'])
      .where('actor_id', '=', agent.id)
      .where('action', '=', 'tool.call.completed')
      .where('outcome', '=', 'failure')
      .execute();
    assert.ok(stoppedCalls.some((e) => /stopped by the kill switch/.test(`${e.leaf}${e.details}`)));

    // Resumed, it works again (in a new session: the stop ended the old one).
    assert.equal((await api('post', `/agents/${agent.id}/resume`)).status, 200);
    await assert.rejects(client.listTools(), /Session not found/);
    const back = await (await connect(agent.token)).callTool({
      name: 'files__write_file',
      arguments: { path: '/cell/kill/after-resume.txt', content: 'x' },
    });
    assert.equal(back.isError, false, text(back));
  });

  test('the brake ends calls before the stop is durable, for that agent only; a refused stop ends nothing', async () => {
    const agent = await newAgent('braked');
    const other = await newAgent('bystander');
    for (const a of [agent, other]) {
      await grant(a.id, { connectionId: everything, tool: 'echo' });
      await grant(a.id, { connectionId: everything, tool: 'trigger-long-running-operation' });
    }
    const client = await connect(agent.token);
    const bystander = await connect(other.token);
    const echo = (c: Client) => c.callTool({ name: 'everything__echo', arguments: { message: 'ping' } });
    const long = (c: Client) =>
      c.callTool({
        name: 'everything__trigger-long-running-operation',
        arguments: { duration: 3, steps: 1 },
      });
    const waitInFlight = (id: string) =>
      until(() => deps.gateway.kills.inFlight({ agentId: id }) > 0, {
        intervalMs: 5,
        what: `a call of ${id} in flight`,
      });

    // A member may not stop an agent they do not own: refused, and its call in flight goes on.
    const running = long(client);
    await waitInFlight(agent.id);
    const refused = await api('post', `/agents/${agent.id}/stop`, undefined, acme.people.member.token);
    assert.equal(refused.status, 403, refused.text);
    assert.equal((await running).isError, false, 'a refused stop aborted nothing');

    // Braked (as a stop does the moment it is allowed, before its commit is durable).
    const inFlight = long(client);
    const unaffected = long(bystander);
    await waitInFlight(agent.id);
    await waitInFlight(other.id);
    const release = deps.gateway.kills.brake({ kind: 'agent', orgId: acme.id, agentId: agent.id });
    const otherOrg = deps.gateway.kills.brake({ kind: 'org', orgId: beta.id });
    assert.match(text(await inFlight), /agent_stopped/);
    assert.match(text(await echo(client)), /agent_stopped/);
    assert.equal((await unaffected).isError, false, "another agent's call ran to its end");
    assert.equal((await echo(bystander)).isError, false);
    otherOrg();
    // Released with nothing committed (a failed stop): the agent works again.
    release();
    assert.equal((await echo(client)).isError, false);
  });

  test('the org-wide stop halts every agent of the org, and only that org', async () => {
    const one = await newAgent('one');
    await grant(one.id, { connectionId: everything, tool: 'echo' });
    const client = await connect(one.token);
    const echo = () => client.callTool({ name: 'everything__echo', arguments: { message: 'ping' } });
    assert.equal((await echo()).isError, false);
    assert.equal((await api('post', '/stop', undefined, acme.people.member.token)).status, 403);
    const stopped = await api('post', '/stop');
    assert.equal(stopped.status, 200, stopped.text);
    assert.ok(stopped.body.agentsStoppedAt);
    await assert.rejects(echo(), /Session not found/, 'the stop ended the session');
    const again = await connect(one.token);
    assert.match(
      text(await again.callTool({ name: 'everything__echo', arguments: { message: 'ping' } })),
      /agent_stopped/,
    );
    const betaOrg = await call(app, 'get', '/api/v1/orgs/beta', { token: beta.people.admin.token });
    assert.equal(betaOrg.body.agentsStoppedAt, null);
    assert.equal((await api('post', '/resume')).status, 200);
    assert.equal(
      (await again.callTool({ name: 'everything__echo', arguments: { message: 'ping' } })).isError,
      false,
    );
  });

  test("a connection's secrets reach its server over a pipe: never in a command line, never back to the agent", async () => {
    const value = 'conn-secret-7f3a9c1e5b';
    const secret = await api('post', '/secrets', {
      name: 'everything-token',
      kind: 'connector_credential',
      value,
    });
    assert.equal(secret.status, 201, secret.text);
    const withEnv = await addConnection('with-env', EVERYTHING, { API_TOKEN: secret.body.id });
    const agent = await newAgent('env-reader');
    await grant(agent.id, { connectionId: withEnv, tool: 'get-env' });
    const client = await connect(agent.token);
    const r = await client.callTool({ name: 'with-env__get-env', arguments: {} });
    assert.equal(r.isError, false, text(r));
    const env = JSON.parse(text(r));
    assert.equal(env.API_TOKEN, '[REDACTED]', 'the server had it; the agent does not see it');
    assert.ok(!text(r).includes(value));
    // Nor does the audit journal the call's records wait in before they are placed (embedded store), in clear or encoded.
    for (const file of t.store.auditJournal ? journalFiles(t.store.auditJournal) : []) {
      const held = existsSync(file) ? readFileSync(file, 'utf8') : '';
      for (const form of [value, Buffer.from(value).toString('base64'), encodeURIComponent(value)])
        assert.ok(!held.includes(form), `the journal ${file} holds the secret`);
    }
    // While the server runs, no process on the host shows the value in its command line.
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      assert.ok(!cmdline.includes(value), `process ${pid} shows the secret in its command line`);
    }
    // A secret scoped to other agents is not opened for this one.
    const other = await newAgent('not-in-scope');
    assert.equal((await api('patch', `/secrets/${secret.body.id}`, { agentIds: [agent.id] })).status, 200);
    await grant(other.id, { connectionId: withEnv, tool: 'get-env' });
    const refused = await (await connect(other.token)).callTool({ name: 'with-env__get-env', arguments: {} });
    assert.match(text(refused), /secret_not_allowed/);
    await deps.audit.flush();
    const entries = await t.store.db.selectFrom('audit_entries').select(['leaf', 'details']).execute();
    assert.ok(
      !entries.some((e) => `${e.leaf}${e.details}`.includes(value)),
      'the value is in no audit entry',
    );
  });

  test('a remote MCP server over Streamable HTTP: reached only through the org’s egress proxy, with its credential from the vault', async () => {
    // server-everything in its Streamable HTTP mode, behind a recorder that notes the headers it gets.
    const port = await freePort();
    const everythingHttp = spawn(process.execPath, [EVERYTHING[0]!, 'streamableHttp'], {
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const seen: string[] = [];
    const recorder = createHttpServer((req, res) => {
      seen.push(String(req.headers.authorization ?? ''));
      const up = httpRequest(
        { host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      req.pipe(up);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let err = '';
        everythingHttp.stderr!.on('data', (d) => {
          err += String(d);
          if (/listening on port/.test(err)) resolve();
        });
        everythingHttp.once('exit', () =>
          reject(new Error(`server-everything (http) did not start: ${err}`)),
        );
      });
      await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', () => r()));
      const recorderPort = (recorder.address() as AddressInfo).port;

      const value = 'Bearer remote-secret-91c2d7e4';
      const secret = await api('post', '/secrets', {
        name: 'remote-token',
        kind: 'connector_credential',
        value,
      });
      const conn = await api('post', '/connections', {
        name: 'remote',
        transport: 'http',
        url: `http://127.0.0.1:${recorderPort}/mcp`,
        headers: { Authorization: secret.body.id },
      });
      assert.equal(conn.status, 201, conn.text);
      // Not on the org's egress allowlist: refused by the proxy, and the refusal is audited.
      const refused = await api('post', `/connections/${conn.body.id}/tools/refresh`);
      assert.equal(refused.status, 502, refused.text);
      assert.match(refused.body.error.message, /refused/);
      assert.deepEqual(seen, [], 'nothing reached the server');
      await deps.audit.flush();
      const refusals = await t.store.db
        .selectFrom('audit_entries')
        .select('action')
        .where('log_id', '=', acme.id)
        .where('action', '=', 'egress.refused')
        .execute();
      assert.ok(refusals.length >= 1);

      const allow = await api(
        'patch',
        '',
        { settings: { egressAllowlist: [{ host: '127.0.0.1', port: recorderPort, allowPrivate: true }] } },
        acme.people.owner.token,
      );
      assert.equal(allow.status, 200, allow.text);
      const listed = await api('post', `/connections/${conn.body.id}/tools/refresh`);
      assert.equal(listed.status, 200, listed.text);
      assert.ok(listed.body.tools.some((x: any) => x.name === 'echo'));
      assert.ok(
        seen.length > 0 && seen.every((h) => h === value),
        'every request carried the vault credential',
      );

      const agent = await newAgent('remote-user');
      await grant(agent.id, { connectionId: conn.body.id, tool: 'echo' });
      const client = await connect(agent.token);
      const r = await client.callTool({ name: 'remote__echo', arguments: { message: 'over http' } });
      assert.equal(r.isError, false, text(r));
      assert.match(text(r), /Echo: over http/);
      // The credential is in no response, audit entry or connection description.
      await deps.audit.flush();
      const leaves = await t.store.db.selectFrom('audit_entries').select(['leaf', 'details']).execute();
      assert.ok(!leaves.some((e) => `${e.leaf}${e.details}`.includes('remote-secret-91c2d7e4')));
      assert.ok(!JSON.stringify(conn.body).includes('remote-secret'));
    } finally {
      await api('patch', '', { settings: { egressAllowlist: [] } }, acme.people.owner.token);
      recorder.closeAllConnections();
      recorder.close();
      everythingHttp.kill('SIGKILL');
    }
  });
}

for (const kind of STORE_KINDS)
  describe(`the gateway, as an MCP server for agents running elsewhere [${kind}]`, () => gatewaySuite(kind));
