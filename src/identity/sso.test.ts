/**
 * Single sign-on against a real OpenID provider (`oidc-provider`, started here on loopback):
 * authorization code with PKCE, a member signs in, a stranger is refused unless the org
 * provisions, a removed person is not provisioned again, a replayed callback fails, and the
 * client secret is never shown.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import Provider from 'oidc-provider';
import { createLogger } from '../log/index.ts';
import { allAuditEntries, call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { browseProvider } from '../testing/oauth-mcp.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';

const CLIENT_SECRET = 'canary-oidc-client-secret-4b1d9e';
const REDIRECT = 'http://127.0.0.1:7070/api/v1/auth/sso/callback';

async function startIdp(): Promise<{ issuer: string; server: Server }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'paddock',
        client_secret: CLIENT_SECRET,
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, email: id, email_verified: true, name: `Person ${id.split('@')[0]}` }),
    }),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
    features: { devInteractions: { enabled: true } },
  });
  server.on('request', provider.callback());
  return { issuer, server };
}

/** Plays the browser at the provider: signs in as `email`, consents; returns the callback URL. */
const browseIdp = (start: string, email: string): Promise<URL> => browseProvider(start, email, REDIRECT);

for (const kind of STORE_KINDS) {
  describe(`single sign-on [${kind}]`, () => {
    let t: TestStore;
    let app: ReturnType<typeof createApp>;
    let acme: SeededOrg;
    let idp: { issuer: string; server: Server };
    const logged: string[] = [];

    before(async () => {
      t = await openTestStore(kind);
      idp = await startIdp();
      const sink = new Writable({
        write(chunk, _e, cb) {
          logged.push(String(chunk));
          cb();
        },
      });
      app = createApp(
        testDeps(t.store, t.home, { log: createLogger({ destination: sink, level: 'debug' }) }),
      );
      acme = await seedOrg(t.store, 'acme');
      const put = await call(app, 'put', '/api/v1/orgs/acme/sso', {
        token: acme.people.owner.token,
        body: { issuer: idp.issuer, clientId: 'paddock', clientSecret: CLIENT_SECRET },
      });
      assert.equal(put.status, 200, put.text);
    });
    after(async () => {
      idp?.server.close();
      await t?.cleanup();
    });

    /** Plays the browser: starts at the org's sign-in, keeps its state cookie, comes back. */
    async function signIn(email: string, org = 'acme') {
      const start = await call(app, 'get', `/api/v1/auth/sso/${org}/start`);
      assert.equal(start.status, 302, start.text);
      const location = start.headers.get('location')!;
      assert.ok(location.startsWith(idp.issuer), location);
      assert.match(location, /code_challenge_method=S256/);
      const kept = start.headers.get('set-cookie')!;
      assert.match(kept, /^paddock_sso_state=[^;]+;.*Path=\/api\/v1\/auth\/sso\/callback/);
      assert.match(kept, /HttpOnly/);
      const cookie = kept.split(';')[0]!;
      const callback = await browseIdp(location, email);
      const res = await call(app, 'get', `/api/v1/auth/sso/callback${callback.search}`, {
        headers: { cookie },
      });
      return { res, callback, cookie };
    }

    const sessionCookie = (res: Response | { headers: Headers }) =>
      res.headers
        .get('set-cookie')
        ?.split(/,(?=\s*\w+=)/)
        .map((c) => c.trim().split(';')[0]!)
        .find((c) => c.startsWith('paddock_session='));

    test('a member signs in through the identity provider and gets a session', async () => {
      const { res } = await signIn(acme.people.member.email);
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('location'), '/orgs/acme');
      const cookie = sessionCookie(res)!;
      const me = await call(app, 'get', '/api/v1/session', { headers: { cookie } });
      assert.equal(me.body.person.email, acme.people.member.email);
      const audit = (await allAuditEntries(t.store)).filter((e) => e.action === 'person.signed_in');
      assert.ok(audit.some((e) => JSON.parse(e.details!).method === 'sso'));
    });

    test('a replayed callback is refused', async () => {
      const { callback, cookie } = await signIn(acme.people.admin.email);
      const replay = await call(app, 'get', `/api/v1/auth/sso/callback${callback.search}`, {
        headers: { cookie },
      });
      assert.equal(replay.status, 302);
      assert.equal(replay.headers.get('location'), '/signin?error=sso_state_invalid');
      assert.equal(sessionCookie(replay), undefined);
    });

    test('a sign-in that cannot start goes back to the sign-in page, an org that does not exist read as one without single sign-on', async () => {
      await seedOrg(t.store, 'nosso');
      const [missing, none] = await Promise.all([
        call(app, 'get', '/api/v1/auth/sso/nowhere/start'),
        call(app, 'get', '/api/v1/auth/sso/nosso/start'),
      ]);
      for (const r of [missing, none]) {
        assert.equal(r.status, 302);
        assert.equal(r.headers.get('location'), '/signin?error=sso_not_configured');
      }
    });

    test('a sign-in another site starts is not begun; one from Paddock, a bookmark or the address bar is', async () => {
      const start = (site: string) =>
        call(app, 'get', '/api/v1/auth/sso/acme/start', { headers: { 'sec-fetch-site': site } });
      const cross = await start('cross-site');
      assert.equal(cross.headers.get('location'), '/signin?error=sso_start_here');
      assert.equal(cross.headers.get('set-cookie'), null, 'no sign-in state kept');
      for (const site of ['same-origin', 'none'])
        assert.ok((await start(site)).headers.get('location')?.startsWith(idp.issuer), site);
    });

    test('a sign-in finishes only in the browser that started it (no login CSRF)', async () => {
      // Another browser's attempt: its callback URL, sent to this browser, which kept another state.
      const start = await call(app, 'get', '/api/v1/auth/sso/acme/start');
      const callback = await browseIdp(start.headers.get('location')!, acme.people.member.email);
      const mine = await call(app, 'get', '/api/v1/auth/sso/acme/start');
      const others: Record<string, string>[] = [
        {},
        { cookie: mine.headers.get('set-cookie')!.split(';')[0]! },
      ];
      for (const headers of others) {
        const res = await call(app, 'get', `/api/v1/auth/sso/callback${callback.search}`, { headers });
        assert.equal(res.headers.get('location'), '/signin?error=sso_other_browser');
        assert.equal(sessionCookie(res), undefined, 'no session');
      }
    });

    test("another org's identity provider (its admin's choice) opens that org only, and never takes over an account with a password", async () => {
      // Beta's admin points beta's sign-in at a provider of their own, which says whatever they like.
      const beta = await seedOrg(t.store, 'beta');
      const put = await call(app, 'put', '/api/v1/orgs/beta/sso', {
        token: beta.people.admin.token,
        body: {
          issuer: idp.issuer,
          clientId: 'paddock',
          clientSecret: CLIENT_SECRET,
          autoProvisionRole: 'member',
        },
      });
      assert.equal(put.status, 200, put.text);

      // Acme's owner signs in without a password: beta's provider vouches for beta only.
      const signInsAt = async (orgId: string) =>
        (await allAuditEntries(t.store)).filter(
          (e) => e.action === 'person.signed_in' && e.log_id === orgId && e.actor_id === acme.people.owner.id,
        ).length;
      const acmeBefore = await signInsAt(acme.id);
      const { res } = await signIn(acme.people.owner.email, 'beta');
      assert.equal(
        await signInsAt(acme.id),
        acmeBefore,
        "no sign-in on acme's record: the session does not open it",
      );
      assert.equal(await signInsAt(beta.id), 1);
      assert.equal(res.headers.get('location'), '/orgs/beta');
      const cookie = sessionCookie(res)!;
      const orgs = await call(app, 'get', '/api/v1/orgs', { headers: { cookie } });
      assert.deepEqual(
        orgs.body.orgs.map((o: { slug: string }) => o.slug),
        ['beta'],
      );
      for (const path of ['/api/v1/orgs/acme', '/api/v1/orgs/acme/secrets', '/api/v1/orgs/acme/people']) {
        const r = await call(app, 'get', path, { headers: { cookie } });
        assert.equal(r.status, 404, `${path} stays closed`);
      }
      const me = await call(app, 'get', '/api/v1/session', { headers: { cookie } });
      const token = await call(app, 'post', '/api/v1/orgs/acme/tokens', {
        headers: { cookie, 'x-csrf-token': me.body.csrfToken },
        body: { name: 'taken', role: 'owner' },
      });
      assert.equal(token.status, 404, 'no token of the other org');

      // An account with a password is not joined by a provider: it takes an invitation.
      const refused = await signIn(acme.people.admin.email, 'beta');
      assert.equal(refused.res.headers.get('location'), '/signin?error=invitation_needed');
      assert.equal(sessionCookie(refused.res), undefined);
      const people = await call(app, 'get', '/api/v1/orgs/beta/people', { token: beta.people.owner.token });
      assert.ok(!people.body.people.some((p: { email: string }) => p.email === acme.people.admin.email));
    });

    test('a stranger is refused unless the org provisions with a role', async () => {
      const refused = await signIn('stranger@acme.test');
      assert.equal(refused.res.headers.get('location'), '/signin?error=not_a_member');
      const users = await t.store.db
        .selectFrom('users')
        .select('id')
        .where('email', '=', 'stranger@acme.test')
        .execute();
      assert.equal(users.length, 0, 'a refused sign-in creates no account');
      await call(app, 'put', '/api/v1/orgs/acme/sso', {
        token: acme.people.owner.token,
        body: { issuer: idp.issuer, clientId: 'paddock', autoProvisionRole: 'member' },
      });
      const ok = await signIn('stranger@acme.test');
      assert.equal(ok.res.headers.get('location'), '/orgs/acme');
      const people = await call(app, 'get', '/api/v1/orgs/acme/people', { token: acme.people.owner.token });
      assert.equal(people.body.people.find((p: any) => p.email === 'stranger@acme.test').role, 'member');
    });

    test('a removed person is not provisioned again at their next SSO sign-in, until they accept a new invitation', async () => {
      const owner = acme.people.owner.token;
      const put = await call(app, 'put', '/api/v1/orgs/acme/sso', {
        token: owner,
        body: { issuer: idp.issuer, clientId: 'paddock', autoProvisionRole: 'member' },
      });
      assert.equal(put.status, 200, put.text);
      const first = await signIn('leaver@acme.test');
      assert.equal(first.res.headers.get('location'), '/orgs/acme', 'provisioned on first sign-in');
      const people = async () =>
        (await call(app, 'get', '/api/v1/orgs/acme/people', { token: owner })).body.people as Array<{
          id: string;
          email: string;
        }>;
      const leaver = (await people()).find((p) => p.email === 'leaver@acme.test')!;
      const removed = await call(app, 'delete', `/api/v1/orgs/acme/people/${leaver.id}`, { token: owner });
      assert.equal(removed.status, 204, removed.text);

      const again = await signIn('leaver@acme.test');
      assert.equal(again.res.headers.get('location'), '/signin?error=removed_from_org');
      assert.equal(sessionCookie(again.res), undefined, 'no session');
      assert.ok(!(await people()).some((p) => p.email === 'leaver@acme.test'), 'not a member again');

      // An invitation is the way back; until it is accepted, SSO still refuses.
      const invite = await call(app, 'post', '/api/v1/orgs/acme/invitations', {
        token: owner,
        body: { email: 'leaver@acme.test', role: 'member' },
      });
      assert.equal(invite.status, 201, invite.text);
      const pending = await signIn('leaver@acme.test');
      assert.equal(pending.res.headers.get('location'), '/signin?error=removed_from_org');
      // The leaver's account signs in without a password: it accepts without one.
      const accepted = await call(app, 'post', '/api/v1/invitations/accept', {
        body: { secret: invite.body.url.split('#')[1] },
      });
      assert.equal(accepted.status, 200, accepted.text);
      const back = await signIn('leaver@acme.test');
      assert.equal(back.res.headers.get('location'), '/orgs/acme');
    });

    test('the client secret is sealed: never in the database in clear, responses, audit or logs', async () => {
      const read = await call(app, 'get', '/api/v1/orgs/acme/sso', { token: acme.people.owner.token });
      assert.equal(read.body.sso.hasClientSecret, true);
      const stored = await t.store.db.selectFrom('sso_configs').selectAll().execute();
      const audit = await allAuditEntries(t.store);
      for (const [what, text] of [
        ['response', read.text],
        ['database', JSON.stringify(stored)],
        ['audit', JSON.stringify(audit)],
        ['logs', logged.join('')],
      ] as const) {
        assert.ok(!text.includes(CLIENT_SECRET), `client secret found in ${what}`);
      }
    });
  });
}
