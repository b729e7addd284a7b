/**
 * Remote MCP servers behind OAuth, end to end against a real authorization server
 * (`oidc-provider`) in front of an MCP server that checks every bearer token by introspection:
 * an admin connects (discovery, dynamic registration, PKCE, resource indicator, through the
 * org's egress proxy), tokens are refreshed on expiry and on a 401, a per-person connection uses
 * each person's own account and nobody else's (and no one's for a call on no one's behalf),
 * removing the person revokes theirs, metadata naming internal addresses is refused by the
 * egress rules, and no token is anywhere in clear. Both engines.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { bubblewrap } from '../../cells/index.ts';
import { createLogger } from '../../log/index.ts';
import type { Deps } from '../../server/deps.ts';
import {
  allAuditEntries,
  call,
  createApp,
  type SeededOrg,
  seedOrg,
  testDeps,
} from '../../testing/fixtures.ts';
import {
  type AuthServer,
  browseProvider,
  type ProtectedMcp,
  startAuthServer,
  startProtectedMcp,
} from '../../testing/oauth-mcp.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../../testing/stores.ts';
import { egressFetch } from './egress-fetch.ts';
import { tokenSource } from './tokens.ts';

const CALLBACK = 'http://127.0.0.1:7070/api/v1/connections/oauth/callback';
/** A client registered by hand at the provider, as an admin enters it. */
const ENTERED = {
  clientId: 'paddock-by-hand',
  clientSecret: 'entered-client-secret-7d2c9b4e1a',
  redirectUri: CALLBACK,
};

