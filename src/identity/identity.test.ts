/** Identity and tenancy rules, on SQLite and PostgreSQL. */
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { allAuditEntries, call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import {
  acceptInvitation,
  addMembership,
  authenticateSession,
  authenticateToken,
  createSession,
  findPerson,
  initOrg,
  listTokens,
  operatorCaller,
  orgAccess,
  trustedScope,
  useSigninLink,
} from './index.ts';

for (const kind of STORE_KINDS) {
  describe(`identity [${kind}]`, () => {
    let t: TestStore;
    let app: ReturnType<typeof createApp>;
    let acme: SeededOrg;
    let other: SeededOrg;

    before(async () => {
      t = await openTestStore(kind);
      app = createApp(testDeps(t.store, t.home));
      acme = await seedOrg(t.store, 'acme');
      other = await seedOrg(t.store, 'other');
    });
    after(async () => t?.cleanup());

    test('the data layer returns nothing of another org, even by id', async () => {
      const inOther = await findPerson(t.store.db, trustedScope(other.id), acme.people.member.id);
      assert.equal(inOther, undefined);
      const inAcme = await findPerson(t.store.db, trustedScope(acme.id), acme.people.member.id);
      assert.equal(inAcme?.email, 'member@acme.test');
    });

    test('tokens and passwords are stored only as digests', async () => {
      const rows = await t.store.db.selectFrom('api_tokens').select('token_hash').execute();
      const dump = JSON.stringify(rows);
      assert.ok(!dump.includes(acme.people.owner.token));
      assert.ok(!dump.includes(acme.people.owner.token.slice(4)));
      const users = await t.store.db
        .selectFrom('users')
        .select('password_hash')
        .where('email', '=', 'admin@acme.test')
        .execute();
      assert.match(users[0]!.password_hash!, /^scrypt\$/);
      assert.ok(!users[0]!.password_hash!.includes('correct horse'));
    });

    test('init with a taken slug fails whole: no org, no person, no token', async () => {
      const before = await t.store.db.selectFrom('users').select('id').execute();
      await assert.rejects(
        initOrg(t.store.db, operatorCaller(), {
          slug: 'acme',
          ownerEmail: 'fresh@new.test',
          withToken: true,
        }),
        (e: any) => e.code === 'org_exists' && e.status === 409,
      );
      const after = await t.store.db.selectFrom('users').select('id').execute();
      assert.equal(after.length, before.length);
    });

    test("demoting a person lowers their token's power at once", async () => {
      const org = await seedOrg(t.store, 'demote');
      const adminToken = org.people.admin.token;
      const make = await call(app, 'post', '/api/v1/orgs/demote/teams', {
        token: adminToken,
        body: { name: 'a' },
      });
      assert.equal(make.status, 201);
      const r = await call(app, 'patch', `/api/v1/orgs/demote/people/${org.people.admin.id}`, {
        token: org.people.owner.token,
        body: { role: 'member' },
      });
      assert.equal(r.status, 200);
      const again = await call(app, 'post', '/api/v1/orgs/demote/teams', {
        token: adminToken,
        body: { name: 'b' },
      });
      assert.equal(again.status, 403);
      const ctx = await orgAccess(
        t.store.db,
        { kind: 'token', token: await authenticateToken(t.store.db, adminToken) },
        'demote',
        'r',
      );
      assert.equal(ctx.role, 'member');
    });

    test('removing a person revokes their tokens and ends their sessions there at once', async () => {
      const org = await seedOrg(t.store, 'leaver');
      const member = org.people.member;
      const session = await createSession(t.store.db, member.id, 'sso', org.id);
      const wide = await createSession(t.store.db, member.id, 'password');
      // They belong to another org too: a session of all their orgs is that org's business as well.
      await addMembership(t.store.db, operatorCaller(), trustedScope(acme.id), member.id, 'member', 'test');
      assert.equal((await call(app, 'get', '/api/v1/orgs/leaver', { token: member.token })).status, 200);
      const r = await call(app, 'delete', `/api/v1/orgs/leaver/people/${member.id}`, {
        token: org.people.admin.token,
      });
      assert.equal(r.status, 204);
      const after = await call(app, 'get', '/api/v1/orgs/leaver', { token: member.token });
      assert.equal(after.status, 401);
      assert.equal(after.body.error.code, 'token_revoked');
      await assert.rejects(
        authenticateSession(t.store.db, session.secret),
        (e: any) => e.code === 'session_invalid',
      );
      // A session of all their orgs stays for the others, and opens this one no more.
      const still = await call(app, 'get', '/api/v1/orgs/leaver', {
        headers: { cookie: `paddock_session=${wide.secret}` },
      });
      assert.equal(still.status, 404);
      const audit = await call(app, 'get', '/api/v1/orgs/leaver/audit?action=person.removed', {
        token: org.people.owner.token,
      });
      assert.equal(audit.body.events.length, 1);
      assert.equal(audit.body.events[0].details.tokensRevoked, 1);
      assert.equal(audit.body.events[0].details.sessionsEnded, 1);
    });

    test('an organization keeps at least one owner; admins cannot touch owners', async () => {
      const org = await seedOrg(t.store, 'owners');
      const self = await call(app, 'patch', `/api/v1/orgs/owners/people/${org.people.owner.id}`, {
        token: org.people.owner.token,
        body: { role: 'admin' },
      });
      assert.equal(self.status, 409);
      assert.equal(self.body.error.code, 'last_owner');
      const byAdmin = await call(app, 'delete', `/api/v1/orgs/owners/people/${org.people.owner.id}`, {
        token: org.people.admin.token,
      });
      assert.equal(byAdmin.status, 403);
      const promote = await call(app, 'patch', `/api/v1/orgs/owners/people/${org.people.member.id}`, {
        token: org.people.admin.token,
        body: { role: 'owner' },
      });
      assert.equal(promote.status, 403);
    });

    test('members see and revoke only their own tokens, and cannot mint stronger ones', async () => {
      const member = acme.people.member.token;
      const list = await call(app, 'get', '/api/v1/orgs/acme/tokens', { token: member });
      assert.equal(list.status, 200);
      assert.ok(list.body.tokens.every((tk: any) => tk.personId === acme.people.member.id));
      const strong = await call(app, 'post', '/api/v1/orgs/acme/tokens', {
        token: member,
        body: { name: 'x', role: 'admin' },
      });
      assert.equal(strong.status, 403);
      const service = await call(app, 'post', '/api/v1/orgs/acme/tokens', {
        token: member,
        body: { name: 'x', role: 'member', service: true },
      });
      assert.equal(service.status, 403);
      const all = await listTokens(t.store.db, {
        ...operatorCaller(),
        org: {} as never,
        role: 'owner',
        scope: trustedScope(acme.id),
      });
      const adminTok = all.find((tk) => tk.personId === acme.people.admin.id)!;
      const revoke = await call(app, 'delete', `/api/v1/orgs/acme/tokens/${adminTok.id}`, { token: member });
      assert.equal(revoke.status, 404);
      const own = await call(app, 'post', '/api/v1/orgs/acme/tokens', {
        token: member,
        body: { name: 'mine', role: 'member' },
      });
      assert.equal(own.status, 201);
      assert.match(own.body.token, /^pdk_/);
      const listed = await call(app, 'get', '/api/v1/orgs/acme/tokens', { token: member });
      assert.ok(!listed.text.includes(own.body.token), 'a token value is shown only once');
      const gone = await call(app, 'delete', `/api/v1/orgs/acme/tokens/${own.body.info.id}`, {
        token: member,
      });
      assert.equal(gone.status, 200);
      assert.equal((await call(app, 'get', '/api/v1/orgs/acme', { token: own.body.token })).status, 401);
    });

    test('token lifetime is capped by the org setting', async () => {
      const owner = acme.people.owner.token;
      const set = await call(app, 'patch', '/api/v1/orgs/acme', {
        token: owner,
        body: { settings: { maxTokenDays: 30 } },
      });
      assert.equal(set.status, 200);
      const long = await call(app, 'post', '/api/v1/orgs/acme/tokens', {
        token: owner,
        body: { name: 'l', role: 'member', expiresInDays: 31 },
      });
      assert.equal(long.status, 400);
      assert.equal(long.body.error.code, 'expiry_too_long');
      const never = await call(app, 'post', '/api/v1/orgs/acme/tokens', {
        token: owner,
        body: { name: 'n', role: 'member', expiresInDays: null },
      });
      assert.equal(never.status, 400);
      await call(app, 'patch', '/api/v1/orgs/acme', {
        token: owner,
        body: { settings: { maxTokenDays: 365 } },
      });
    });

    test('an invitation works once, for its email and role', async () => {
      const inv = await call(app, 'post', '/api/v1/orgs/acme/invitations', {
        token: acme.people.admin.token,
        body: { email: 'Newbie@Acme.test', role: 'auditor' },
      });
      assert.equal(inv.status, 201);
      const secret = new URL(inv.body.url).hash.slice(1);
      const peek = await call(app, 'post', '/api/v1/invitations/peek', { body: { secret } });
      assert.deepEqual(peek.body, {
        orgName: 'acme',
        email: 'newbie@acme.test',
        role: 'auditor',
        existingAccount: false,
        passwordlessAccount: false,
        signedIn: false,
      });
      const weak = await call(app, 'post', '/api/v1/invitations/accept', {
        body: { secret, password: 'short' },
      });
      assert.equal(weak.status, 400);
      const ok = await call(app, 'post', '/api/v1/invitations/accept', {
        body: { secret, name: 'New', password: 'a long enough password' },
      });
      assert.equal(ok.status, 200, ok.text);
      const again = await call(app, 'post', '/api/v1/invitations/accept', {
        body: { secret, password: 'a long enough password' },
      });
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'link_used');
      const people = await call(app, 'get', '/api/v1/orgs/acme/people', { token: acme.people.owner.token });
      assert.equal(people.body.people.find((p: any) => p.email === 'newbie@acme.test').role, 'auditor');
    });

    test('an existing account joins a second org only with its own password', async () => {
      const inv = await call(app, 'post', '/api/v1/orgs/other/invitations', {
        token: other.people.owner.token,
        body: { email: acme.people.admin.email, role: 'member' },
      });
      const secret = new URL(inv.body.url).hash.slice(1);
      await assert.rejects(
        acceptInvitation(t.store.db, { secret, password: 'not the password', requestId: 'r' }),
        (e: any) => e.code === 'bad_credentials',
      );
      const s = await acceptInvitation(t.store.db, {
        secret,
        password: 'correct horse battery staple',
        requestId: 'r',
      });
      assert.equal(s.kept, false);
      const orgs = await call(app, 'get', '/api/v1/orgs', {
        headers: { cookie: `paddock_session=${s.kept ? '' : s.secret}` },
      });
      assert.deepEqual(orgs.body.orgs.map((o: any) => `${o.slug}:${o.role}`).sort(), [
        'acme:admin',
        'other:member',
      ]);
    });

    test('an account without a password joins by invitation without one, and that session opens the inviting org only', async () => {
      // Acme's owner (made by `paddock init`) has no password; other's owner holds the link too.
      const inv = await call(app, 'post', '/api/v1/orgs/other/invitations', {
        token: other.people.owner.token,
        body: { email: acme.people.owner.email, role: 'member' },
      });
      assert.equal(inv.status, 201, inv.text);
      const secret = new URL(inv.body.url).hash.slice(1);
      const peek = await call(app, 'post', '/api/v1/invitations/peek', { body: { secret } });
      assert.deepEqual([peek.body.existingAccount, peek.body.passwordlessAccount], [false, true]);
      const passwordOf = async () =>
        (
          await t.store.db
            .selectFrom('users')
            .select('password_hash')
            .where('id', '=', acme.people.owner.id)
            .executeTakeFirstOrThrow()
        ).password_hash;

      const taking = await call(app, 'post', '/api/v1/invitations/accept', {
        body: { secret, password: 'chosen by whoever holds the link' },
      });
      assert.deepEqual([taking.status, taking.body.error.code], [400, 'password_not_settable']);
      assert.equal(await passwordOf(), null, 'no password was set');

      // Acme's short sessions are acme's business: a session that opens other only follows other's.
      const short = await call(app, 'patch', '/api/v1/orgs/acme', {
        token: acme.people.owner.token,
        body: { settings: { sessionHours: 1 } },
      });
      assert.equal(short.status, 200, short.text);
      const joined = await call(app, 'post', '/api/v1/invitations/accept', { body: { secret } });
      assert.equal(joined.status, 200, joined.text);
      const bound = await t.store.db
        .selectFrom('sessions')
        .select('expires_at')
        .where('user_id', '=', acme.people.owner.id)
        .where('org_id', '=', other.id)
        .executeTakeFirstOrThrow();
      assert.ok(Date.parse(bound.expires_at) - Date.now() > 2 * 3_600_000, 'not cut to acme’s hour');
      await call(app, 'patch', '/api/v1/orgs/acme', {
        token: acme.people.owner.token,
        body: { settings: { sessionHours: 12 } },
      });
      const cookie = joined.headers.get('set-cookie')!.split(';')[0]!;
      const csrf = joined.body.csrfToken as string;
      const orgs = await call(app, 'get', '/api/v1/orgs', { headers: { cookie } });
      assert.deepEqual(
        orgs.body.orgs.map((o: { slug: string }) => o.slug),
        ['other'],
        'the link vouches for the inviting org only',
      );
      const acmeRead = await call(app, 'get', '/api/v1/orgs/acme/secrets', { headers: { cookie } });
      assert.equal(acmeRead.status, 404, "the account's other org stays closed to this session");
      const setPassword = await call(app, 'put', '/api/v1/me/password', {
        headers: { cookie, 'x-csrf-token': csrf },
        body: { newPassword: 'chosen by whoever holds the link' },
      });
      assert.deepEqual(
        [setPassword.status, setPassword.body.error.code],
        [403, 'password_needs_account_sign_in'],
      );
      assert.equal(await passwordOf(), null);
      // Its owner, signed in as before, still sees both.
      const owner = await call(app, 'get', '/api/v1/orgs', { token: acme.people.owner.token });
      assert.equal(owner.status, 200);
    });

    test('signed in as the invited account, accepting joins with the session it has (with its CSRF token)', async () => {
      const person = await seedOrg(t.store, 'joiner');
      // Its owner signed in with the operator's link (no password yet): a session of all their orgs.
      const mine = await createSession(t.store.db, person.people.owner.id, 'link');
      const cookie = `paddock_session=${mine.secret}`;
      const inv = await call(app, 'post', '/api/v1/orgs/other/invitations', {
        token: other.people.owner.token,
        body: { email: person.people.owner.email, role: 'member' },
      });
      const secret = new URL(inv.body.url).hash.slice(1);
      const peek = await call(app, 'post', '/api/v1/invitations/peek', {
        headers: { cookie },
        body: { secret },
      });
      assert.equal(peek.body.signedIn, true, 'the page knows this browser is the invited account');
      const joined = await call(app, 'post', '/api/v1/invitations/accept', {
        headers: { cookie, 'x-csrf-token': mine.csrfToken },
        body: { secret },
      });
      assert.equal(joined.status, 200, joined.text);
      assert.equal(joined.headers.get('set-cookie'), null, 'the session it has stays');
      assert.equal(joined.body.csrfToken, mine.csrfToken);
      const orgs = await call(app, 'get', '/api/v1/orgs', { headers: { cookie } });
      assert.deepEqual(orgs.body.orgs.map((o: { slug: string }) => o.slug).sort(), ['joiner', 'other']);
      // A session bound to one org (its single sign-on's) vouches for nothing more: not the account.
      const bound = await createSession(t.store.db, person.people.owner.id, 'sso', person.id);
      const again = await call(app, 'post', '/api/v1/orgs/acme/invitations', {
        token: acme.people.owner.token,
        body: { email: person.people.owner.email, role: 'member' },
      });
      const peekBound = await call(app, 'post', '/api/v1/invitations/peek', {
        headers: { cookie: `paddock_session=${bound.secret}` },
        body: { secret: new URL(again.body.url).hash.slice(1) },
      });
      assert.equal(peekBound.body.signedIn, false);
    });

    test('init refuses an owner whose email already has an account with a password, unless the operator says it is theirs', async () => {
      // The admin's account has a password: someone may have claimed that email through an invitation.
      await assert.rejects(
        initOrg(t.store.db, operatorCaller(), { slug: 'claimed', ownerEmail: acme.people.admin.email }),
        (e: any) => e.code === 'owner_has_account' && /--existing-account/.test(e.message),
      );
      const none = await t.store.db.selectFrom('orgs').select('id').where('slug', '=', 'claimed').execute();
      assert.deepEqual(none, [], 'nothing was made');
      const made = await initOrg(t.store.db, operatorCaller(), {
        slug: 'claimed',
        ownerEmail: acme.people.admin.email,
        existingAccount: true,
      });
      assert.equal(made.ownerId, acme.people.admin.id);
    });

    test('a sign-in link works once and expires', async () => {
      const made = await initOrg(t.store.db, operatorCaller(), {
        slug: 'linked',
        ownerEmail: 'boss@linked.test',
      });
      const s = await useSigninLink(t.store.db, { secret: made.signinSecret, requestId: 'r' });
      assert.match(s.secret, /^pds_/);
      await assert.rejects(
        useSigninLink(t.store.db, { secret: made.signinSecret, requestId: 'r' }),
        (e: any) => e.code === 'link_used',
      );
      const second = await initOrg(t.store.db, operatorCaller(), {
        slug: 'linked2',
        ownerEmail: 'boss2@linked.test',
      });
      await t.store.db
        .updateTable('links')
        .set({ expires_at: '2000-01-01T00:00:00.000Z' })
        .where('org_id', '=', second.org.id)
        .execute();
      await assert.rejects(
        useSigninLink(t.store.db, { secret: second.signinSecret, requestId: 'r' }),
        (e: any) => e.code === 'link_expired',
      );
    });

    test('every change is in the audit trail with who, what and before/after', async () => {
      const r = await call(app, 'get', '/api/v1/orgs/demote/audit?action=person.role.changed', {
        token: (await seedOrg(t.store, 'aud')).people.owner.token,
      });
      assert.equal(r.status, 404, 'another org cannot read it');
      const own = (await allAuditEntries(t.store)).filter((e) => e.action === 'person.role.changed');
      assert.ok(own.length >= 1);
      const d = JSON.parse(own[0]!.details!);
      assert.deepEqual([d.before.role, d.after.role], ['admin', 'member']);
      assert.equal(own[0]!.actor_type, 'person');
    });

    test('the audit filter takes an action prefix ending in *', async () => {
      const org = await seedOrg(t.store, 'filters');
      const owner = org.people.owner.token;
      await call(app, 'post', '/api/v1/orgs/filters/teams', { token: owner, body: { name: 'one' } });
      const teams = await call(app, 'get', '/api/v1/orgs/filters/audit?action=team.*', { token: owner });
      assert.equal(teams.status, 200, teams.text);
      assert.equal(teams.body.events.length, 1);
      assert.equal(teams.body.events[0].action, 'team.created');
      const literal = await call(app, 'get', '/api/v1/orgs/filters/audit?action=team_*', { token: owner });
      assert.equal(literal.body.events.length, 0, '_ is not a wildcard');
      const all = await call(app, 'get', '/api/v1/orgs/filters/audit?limit=2', { token: owner });
      assert.equal(all.body.events.length, 2);
      const next = await call(
        app,
        'get',
        `/api/v1/orgs/filters/audit?limit=2&cursor=${all.body.nextCursor}`,
        { token: owner },
      );
      assert.ok(
        next.body.events.length > 0 && next.body.events.every((e: any) => e.index < all.body.nextCursor),
      );
    });
  });
}

test("the operator at the command line is named by the account running it when USER is not set (a service, a bare shell), not 'unknown'", () => {
  const saved = { USER: process.env.USER, SUDO_USER: process.env.SUDO_USER };
  delete process.env.USER;
  delete process.env.SUDO_USER;
  try {
    assert.equal(operatorCaller().actor.id, `cli:${userInfo().username}`);
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
  }
});
