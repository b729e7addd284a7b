/** Every kind of bad input gets its own clear 4xx error and changes nothing (both engines). */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { allAuditEntries, call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { MAX_BODY_BYTES } from './app.ts';
import { defineRoute } from './route.ts';

async function auditCount(t: TestStore): Promise<number> {
  return (await allAuditEntries(t.store)).length;
}

for (const kind of STORE_KINDS) {
  describe(`bad input [${kind}]`, () => {
    let t: TestStore;
    let app: ReturnType<typeof createApp>;
    let org: SeededOrg;
    let admin: string;

    before(async () => {
      t = await openTestStore(kind);
      app = createApp(testDeps(t.store, t.home));
      org = await seedOrg(t.store, 'acme');
      admin = org.people.admin.token;
    });
    after(async () => t?.cleanup());

    const cases: Array<{ name: string; status: number; code: string; req: () => Parameters<typeof call> }> = [
      {
        name: 'malformed JSON',
        status: 400,
        code: 'invalid_json',
        req: () => [app, 'post', '/api/v1/orgs/acme/teams', { token: admin, raw: '{"name": "x",' }],
      },
      {
        name: 'unknown field',
        status: 400,
        code: 'unknown_field',
        req: () => [
          app,
          'post',
          '/api/v1/orgs/acme/teams',
          { token: admin, body: { name: 'x', colour: 'red' } },
        ],
      },
      {
        name: 'unknown nested field',
        status: 400,
        code: 'unknown_field',
        req: () => [
          app,
          'patch',
          '/api/v1/orgs/acme',
          { token: admin, body: { settings: { sessionHours: 2, x: 1 } } },
        ],
      },
      {
        name: 'wrong type',
        status: 400,
        code: 'validation_failed',
        req: () => [app, 'post', '/api/v1/orgs/acme/teams', { token: admin, body: { name: 42 } }],
      },
      {
        name: 'value out of range',
        status: 400,
        code: 'validation_failed',
        req: () => [
          app,
          'patch',
          '/api/v1/orgs/acme',
          { token: admin, body: { settings: { sessionHours: 100000 } } },
        ],
      },
      {
        name: 'unknown role',
        status: 400,
        code: 'validation_failed',
        req: () => [
          app,
          'post',
          '/api/v1/orgs/acme/invitations',
          { token: admin, body: { email: 'a@b.test', role: 'god' } },
        ],
      },
      {
        name: 'bad email',
        status: 400,
        code: 'invalid_email',
        req: () => [
          app,
          'post',
          '/api/v1/orgs/acme/invitations',
          { token: admin, body: { email: 'nope', role: 'member' } },
        ],
      },
      {
        name: 'an email with a bidirectional override',
        status: 400,
        code: 'invalid_email',
        req: () => [
          app,
          'post',
          '/api/v1/orgs/acme/invitations',
          { token: admin, body: { email: 'moc.\u202eevil@x.test', role: 'member' } },
        ],
      },
      {
        name: 'unknown query parameter',
        status: 400,
        code: 'unknown_field',
        req: () => [app, 'get', '/api/v1/orgs/acme/audit?colour=red', { token: admin }],
      },
      {
        name: 'not JSON',
        status: 415,
        code: 'unsupported_media_type',
        req: () => [
          app,
          'post',
          '/api/v1/orgs/acme/teams',
          { token: admin, raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        ],
      },
      {
        name: 'oversized body',
        status: 413,
        code: 'payload_too_large',
        req: () => [
          app,
          'post',
          '/api/v1/orgs/acme/teams',
          { token: admin, body: { name: 'x'.repeat(MAX_BODY_BYTES + 10) } },
        ],
      },
      {
        name: 'unknown org',
        status: 404,
        code: 'org_not_found',
        req: () => [app, 'post', '/api/v1/orgs/nowhere/teams', { token: admin, body: { name: 'x' } }],
      },
      {
        name: 'unknown token',
        status: 401,
        code: 'invalid_token',
        req: () => [
          app,
          'post',
          '/api/v1/orgs/acme/teams',
          { token: `pdk_${'x'.repeat(43)}`, body: { name: 'x' } },
        ],
      },
      {
        name: 'malformed authorization header',
        status: 401,
        code: 'invalid_authorization',
        req: () => [app, 'get', '/api/v1/orgs/acme', { headers: { authorization: 'Basic abc' } }],
      },
      {
        name: 'missing permission',
        status: 403,
        code: 'forbidden',
        req: () => [
          app,
          'post',
          '/api/v1/orgs/acme/teams',
          { token: org.people.member.token, body: { name: 'x' } },
        ],
      },
      {
        name: 'role above your own',
        status: 403,
        code: 'role_too_high',
        req: () => [
          app,
          'patch',
          `/api/v1/orgs/acme/people/${org.people.member.id}`,
          { token: admin, body: { role: 'owner' } },
        ],
      },
      {
        name: 'unknown route',
        status: 404,
        code: 'route_not_found',
        req: () => [app, 'get', '/api/v1/nothing-here', {}],
      },
      {
        name: 'body on a route that takes none',
        status: 400,
        code: 'unexpected_body',
        req: () => [app, 'delete', `/api/v1/orgs/acme/tokens/tok_0000`, { token: admin, body: { why: 1 } }],
      },
      // PostgreSQL cannot store NUL, and no one's text needs it: refused wherever it comes.
      {
        name: 'NUL in a name',
        status: 400,
        code: 'nul_in_text',
        req: () => [app, 'post', '/api/v1/orgs/acme/teams', { token: admin, body: { name: 'a\u0000b' } }],
      },
      {
        name: 'NUL in a sign-in, before anyone is signed in',
        status: 400,
        code: 'nul_in_text',
        req: () => [app, 'post', '/api/v1/session', { body: { email: 'a\u0000@x.test', password: 'x' } }],
      },
      {
        name: 'NUL in a field name, deep in the body',
        status: 400,
        code: 'nul_in_text',
        req: () => [
          app,
          'patch',
          '/api/v1/orgs/acme',
          { token: admin, body: { settings: { 'session\u0000Hours': 2 } } },
        ],
      },
      {
        name: 'NUL in the query',
        status: 400,
        code: 'nul_in_text',
        req: () => [app, 'get', '/api/v1/orgs/acme/audit?action=team.%00', { token: admin }],
      },
      // Names people read may not hide or disguise text.
      ...[
        ['a right-to-left override', '\u202egnp.exe'],
        ['line breaks', 'ops\n\r[admin] evil'],
        ['a zero-width space', 'ops\u200b'],
        ['terminal escapes', '\u0007\u001b[31mred'],
      ].map(([what, name]) => ({
        name: `a name with ${what}`,
        status: 400,
        code: 'validation_failed',
        req: (): Parameters<typeof call> => [
          app,
          'post',
          '/api/v1/orgs/acme/teams',
          { token: admin, body: { name } },
        ],
      })),
      {
        name: 'a name with an unpaired surrogate',
        status: 400,
        code: 'validation_failed',
        req: () => [app, 'patch', '/api/v1/orgs/acme', { token: admin, raw: '{"name":"acme \\ud800"}' }],
      },
    ];

    test('an agent token on the management API is told where it works', async () => {
      const r = await call(app, 'get', '/api/v1/orgs/acme', { token: `pda_${'x'.repeat(43)}` });
      assert.deepEqual([r.status, r.body.error.code], [401, 'invalid_token']);
      assert.match(r.body.error.message, /agent token: it works on the MCP endpoint \(\/mcp\/\{org\}\)/);
    });

    test('a setting naming a vault secret says so when given something else', async () => {
      const r = await call(app, 'patch', '/api/v1/orgs/acme', {
        token: org.people.owner.token,
        body: { settings: { siemWebhookSecret: 'Bearer abc123' } },
      });
      assert.equal(r.status, 400, r.text);
      assert.match(r.text, /the id of a vault secret \(sec_…\), not its value/);
    });

    test('a name is kept trimmed; emoji and scripts that join characters are names', async () => {
      for (const [given, kept] of [
        ['  platform  ', 'platform'],
        ['👩‍💻 builders', '👩‍💻 builders'],
        ['می‌خواهم', 'می‌خواهم'],
      ]) {
        const r = await call(app, 'post', '/api/v1/orgs/acme/teams', { token: admin, body: { name: given } });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.body.name, kept);
      }
    });

    for (const c of cases) {
      test(`${c.name} → ${c.status} ${c.code}, nothing changed`, async () => {
        const before = await auditCount(t);
        const r = await call(...c.req());
        assert.equal(r.status, c.status, r.text);
        assert.equal(r.body.error.code, c.code);
        assert.ok(r.body.error.message.length > 10, 'a human message');
        assert.equal(await auditCount(t), before);
      });
    }

    test('an expired token → 401 token_expired', async () => {
      await t.store.db
        .updateTable('api_tokens')
        .set({ expires_at: '2000-01-01T00:00:00.000Z' })
        .where('user_id', '=', org.people.auditor.id)
        .execute();
      const r = await call(app, 'get', '/api/v1/orgs/acme', { token: org.people.auditor.token });
      assert.equal(r.status, 401);
      assert.equal(r.body.error.code, 'token_expired');
    });

    test('a session cookie without the CSRF header cannot change anything', async () => {
      const signin = await call(app, 'post', '/api/v1/session', {
        body: { email: org.people.admin.email, password: 'correct horse battery staple' },
      });
      assert.equal(signin.status, 200);
      const cookie = signin.headers.get('set-cookie')!.split(';')[0]!;
      assert.match(signin.headers.get('set-cookie')!, /HttpOnly/i);
      const before = await auditCount(t);
      const forged = await call(app, 'post', '/api/v1/orgs/acme/teams', {
        body: { name: 'csrf' },
        headers: { cookie },
      });
      assert.equal(forged.status, 403);
      assert.equal(forged.body.error.code, 'csrf_failed');
      assert.equal(await auditCount(t), before);
      const real = await call(app, 'post', '/api/v1/orgs/acme/teams', {
        body: { name: 'csrf' },
        headers: { cookie, 'x-csrf-token': signin.body.csrfToken },
      });
      assert.equal(real.status, 201);
    });

    test('a dead session cookie is cleared, and does not block signing in again', async () => {
      const body = { email: org.people.member.email, password: 'correct horse battery staple' };
      const first = await call(app, 'post', '/api/v1/session', { body });
      const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
      await t.store.db.deleteFrom('sessions').execute();
      const stale = await call(app, 'get', '/api/v1/session', { headers: { cookie } });
      assert.equal(stale.status, 401);
      assert.equal(stale.body.error.code, 'session_invalid');
      assert.match(stale.headers.get('set-cookie') ?? '', /paddock_session=;.*Max-Age=0/i);
      const again = await call(app, 'post', '/api/v1/session', { body, headers: { cookie } });
      assert.equal(again.status, 200, again.text);
      const live = again.headers.get('set-cookie')!.split(';')[0]!;
      const signinWithLiveCookie = await call(app, 'post', '/api/v1/session', {
        body,
        headers: { cookie: live },
      });
      assert.equal(signinWithLiveCookie.status, 200, 'public routes need no CSRF token');
    });

    test('a wrong password and an unknown email get the same answer', async () => {
      const a = await call(app, 'post', '/api/v1/session', {
        body: { email: org.people.admin.email, password: 'wrong password!!' },
      });
      const b = await call(app, 'post', '/api/v1/session', {
        body: { email: 'ghost@acme.test', password: 'wrong password!!' },
      });
      assert.equal(a.status, 401);
      assert.deepEqual(a.body, b.body);
    });

    test('a route that declares no access cannot be registered', () => {
      const rogue = defineRoute({
        method: 'get',
        path: '/api/v1/rogue',
        summary: 'x',
        tag: 'x',
        access: undefined as never,
        response: z.object({}),
        handler: async () => ({}),
      });
      assert.throws(() => createApp(testDeps(t.store, t.home), [rogue]), /declares no access/);
    });
  });
}
