/**
 * Connections against a real MCP server from npm (@modelcontextprotocol/server-everything),
 * started over stdio inside the org's bubblewrap sandbox and spoken to with the official SDK.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bubblewrap } from '../cells/index.ts';
import { loadConfig } from '../config/index.ts';
import { silentLogger } from '../log/index.ts';
import { buildDeps } from '../server/deps.ts';
import { call, createApp, type SeededOrg, seedOrg } from '../testing/fixtures.ts';
import { EVERYTHING } from '../testing/served.ts';
import { openTestStore, STORE_KINDS, type StoreKind, type TestStore } from '../testing/stores.ts';
import { toolDigest } from './definitions.ts';

/** On each engine: the same suite, once per store kind. */
function connectionsSuite(kind: StoreKind): void {
  let t: TestStore;
  let app: ReturnType<typeof createApp>;
  let deps: ReturnType<typeof buildDeps>;
  let acme: SeededOrg;

  before(async () => {
    const check = await bubblewrap.check();
    assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
    t = await openTestStore(kind);
    deps = buildDeps(
      loadConfig({ home: t.home, port: 7070, databaseUrl: t.databaseUrl }, {}),
      silentLogger,
      t.store,
      {},
      { provider: bubblewrap, problem: null },
    );
    app = createApp(deps);
    acme = await seedOrg(t.store, 'acme');
  });
  after(async () => {
    await deps?.sessions.close();
    await deps?.gateway.close();
    await deps?.audit.close();
    await t?.cleanup();
  });

  test('an MCP server from npm, in the org’s sandbox, lists its tools; each is pinned by a digest', async () => {
    const made = await call(app, 'post', '/api/v1/orgs/acme/connections', {
      token: acme.people.admin.token,
      body: { name: 'everything', transport: 'stdio', command: 'node', args: EVERYTHING },
    });
    assert.equal(made.status, 201, made.text);
    const listed = await call(app, 'post', `/api/v1/orgs/acme/connections/${made.body.id}/tools/refresh`, {
      token: acme.people.admin.token,
    });
    assert.equal(listed.status, 200, listed.text);
    const echo = listed.body.tools.find((x: any) => x.name === 'echo');
    assert.ok(echo, `tools: ${listed.body.tools.map((x: any) => x.name).join(',')}`);
    assert.equal(echo.digest, toolDigest(echo));
    assert.deepEqual(listed.body.changed, []);
    const stored = await call(app, 'get', `/api/v1/orgs/acme/connections/${made.body.id}/tools`, {
      token: acme.people.member.token,
    });
    assert.equal(stored.body.tools.length, listed.body.tools.length);
    // A server that changes a tool's definition is noticed and audited.
    await t.store.db
      .updateTable('connection_tools')
      .set({ digest: 'stale' })
      .where('name', '=', 'echo')
      .execute();
    const again = await call(app, 'post', `/api/v1/orgs/acme/connections/${made.body.id}/tools/refresh`, {
      token: acme.people.admin.token,
    });
    assert.deepEqual(again.body.changed, ['echo']);
    await deps.audit.flush();
    const changed = await t.store.db
      .selectFrom('audit_entries')
      .select('action')
      .where('action', '=', 'connection.tool.changed')
      .execute();
    assert.equal(changed.length, 1);
  });

  test('members cannot add connections; private connections stay private; bad commands are refused', async () => {
    const byMember = await call(app, 'post', '/api/v1/orgs/acme/connections', {
      token: acme.people.member.token,
      body: { name: 'x', transport: 'stdio', command: 'node', args: [] },
    });
    assert.equal(byMember.status, 403);
    const mine = await call(app, 'post', '/api/v1/orgs/acme/connections', {
      token: acme.people.admin.token,
      body: { name: 'admins-only', transport: 'stdio', command: 'node', args: EVERYTHING, private: true },
    });
    const seen = (
      await call(app, 'get', '/api/v1/orgs/acme/connections', { token: acme.people.member.token })
    ).body.connections.map((c: any) => c.name);
    assert.ok(!seen.includes('admins-only'));
    assert.equal(
      (
        await call(app, 'get', `/api/v1/orgs/acme/connections/${mine.body.id}/tools`, {
          token: acme.people.member.token,
        })
      ).status,
      404,
    );
    const relative = await call(app, 'post', '/api/v1/orgs/acme/connections', {
      token: acme.people.admin.token,
      body: { name: 'relative', transport: 'stdio', command: 'sh', args: [] },
    });
    const refused = await call(
      app,
      'post',
      `/api/v1/orgs/acme/connections/${relative.body.id}/tools/refresh`,
      { token: acme.people.admin.token },
    );
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'invalid_command');
  });

  test('grants against real tools: default deny, constraints typed by the tool, pinned, suspended when the tool changes', async () => {
    const conn = (
      await call(app, 'get', '/api/v1/orgs/acme/connections', { token: acme.people.admin.token })
    ).body.connections.find((c: any) => c.name === 'everything');
    await call(app, 'post', `/api/v1/orgs/acme/connections/${conn.id}/tools/refresh`, {
      token: acme.people.admin.token,
    });
    const agent = await call(app, 'post', '/api/v1/orgs/acme/agents', {
      token: acme.people.admin.token,
      body: {
        name: 'helper',
        scope: 'organization',
        instructions: 'x',
        model: { provider: 'openai', model: 'gpt-5' },
      },
    });
    const check = (body: Record<string, unknown>) =>
      call(app, 'post', `/api/v1/orgs/acme/agents/${agent.body.id}/grants/check`, {
        token: acme.people.auditor.token,
        body: { connectionId: conn.id, ...body },
      });
    assert.equal(
      (await check({ tool: 'echo', args: { message: 'hi' } })).body.allowed,
      false,
      'no grants: everything denied',
    );

    const grant = await call(app, 'post', `/api/v1/orgs/acme/agents/${agent.body.id}/grants`, {
      token: acme.people.admin.token,
      body: { connectionId: conn.id, tool: 'echo', constraints: [{ arg: 'message', prefix: 'status:' }] },
    });
    assert.equal(grant.status, 201, grant.text);
    assert.match(grant.body.toolDigest, /^v3:[0-9a-f]{64}$/);
    assert.equal((await check({ tool: 'echo', args: { message: 'status: ok' } })).body.allowed, true);
    assert.equal(
      (await check({ tool: 'echo', args: { message: 'rm -rf /' } })).body.allowed,
      false,
      'outside the constraint',
    );
    assert.equal(
      (await check({ tool: 'get-sum', args: { a: 1, b: 2 } })).body.allowed,
      false,
      'other tools stay denied',
    );

    const wrongType = await call(app, 'post', `/api/v1/orgs/acme/agents/${agent.body.id}/grants`, {
      token: acme.people.admin.token,
      body: { connectionId: conn.id, tool: 'echo', constraints: [{ arg: 'message', max: 3 }] },
    });
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.body.error.code, 'invalid_grant');
    const noSuchTool = await call(app, 'post', `/api/v1/orgs/acme/agents/${agent.body.id}/grants`, {
      token: acme.people.admin.token,
      body: { connectionId: conn.id, tool: 'format-disk' },
    });
    assert.equal(noSuchTool.status, 404);
    const byMember = await call(app, 'post', `/api/v1/orgs/acme/agents/${agent.body.id}/grants`, {
      token: acme.people.member.token,
      body: { connectionId: conn.id, tool: 'echo' },
    });
    assert.equal(byMember.status, 403);

    // The server changes the tool's definition: the grant is suspended until re-approved.
    await t.store.db
      .updateTable('connection_tools')
      .set({ digest: 'reviewed-before' })
      .where('name', '=', 'echo')
      .execute();
    await t.store.db
      .updateTable('grants')
      .set({ tool_digest: 'reviewed-before' })
      .where('id', '=', grant.body.id)
      .execute();
    await t.store.db
      .updateTable('connection_tools')
      .set({ description: 'changed' })
      .where('name', '=', 'echo')
      .execute();
    const again = await call(app, 'post', `/api/v1/orgs/acme/connections/${conn.id}/tools/refresh`, {
      token: acme.people.admin.token,
    });
    assert.deepEqual(again.body.suspended, [grant.body.id]);
    assert.equal(
      (await check({ tool: 'echo', args: { message: 'status: ok' } })).body.allowed,
      false,
      'a suspended grant allows nothing',
    );

    const revoked = await call(
      app,
      'delete',
      `/api/v1/orgs/acme/agents/${agent.body.id}/grants/${grant.body.id}`,
      { token: acme.people.admin.token },
    );
    assert.equal(revoked.body.status, 'revoked');
    await deps.audit.flush();
    const actions = (await t.store.db.selectFrom('audit_entries').select('action').execute()).map(
      (r) => r.action,
    );
    for (const a of ['grant.created', 'grant.suspended', 'grant.revoked']) assert.ok(actions.includes(a), a);
  });

  test('the gateway: a granted call runs (decision durable first), others are refused and audited, a stopped agent runs nothing', async () => {
    const conn = (
      await call(app, 'get', '/api/v1/orgs/acme/connections', { token: acme.people.admin.token })
    ).body.connections.find((c: any) => c.name === 'everything');
    await call(app, 'post', `/api/v1/orgs/acme/connections/${conn.id}/tools/refresh`, {
      token: acme.people.admin.token,
    });
    const agent = await call(app, 'post', '/api/v1/orgs/acme/agents', {
      token: acme.people.admin.token,
      body: {
        name: 'caller',
        scope: 'organization',
        instructions: 'x',
        model: { provider: 'openai', model: 'gpt-5' },
      },
    });
    const id = agent.body.id;
    const run = (tool: string, args: Record<string, unknown>) =>
      call(app, 'post', `/api/v1/orgs/acme/agents/${id}/calls`, {
        token: acme.people.admin.token,
        body: { connectionId: conn.id, tool, args },
      });
    const none = await run('echo', { message: 'status: hi' });
    assert.equal(none.status, 403);
    assert.equal(none.body.error.code, 'tool_denied');
    await call(app, 'post', `/api/v1/orgs/acme/agents/${id}/grants`, {
      token: acme.people.admin.token,
      body: { connectionId: conn.id, tool: 'echo', constraints: [{ arg: 'message', prefix: 'status:' }] },
    });
    const ok = await run('echo', { message: 'status: hi' });
    assert.equal(ok.status, 200, ok.text);
    assert.match(JSON.stringify(ok.body.content), /Echo: status: hi/);
    assert.equal((await run('echo', { message: 'hello' })).status, 403, 'outside the constraint');
    // The allowed decision was durable before the tool ran, and its result is linked to it.
    await deps.audit.flush();
    const entries = await t.store.db
      .selectFrom('audit_entries')
      .select(['idx', 'id', 'action', 'outcome', 'leaf', 'details'])
      .where('actor_id', '=', id)
      .orderBy('idx')
      .execute();
    const actions = entries.map((e) => `${e.action}:${e.outcome}`);
    assert.deepEqual(actions, [
      'tool.call.denied:denied',
      'tool.call.allowed:success',
      'tool.call.completed:success',
      'tool.call.denied:denied',
    ]);
    const completed = JSON.parse(entries[2]!.details!);
    assert.equal(completed.allowedEntryId, entries[1]!.id);
    assert.equal(ok.body.auditEntryId, entries[1]!.id, 'the answer names the entry that allowed it');
    // Kill switch: from the stop on, nothing runs.
    await call(app, 'post', `/api/v1/orgs/acme/agents/${id}/stop`, { token: acme.people.admin.token });
    const stopped = await run('echo', { message: 'status: again' });
    assert.equal(stopped.status, 409);
    assert.equal(stopped.body.error.code, 'agent_stopped');
  });

  test('bad connections are refused with a clear error and change nothing', async () => {
    await call(app, 'post', '/api/v1/orgs/acme/connections', {
      token: acme.people.admin.token,
      body: { name: 'dup-check', transport: 'stdio', command: 'node', args: [] },
    });
    const before = (
      await call(app, 'get', '/api/v1/orgs/acme/connections', { token: acme.people.admin.token })
    ).body.connections.length;
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [
        { name: 'a', transport: 'stdio', command: 'node', args: [], env: { PATH: 'sec_x' } },
        400,
        'invalid_env',
      ],
      [
        { name: 'b', transport: 'stdio', command: 'node', args: [], env: { TOKEN: 'sec_nope' } },
        404,
        'secret_not_found',
      ],
      [{ name: 'c', transport: 'http', url: 'ftp://example.com/mcp' }, 400, 'invalid_url'],
      [{ name: 'd', transport: 'http', url: 'https://user:pw@example.com/mcp' }, 400, 'invalid_url'],
      [
        { name: 'e', transport: 'http', url: 'https://example.com/mcp', headers: { Host: 'sec_x' } },
        400,
        'invalid_header',
      ],
      [
        { name: 'f', transport: 'http', url: 'https://example.com/mcp', command: 'node' },
        400,
        'unknown_field',
      ],
      [{ name: 'g', transport: 'carrier-pigeon' }, 400, 'validation_failed'],
      // "Dup Check!" would give the same tool names as "dup-check" (made below).
      [{ name: 'Dup Check!', transport: 'stdio', command: 'node', args: [] }, 409, 'connection_exists'],
      [
        { name: 'h', transport: 'http', url: 'http://example.com/mcp', headers: { Authorization: 'sec_x' } },
        400,
        'insecure_url',
      ],
    ];
    for (const [body, status, code] of cases) {
      const r = await call(app, 'post', '/api/v1/orgs/acme/connections', {
        token: acme.people.admin.token,
        body,
      });
      assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.body.error.code, code, JSON.stringify(body));
    }
    const after = (
      await call(app, 'get', '/api/v1/orgs/acme/connections', { token: acme.people.admin.token })
    ).body.connections.length;
    assert.equal(after, before);
  });
}

for (const kind of STORE_KINDS) describe(`connections [${kind}]`, () => connectionsSuite(kind));