for (const kind of STORE_KINDS) {
  describe(`remote MCP servers with OAuth [${kind}]`, () => {
    let t: TestStore;
    let deps: Deps;
    let app: ReturnType<typeof createApp>;
    let acme: SeededOrg;
    let as: AuthServer;
    let mcp: ProtectedMcp;
    let canary: Server;
    let canaryHits = 0;
    const logged: string[] = [];
    const answers: string[] = [];
    let agentId = '';

    const api = async (
      method: 'get' | 'post' | 'delete' | 'patch',
      path: string,
      token: string,
      body?: unknown,
    ) => {
      const r = await call(app, method, `/api/v1/orgs/acme${path}`, {
        token,
        ...(body === undefined ? {} : { body }),
      });
      answers.push(r.text);
      return r;
    };

    /** Start → the provider (signed in as `login`) → Paddock's callback, as `token`'s holder. */
    async function connect(connectionId: string, token: string, login: string, body: object = {}) {
      const start = await api('post', `/connections/${connectionId}/oauth/start`, token, body);
      assert.equal(start.status, 200, start.text);
      const back = await browseProvider(start.body.authorizationUrl, login, CALLBACK);
      const done = await call(app, 'get', `/api/v1/connections/oauth/callback${back.search}`, { token });
      answers.push(done.text);
      return { start, back, done };
    }

    async function newConnection(name: string, url: string) {
      const c = await api('post', '/connections', acme.people.admin.token, { name, transport: 'http', url });
      assert.equal(c.status, 201, c.text);
      return c.body.id as string;
    }

    /** A call through the gate as the agent, on behalf of `person` (a run acting for them). */
    function callAs(connectionId: string, person: string | null, tool = 'whoami') {
      return deps.gateway.call({
        caller: { orgId: acme.id, agentId, onBehalfOf: person, requestId: `req_${Math.random()}` },
        connectionId,
        tool,
        args: {},
        approval: 'return',
      });
    }
    const textOf = (r: { content: unknown }) =>
      (r.content as Array<{ text: string }>).map((c) => c.text).join('');

    before(async () => {
      const check = await bubblewrap.check();
      assert.ok(check.ok, `bubblewrap is needed (the egress proxy runs with the cells): ${check.reason}`);
      t = await openTestStore(kind);
      const sink = new Writable({
        write(chunk, _e, cb) {
          logged.push(String(chunk));
          cb();
        },
      });
      deps = testDeps(
        t.store,
        t.home,
        { log: createLogger({ destination: sink, level: 'debug' }) },
        { provider: bubblewrap, problem: null },
      );
      app = createApp(deps);
      acme = await seedOrg(t.store, 'acme');
      as = await startAuthServer(() => mcp.url, ENTERED);
      mcp = await startProtectedMcp(() => as.issuer);
      canary = createServer((_req, res) => {
        canaryHits++;
        res.end('{}');
      });
      await new Promise<void>((r) => canary.listen(0, '127.0.0.1', r));
      // Loopback only by explicit entries (the test's servers); nothing else private.
      const allow = await api('patch', '', acme.people.owner.token, {
        settings: {
          egressAllowlist: [
            { host: '127.0.0.1', port: mcp.port, allowPrivate: true },
            { host: '127.0.0.1', port: as.port, allowPrivate: true },
          ],
        },
      });
      assert.equal(allow.status, 200, allow.text);
      const agent = await api('post', '/agents', acme.people.admin.token, {
        name: 'remote-user',
        scope: 'organization',
        instructions: 'x',
        model: { provider: 'openai', model: 'gpt-5' },
      });
      assert.equal(agent.status, 201, agent.text);
      agentId = agent.body.id;
    });
    after(async () => {
      as?.close();
      mcp?.close();
      canary?.close();
      await t?.cleanup();
    });

    let orgWide = '';

    test('an admin connects: discovery from the 401, registration, PKCE S256 and the resource, tokens sealed; the state is single use and bound to who started it', async () => {
      orgWide = await newConnection('remote', mcp.url);
      // Before connecting, the server refuses Paddock (no token): listing says so.
      const early = await api('post', `/connections/${orgWide}/tools/refresh`, acme.people.admin.token);
      assert.equal(early.status, 409, early.text);
      assert.equal(early.body.error.code, 'oauth_required');
      // A member may not set up the org's connection.
      const member = await api('post', `/connections/${orgWide}/oauth/start`, acme.people.member.token, {});
      assert.equal(member.status, 403, member.text);

      const { start, back, done } = await connect(orgWide, acme.people.admin.token, 'alice');
      const asked = new URL(start.body.authorizationUrl);
      assert.equal(asked.origin, as.issuer);
      assert.equal(asked.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(asked.searchParams.get('resource'), mcp.url);
      assert.equal(asked.searchParams.get('redirect_uri'), CALLBACK);
      assert.ok(asked.searchParams.get('client_id'), 'registered dynamically');
      assert.equal(done.status, 302, done.text);
      assert.equal(done.headers.get('location'), `/orgs/acme/connections?connected=${orgWide}`);
      assert.equal(as.issued.access.length, 1);

      // The same answer again: used up.
      const replay = await call(app, 'get', `/api/v1/connections/oauth/callback${back.search}`, {
        token: acme.people.admin.token,
      });
      assert.match(replay.headers.get('location') ?? '', /oauthError=oauth_state_invalid/);
      // Another person's browser cannot finish a connect the admin started (and it is used up then).
      const second = await api('post', `/connections/${orgWide}/oauth/start`, acme.people.admin.token, {});
      const secondBack = await browseProvider(second.body.authorizationUrl, 'mallory', CALLBACK);
      const stolen = await call(app, 'get', `/api/v1/connections/oauth/callback${secondBack.search}`, {
        token: acme.people.member.token,
      });
      assert.match(stolen.headers.get('location') ?? '', /oauthError=oauth_state_invalid/);
      const late = await call(app, 'get', `/api/v1/connections/oauth/callback${secondBack.search}`, {
        token: acme.people.admin.token,
      });
      assert.match(late.headers.get('location') ?? '', /oauthError=oauth_state_invalid/);
      assert.equal(as.issued.access.length, 1, 'no code was exchanged for the forged finish');
      // An answer naming another issuer (RFC 9207 mix-up): the code is sent nowhere.
      const third = await api('post', `/connections/${orgWide}/oauth/start`, acme.people.admin.token, {});
      const thirdBack = await browseProvider(third.body.authorizationUrl, 'alice', CALLBACK);
      assert.ok(thirdBack.searchParams.get('iss'), 'the provider says who it is');
      thirdBack.searchParams.set('iss', 'https://evil.example');
      const mixed = await call(app, 'get', `/api/v1/connections/oauth/callback${thirdBack.search}`, {
        token: acme.people.admin.token,
      });
      assert.equal(mixed.headers.get('location'), '/orgs/acme/connections?oauthError=oauth_issuer_mismatch');
      assert.equal(as.issued.access.length, 1);
      // RFC 9207 §2.4: a server whose metadata says it always sends iss: an answer without it is refused, and
      // so is one naming it by another spelling (a simple string comparison with the metadata's issuer).
      const meta = await (await fetch(`${as.issuer}/.well-known/oauth-authorization-server`)).json();
      assert.equal(meta.authorization_response_iss_parameter_supported, true);
      for (const [iss, code] of [
        [undefined, 'oauth_issuer_missing'],
        [`${as.issuer}/`, 'oauth_issuer_mismatch'],
      ] as const) {
        const next = await api('post', `/connections/${orgWide}/oauth/start`, acme.people.admin.token, {});
        const nextBack = await browseProvider(next.body.authorizationUrl, 'alice', CALLBACK);
        if (iss === undefined) nextBack.searchParams.delete('iss');
        else nextBack.searchParams.set('iss', iss);
        const bare = await call(app, 'get', `/api/v1/connections/oauth/callback${nextBack.search}`, {
          token: acme.people.admin.token,
        });
        assert.equal(bare.headers.get('location'), `/orgs/acme/connections?oauthError=${code}`);
        assert.equal(as.issued.access.length, 1, `no code was exchanged (${code})`);
      }

      const status = await api('get', `/connections/${orgWide}/oauth`, acme.people.member.token);
      assert.equal(status.status, 200, status.text);
      assert.equal(status.body.connected, true);
      assert.equal(status.body.perPerson, false);
      assert.equal(status.body.client, 'registered');

      const listed = await api('post', `/connections/${orgWide}/tools/refresh`, acme.people.admin.token);
      assert.equal(listed.status, 200, listed.text);
      assert.deepEqual(
        listed.body.tools.map((x: { name: string }) => x.name),
        ['whoami', 'leak'],
      );
      const g = await api('post', `/agents/${agentId}/grants`, acme.people.admin.token, {
        connectionId: orgWide,
        tool: 'whoami',
      });
      assert.equal(g.status, 201, g.text);
      const r = await callAs(orgWide, null);
      assert.equal(r.isError, false);
      assert.equal(textOf(r), 'account:alice');
      // A server that says the token back: the agent sees it scrubbed.
      await api('post', `/agents/${agentId}/grants`, acme.people.admin.token, {
        connectionId: orgWide,
        tool: 'leak',
      });
      const leaked = await callAs(orgWide, null, 'leak');
      assert.equal(textOf(leaked), 'token:[REDACTED]');
    });

    test('tokens are refreshed before they expire, and once on a 401', async () => {
      const issued = as.issued.access.length;
      // The stored expiry is near: the next call refreshes first.
      await t.store.db
        .updateTable('remote_authorizations')
        .set({ expires_at: new Date(Date.now() + 5_000).toISOString() })
        .where('connection_id', '=', orgWide)
        .execute();
      assert.equal(textOf(await callAs(orgWide, null)), 'account:alice');
      assert.equal(as.issued.access.length, issued + 1, 'a new access token');
      const row = await t.store.db
        .selectFrom('remote_authorizations')
        .select(['version', 'expires_at', 'refreshed_at'])
        .where('connection_id', '=', orgWide)
        .executeTakeFirstOrThrow();
      assert.ok(row.refreshed_at);
      assert.ok(Date.parse(row.expires_at!) > Date.now() + 60_000);
      // Calls at once when it is due: one refresh between them.
      await t.store.db
        .updateTable('remote_authorizations')
        .set({ expires_at: new Date(Date.now() + 5_000).toISOString() })
        .where('connection_id', '=', orgWide)
        .execute();
      const together = await Promise.all([1, 2, 3, 4, 5].map(() => callAs(orgWide, null)));
      assert.ok(together.every((r) => textOf(r) === 'account:alice'));
      assert.equal(as.issued.access.length, issued + 2, 'one refresh for five calls');
      // A call that read the row just before another's refresh ended: it uses the new tokens, no second refresh.
      await t.store.db
        .updateTable('remote_authorizations')
        .set({ expires_at: new Date(Date.now() + 5_000).toISOString() })
        .where('connection_id', '=', orgWide)
        .execute();
      const ef = await egressFetch(async (orgId) => deps.cells!.egressSocket(orgId), acme.id);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const late = tokenSource(
        { db: holdFirstRead(t.store.db, gate), vault: deps.vault },
        acme.id,
        orgWide,
        '',
        ef,
      );
      const early = tokenSource({ db: t.store.db, vault: deps.vault }, acme.id, orgWide, '', ef);
      const lateToken = late.accessToken();
      await new Promise((r) => setTimeout(r, 50));
      const earlyToken = await early.accessToken();
      release();
      assert.equal(await lateToken, earlyToken, 'the late call uses the tokens the refresh stored');
      assert.equal(as.issued.access.length, issued + 3, 'one refresh, not one per caller');
      // The server stops accepting the current token: a 401, one refresh, the call goes through.
      mcp.refuseTokensIssuedBefore(Date.now() + 1);
      await new Promise((r) => setTimeout(r, 1100));
      const refusedBefore = mcp.seen.filter((s) => s.status === 401).length;
      assert.equal(textOf(await callAs(orgWide, null)), 'account:alice');
      assert.equal(as.issued.access.length, issued + 4);
      assert.equal(
        mcp.seen.filter((s) => s.status === 401).length,
        refusedBefore + 1,
        'one 401, then the fresh token',
      );
      // Refused again while calls are under way: each call's 401 is answered by the one refresh.
      mcp.refuseTokensIssuedBefore(Date.now() + 1);
      await new Promise((r) => setTimeout(r, 1100));
      const burst = await Promise.all([1, 2, 3, 4, 5].map(() => callAs(orgWide, null)));
      assert.ok(burst.every((r) => textOf(r) === 'account:alice'));
      assert.equal(as.issued.access.length, issued + 5, 'one refresh for a burst of 401s');
    });

    let personal = '';

    test('a per-person connection: each person’s own account, never another’s; no one’s call is refused', async () => {
      personal = await newConnection('personal', mcp.url);
      const mine = await connect(personal, acme.people.admin.token, 'alice', { perPerson: true });
      assert.equal(mine.done.status, 302, mine.done.text);
      // The mode is fixed once set.
      const flip = await api('post', `/connections/${personal}/oauth/start`, acme.people.admin.token, {
        perPerson: false,
      });
      assert.equal(flip.status, 409, flip.text);
      const listed = await api('post', `/connections/${personal}/tools/refresh`, acme.people.admin.token);
      assert.equal(listed.status, 200, listed.text);
      const g = await api('post', `/agents/${agentId}/grants`, acme.people.admin.token, {
        connectionId: personal,
        tool: 'whoami',
      });
      assert.equal(g.status, 201, g.text);

      // The member has not connected theirs: a call for them is refused, never made with alice's.
      const before = mcp.seen.length;
      await assert.rejects(callAs(personal, acme.people.member.id), /oauth_not_connected|not connected/);
      assert.equal(mcp.seen.length, before, 'nothing reached the server');
      // A member connects their own account (no admin needed).
      const theirs = await connect(personal, acme.people.member.token, 'bob');
      assert.equal(theirs.done.status, 302, theirs.done.text);
      const status = await api('get', `/connections/${personal}/oauth`, acme.people.member.token);
      assert.equal(status.body.connected, true);
      assert.equal(status.body.people, 2);

      for (let i = 0; i < 2; i++) {
        assert.equal(textOf(await callAs(personal, acme.people.admin.id)), 'account:alice');
        assert.equal(textOf(await callAs(personal, acme.people.member.id)), 'account:bob');
      }
      // A call on no person's behalf (a scheduled run, say) cannot use anyone's account.
      const seen = mcp.seen.length;
      await assert.rejects(
        callAs(personal, null),
        (err: Error & { code?: string }) => err.code === 'person_required',
      );
      assert.equal(mcp.seen.length, seen);
      // Sessions are the person's own: one per person for this connection, plus the org-wide one.
      assert.equal(deps.gateway.serversByOrg().get(acme.id), 3);

      // Over /mcp, a call is for the person the agent token is bound to (who issued it).
      const viaMcp = async (issuer: string) => {
        const tok = await api('post', `/agents/${agentId}/tokens`, issuer, { name: 'mcp' });
        assert.equal(tok.status, 201, tok.text);
        const r = await call(app, 'post', '/mcp/acme', {
          token: tok.body.token,
          headers: { accept: 'application/json, text/event-stream' },
          body: {
            jsonrpc: '2.0',
            id: 1,
            method: 'tools/call',
            params: { name: 'personal__whoami', arguments: {} },
          },
        });
        answers.push(r.text);
        return r.body.result as { isError?: boolean; content: Array<{ text: string }> };
      };
      assert.equal((await viaMcp(acme.people.admin.token)).content[0]!.text, 'account:alice');
      const owners = await viaMcp(acme.people.owner.token);
      assert.equal(owners.isError, true);
      assert.match(owners.content[0]!.text, /not connected/);
    });

    test('removing the person who authorized revokes their authorization and ends their sessions', async () => {
      const revokedBefore = as.revoked.count;
      const removed = await call(app, 'delete', `/api/v1/orgs/acme/people/${acme.people.member.id}`, {
        token: acme.people.owner.token,
      });
      assert.ok(removed.status < 300, removed.text);
      assert.equal(as.revoked.count, revokedBefore + 2, 'their tokens revoked at the provider too');
      const left = await t.store.db
        .selectFrom('remote_authorizations')
        .select('user_key')
        .where('connection_id', '=', personal)
        .execute();
      assert.deepEqual(
        left.map((r) => r.user_key),
        [acme.people.admin.id],
      );
      assert.equal(deps.gateway.serversByOrg().get(acme.id), 2, "the member's session ended");
      await assert.rejects(callAs(personal, acme.people.member.id), /oauth_not_connected|not connected/);
      assert.equal(textOf(await callAs(personal, acme.people.admin.id)), 'account:alice');
      await deps.audit.flush();
      const revoked = (await allAuditEntries(t.store)).filter((e) => e.action === 'connection.oauth.revoked');
      assert.equal(revoked.length, 1);
      assert.match(revoked[0]!.details ?? '', /removed/);

      // An admin disconnects their own: the next call is refused, and the provider revoked them.
      const revokedEarlier = as.revoked.count;
      const off = await api('delete', `/connections/${personal}/oauth`, acme.people.admin.token);
      assert.equal(off.status, 204, off.text);
      assert.equal(as.revoked.count, revokedEarlier + 2, 'refresh and access token revoked at the provider');
      await assert.rejects(callAs(personal, acme.people.admin.id), /oauth_not_connected|not connected/);
    });

    test('a client id and secret the admin entered (no dynamic registration): used, the secret sealed, never sent to a plain-HTTP revocation endpoint', async () => {
      const entered = await newConnection('entered', mcp.url);
      const { start, done } = await connect(entered, acme.people.admin.token, 'dave', {
        clientId: ENTERED.clientId,
        clientSecret: ENTERED.clientSecret,
      });
      assert.equal(new URL(start.body.authorizationUrl).searchParams.get('client_id'), ENTERED.clientId);
      assert.equal(done.headers.get('location'), `/orgs/acme/connections?connected=${entered}`);
      const status = await api('get', `/connections/${entered}/oauth`, acme.people.admin.token);
      assert.equal(status.body.client, 'entered');
      const listed = await api('post', `/connections/${entered}/tools/refresh`, acme.people.admin.token);
      assert.equal(listed.status, 200, listed.text);
      // Only owners and admins change how it signs in.
      const member = await api('post', `/connections/${entered}/oauth/start`, acme.people.auditor.token, {
        clientId: 'other',
      });
      assert.equal(member.status, 403, member.text);
      as.issued.clientSecrets.push(ENTERED.clientSecret);

      // Its metadata names a revocation endpoint in plain HTTP (not this machine): disconnecting sends no token or client secret there.
      let plainHits = 0;
      const plain = createServer((_req, res) => {
        plainHits++;
        res.end();
      });
      await new Promise<void>((r) => plain.listen(0, '127.0.0.2', r));
      const plainPort = (plain.address() as AddressInfo).port;
      const allowlist = [
        { host: '127.0.0.1', port: mcp.port, allowPrivate: true },
        { host: '127.0.0.1', port: as.port, allowPrivate: true },
      ];
      try {
        await api('patch', '', acme.people.owner.token, {
          settings: {
            egressAllowlist: [...allowlist, { host: '127.0.0.2', port: plainPort, allowPrivate: true }],
          },
        });
        const row = await t.store.db
          .selectFrom('remote_auth_servers')
          .select('metadata')
          .where('connection_id', '=', entered)
          .executeTakeFirstOrThrow();
        const metadata = {
          ...JSON.parse(row.metadata!),
          revocation_endpoint: `http://127.0.0.2:${plainPort}/revoke`,
        };
        await t.store.db
          .updateTable('remote_auth_servers')
          .set({ metadata: JSON.stringify(metadata) })
          .where('connection_id', '=', entered)
          .execute();
        const off = await api('delete', `/connections/${entered}/oauth`, acme.people.admin.token);
        assert.equal(off.status, 204, off.text);
        assert.equal(plainHits, 0, 'nothing was sent to a plain-HTTP revocation endpoint');
      } finally {
        plain.close();
        await api('patch', '', acme.people.owner.token, { settings: { egressAllowlist: allowlist } });
      }
    });

    test('metadata naming internal addresses is refused by the egress rules: nothing is fetched there', async () => {
      const hostileMcp = await startProtectedMcp(() => as.issuer);
      try {
        await api('patch', '', acme.people.owner.token, {
          settings: {
            egressAllowlist: [
              { host: '127.0.0.1', port: mcp.port, allowPrivate: true },
              { host: '127.0.0.1', port: as.port, allowPrivate: true },
              { host: '127.0.0.1', port: hostileMcp.port, allowPrivate: true },
            ],
          },
        });
        const hostile = await newConnection('hostile', hostileMcp.url);
        const canaryPort = (canary.address() as AddressInfo).port;
        for (const target of [
          `http://127.0.0.1:${canaryPort}/`,
          'https://169.254.169.254/',
          'https://10.0.0.1/',
          'http://[::1]:8443/',
        ]) {
          // As the authorization server, and as where the 401 says the metadata is.
          hostileMcp.metadata.authorization_servers = [target];
          const r = await api('post', `/connections/${hostile}/oauth/start`, acme.people.admin.token, {});
          assert.equal(r.status, 502, r.text);
          assert.equal(r.body.error.code, 'oauth_discovery_failed');
          assert.match(r.body.error.message, /refused/);
          hostileMcp.metadata.authorization_servers = [as.issuer];
          hostileMcp.prmAt = `${target}.well-known/oauth-protected-resource`;
          const p = await api('post', `/connections/${hostile}/oauth/start`, acme.people.admin.token, {});
          assert.equal(p.status, 502, p.text);
          assert.match(p.body.error.message, /refused/);
          hostileMcp.prmAt = `http://127.0.0.1:${hostileMcp.port}/.well-known/oauth-protected-resource/mcp`;
        }
        assert.equal(canaryHits, 0, 'nothing reached the internal server');
        // RFC 8414 §3.3: the authorization server reached by another name than its metadata's issuer is not used.
        await api('patch', '', acme.people.owner.token, {
          settings: {
            egressAllowlist: [
              { host: '127.0.0.1', port: mcp.port, allowPrivate: true },
              { host: '127.0.0.1', port: as.port, allowPrivate: true },
              { host: '127.0.0.1', port: hostileMcp.port, allowPrivate: true },
              { host: 'localhost', port: as.port, allowPrivate: true },
            ],
          },
        });
        hostileMcp.metadata.authorization_servers = [`http://localhost:${as.port}`];
        const renamed = await api('post', `/connections/${hostile}/oauth/start`, acme.people.admin.token, {});
        assert.equal(renamed.status, 502, renamed.text);
        assert.equal(renamed.body.error.code, 'oauth_discovery_failed');
        assert.match(renamed.body.error.message, /names another issuer/);
        hostileMcp.metadata.authorization_servers = [as.issuer];
        await deps.audit.flush();
        const refusals = (await allAuditEntries(t.store)).filter((e) => e.action === 'egress.refused');
        for (const host of [`127.0.0.1:${canaryPort}`, '169.254.169.254:443', '10.0.0.1:443'])
          assert.ok(
            refusals.some((e) => e.target_id === host),
            `the refusal of ${host} is on record`,
          );
      } finally {
        hostileMcp.close();
      }
    });

    test('a refresh the authorization server refuses is audited and the call asks to connect again', async () => {
      const row = await t.store.db
        .selectFrom('remote_authorizations')
        .selectAll()
        .where('connection_id', '=', orgWide)
        .executeTakeFirstOrThrow();
      // A refresh token the provider does not know, sealed where the real one was.
      await t.store.db
        .updateTable('remote_authorizations')
        .set({
          refresh_token: await deps.vault.seal(
            t.store.db,
            { orgId: acme.id, secretId: `remote-auth/${row.id}/refresh`, version: row.version },
            'unknown-refresh-token-3f9a1c',
          ),
          expires_at: new Date(Date.now() - 1000).toISOString(),
        })
        .where('id', '=', row.id)
        .execute();
      await assert.rejects(
        callAs(orgWide, null),
        (err: Error & { code?: string }) => err.code === 'oauth_expired',
      );
      await deps.audit.flush();
      const failed = (await allAuditEntries(t.store)).filter(
        (e) => e.action === 'connection.oauth.refresh_failed',
      );
      assert.equal(failed.length, 1);
      assert.ok(!(failed[0]!.details ?? '').includes('unknown-refresh-token-3f9a1c'));
    });

    test('no token or client secret is anywhere in clear: database, logs, audit, API answers', async () => {
      const secrets = [...as.issued.access, ...as.issued.refresh, ...as.issued.clientSecrets];
      assert.ok(
        as.issued.access.length >= 5 && as.issued.refresh.length >= 3 && as.issued.clientSecrets.length >= 2,
      );
      await deps.audit.flush();
      const exported = await api('get', '/audit/export?format=jsonl', acme.people.owner.token);
      assert.equal(exported.status, 200);
      for (const id of [orgWide, personal]) {
        await api('get', `/connections/${id}/oauth`, acme.people.owner.token);
        await api('get', `/connections/${id}`, acme.people.owner.token);
      }
      await api('get', '/connections', acme.people.owner.token);
      const rows = await t.store.db.selectFrom('remote_authorizations').selectAll().execute();
      const servers = await t.store.db.selectFrom('remote_auth_servers').selectAll().execute();
      const audit = await allAuditEntries(t.store);
      let files = '';
      if (kind === 'sqlite') {
        const db = join(t.home, 'paddock.db');
        files = [db, `${db}-wal`]
          .filter((f) => existsSync(f))
          .map((f) => readFileSync(f).toString('latin1'))
          .join('\n');
        assert.ok(files.includes(rows[0]!.id), 'the authorizations are in the bytes read (sealed)');
      }
      const everywhere = [
        files,
        JSON.stringify(rows),
        JSON.stringify(servers),
        JSON.stringify(audit),
        logged.join(''),
        answers.join('\n'),
      ].join('\n');
      for (const s of secrets) assert.ok(!everywhere.includes(s), 'a token is in clear somewhere');
    });
  });
}

/** The db, with the first single-row read held (its row already read) until `gate` opens: a stale reader. */
function holdFirstRead<T extends object>(db: T, gate: Promise<void>): T {
  let held = false;
  const wrap = (target: object): object =>
    new Proxy(target, {
      get(tg, key) {
        const v = Reflect.get(tg, key, tg);
        if (typeof v !== 'function') return v;
        if (key === 'executeTakeFirst')
          return async () => {
            const row = await v.call(tg);
            if (!held) {
              held = true;
              await gate;
            }
            return row;
          };
        return (...args: unknown[]) => {
          const r = v.apply(tg, args);
          return r && typeof r === 'object' && 'executeTakeFirst' in r ? wrap(r) : r;
        };
      },
    });
  return wrap(db) as T;
}
