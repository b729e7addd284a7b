/**
 * Sign-in for MCP clients that expect OAuth, driven by the official MCP SDK client's OAuth
 * support over real HTTP (both engines): discovery from the 401's `WWW-Authenticate`, dynamic
 * client registration, the consent page with the person signed in, the code exchange, then
 * `tools/list` and a call through the gate as the chosen agent (server-everything in the org's
 * sandbox). A person cannot get a token for an agent they may not use, even with a forged form;
 * a wrong verifier, redirect URI, client or resource changes nothing; a code works once; refresh
 * rotates both tokens; removing the person ends the client's tokens; a token pasted by hand
 * keeps working; hostile registrations and authorization requests are refused.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { hashSecret } from '../../identity/index.ts';
import { MAX_CLIENTS } from '../../oauth/index.ts';
import { allAuditEntries, call, type SeededOrg, seedOrg } from '../../testing/fixtures.ts';
import {
  addStdioConnection,
  agentWithGrants,
  type ServedPaddock,
  servePaddock,
} from '../../testing/served.ts';
import { STORE_KINDS, type TestStore } from '../../testing/stores.ts';

const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1:9/callback';

/** An MCP client's OAuth state, kept in memory; the browser step is done by the test. */
class MemoryProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  authorizationUrl: URL | undefined;
  readonly redirectUrl = REDIRECT;
  readonly clientMetadata: OAuthClientMetadata = {
    client_name: 'Desk Client',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
  state() {
    return 'st-123';
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(i: OAuthClientInformationMixed) {
    this.info = i;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(t: OAuthTokens) {
    this.saved = t;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

for (const kind of STORE_KINDS) {
  describe(`OAuth sign-in for MCP clients [${kind}]`, () => {
    let paddock: ServedPaddock;
    let t: TestStore;
    let deps: ServedPaddock['deps'];
    let app: ServedPaddock['app'];
    let url: string;
    let acme: SeededOrg;
    let memberAgent: string;
    let adminAgent: string;
    let everything: string;
    const clients: Client[] = [];

    const api = (method: 'get' | 'post' | 'delete', path: string, token: string, body?: unknown) =>
      call(app, method, `/api/v1/orgs/acme${path}`, { token, ...(body === undefined ? {} : { body }) });

    async function signIn(email: string): Promise<string> {
      const res = await fetch(`${url}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: PASSWORD }),
      });
      assert.equal(res.status, 200, await res.text());
      return res.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
    }

    /** The consent page as the signed-in person's browser gets it: status, csrf, the agents offered. */
    async function consent(authorizationUrl: string, cookie: string) {
      const res = await fetch(authorizationUrl, { headers: { cookie }, redirect: 'manual' });
      const html = await res.text();
      return {
        status: res.status,
        html,
        location: res.headers.get('location'),
        csp: res.headers.get('content-security-policy') ?? '',
        csrf: /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '',
        agents: [...html.matchAll(/name="agent" value="([^"]+)"/g)].map((m) => m[1]!),
      };
    }

    /** The person's answer: the form the consent page posts, with `changes` applied. */
    async function answer(authorizationUrl: string, cookie: string, fields: Record<string, string>) {
      const form = new URLSearchParams(new URL(authorizationUrl).searchParams);
      for (const [k, v] of Object.entries(fields)) form.set(k, v);
      const res = await fetch(`${url}/oauth/authorize`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        redirect: 'manual',
      });
      const location = res.headers.get('location');
      return { status: res.status, location: location ? new URL(location) : null, text: await res.text() };
    }

    async function register(body: unknown, raw?: string) {
      const res = await fetch(`${url}/oauth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: raw ?? JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, any> };
    }

    async function tokenRequest(params: Record<string, string>) {
      const res = await fetch(`${url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(params).toString(),
      });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    }

    /** An authorization URL made by hand (the client's side), for a registered client. */
    function authorizeUrl(clientId: string, challenge: string, extra: Record<string, string> = {}) {
      const u = new URL(`${url}/oauth/authorize`);
      const p = {
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: 'abc',
        resource: `${url}/mcp/acme`,
        ...extra,
      };
      for (const [k, v] of Object.entries(p)) u.searchParams.set(k, v);
      return u.href;
    }

    const mcp = async (token: string) => {
      const res = await fetch(`${url}/mcp/acme`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
      const body = (await res.json()) as {
        error?: { code?: string };
        result?: { tools: Array<{ name: string }> };
      };
      return { status: res.status, code: body.error?.code, tools: body.result?.tools.map((x) => x.name) };
    };

    const codeCount = async () =>
      Number(
        (
          await t.store.db
            .selectFrom('oauth_codes')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    const sessions = new Map<string, string>();
    /** A registered client and a fresh code for `email`'s consent to `agent`. */
    async function freshCode(email: string, agent: string) {
      const reg = await register({ client_name: 'Hand Client', redirect_uris: [REDIRECT] });
      assert.equal(reg.status, 201);
      const p = pkce();
      const at = authorizeUrl(reg.body.client_id, p.challenge);
      // One session per person: the sign-in limiter counts attempts per address.
      const cookie = sessions.get(email) ?? (await signIn(email));
      sessions.set(email, cookie);
      const page = await consent(at, cookie);
      const a = await answer(at, cookie, { csrf: page.csrf, agent, decision: 'allow' });
      assert.equal(a.status, 303, a.text);
      const code = a.location!.searchParams.get('code');
      assert.ok(code);
      return { clientId: reg.body.client_id as string, code, ...p };
    }

    before(async () => {
      // As `paddock up` does once the port is known: the public URL is where clients connect.
      paddock = await servePaddock(kind, { publicUrlIsServed: true });
      ({ t, deps, app, url } = paddock);
      acme = await seedOrg(t.store, 'acme');
      everything = await addStdioConnection(app, acme, { name: 'Everything' });
      // The member's own agent (granted echo), and an org-wide agent the admin owns: the member
      // may talk to it, but not hold a token for it.
      memberAgent = await agentWithGrants(app, acme, {
        name: 'member-helper',
        by: acme.people.member.token,
        scope: 'private',
        grants: [{ connectionId: everything, tool: 'echo' }],
      });
      adminAgent = await agentWithGrants(app, acme, { name: 'org-helper' });
    });

    after(async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      await paddock?.close();
    });

    test('discovery: a 401 points at the resource metadata, which names Paddock as the authorization server', async () => {
      const res = await fetch(`${url}/mcp/acme`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
      assert.equal(res.status, 401);
      const challenge = res.headers.get('www-authenticate') ?? '';
      const prmUrl = `${url}/.well-known/oauth-protected-resource/mcp/acme`;
      assert.match(challenge, /^Bearer realm="paddock"/);
      assert.ok(challenge.endsWith(`resource_metadata="${prmUrl}"`), challenge);
      const prm = await (await fetch(prmUrl)).json();
      assert.equal(prm.resource, `${url}/mcp/acme`);
      assert.deepEqual(prm.authorization_servers, [url]);
      const as = await fetch(`${url}/.well-known/oauth-authorization-server`);
      assert.equal(as.headers.get('access-control-allow-origin'), '*');
      const meta = await as.json();
      assert.equal(meta.issuer, url);
      assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
      assert.deepEqual(meta.token_endpoint_auth_methods_supported, ['none']);
      assert.equal(meta.registration_endpoint, `${url}/oauth/register`);
    });

    test('the SDK client signs in, the person picks their agent, and the client works through the gate as it', async () => {
      const provider = new MemoryProvider();
      const serverUrl = new URL(`${url}/mcp/acme`);
      const first = new Client({ name: 'desk', version: '1.0.0' });
      await assert.rejects(
        first.connect(new StreamableHTTPClientTransport(serverUrl, { authProvider: provider })),
        UnauthorizedError,
      );
      assert.ok(provider.info?.client_id, 'the client registered itself');
      const at = provider.authorizationUrl!;
      assert.equal(at.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(at.searchParams.get('resource'), `${url}/mcp/acme`);

      // Not signed in: sent to Paddock's sign-in, which brings the person back here.
      const anon = await consent(at.href, '');
      assert.equal(anon.status, 302);
      assert.equal(anon.location, `/signin?next=${encodeURIComponent(at.pathname + at.search)}`);

      const cookie = await signIn(acme.people.member.email);
      const page = await consent(at.href, cookie);
      assert.equal(page.status, 200);
      assert.match(page.html, /Desk Client/);
      assert.deepEqual(page.agents, [memberAgent], 'only the agent the member may hold a token for');
      assert.match(page.csp, /form-action 'self' http:\/\/127\.0\.0\.1:9/);
      const a = await answer(at.href, cookie, { csrf: page.csrf, agent: memberAgent, decision: 'allow' });
      assert.equal(a.status, 303, a.text);
      assert.equal(`${a.location!.origin}${a.location!.pathname}`, REDIRECT);
      assert.equal(a.location!.searchParams.get('state'), 'st-123');
      assert.equal(a.location!.searchParams.get('iss'), url);

      const transport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider });
      await transport.finishAuth(a.location!.searchParams.get('code')!);
      assert.match(provider.saved!.access_token, /^pda_/);
      assert.match(provider.saved!.refresh_token ?? '', /^pdr_/);
      const client = new Client({ name: 'desk', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(serverUrl, { authProvider: provider }));
      clients.push(client);
      const tools = await client.listTools();
      assert.deepEqual(
        tools.tools.map((x) => x.name),
        ['everything__echo'],
      );
      const echoed = await client.callTool({ name: 'everything__echo', arguments: { message: 'hi' } });
      assert.ok(!echoed.isError, JSON.stringify(echoed));
      assert.match(JSON.stringify(echoed.content), /hi/);

      // Listed with the other tokens of the agent, under the client's name; stored as a digest only.
      const list = await api('get', `/agents/${memberAgent}/tokens`, acme.people.member.token);
      const mine = list.body.tokens.find((x: { client: unknown }) => x.client !== null);
      assert.equal(mine.client.name, 'Desk Client');
      assert.ok(
        Date.parse(mine.client.renewableUntil) > Date.now() + 80 * 86_400_000,
        'renewable for 90 days',
      );
      assert.equal(mine.createdBy, acme.people.member.id);
      const row = await t.store.db
        .selectFrom('agent_tokens')
        .select('token_hash')
        .where('id', '=', mine.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.token_hash, hashSecret(provider.saved!.access_token));
      await deps.audit.flush();
      const created = (await allAuditEntries(t.store)).filter(
        (e) => e.action === 'agent.token.created' && JSON.parse(e.details ?? '{}').via === 'oauth',
      );
      assert.equal(created.length, 1);
      assert.equal(created[0]!.actor_id, acme.people.member.id);
      assert.equal(JSON.parse(created[0]!.details!).client.name, 'Desk Client');
      assert.doesNotMatch(JSON.stringify(await allAuditEntries(t.store)), /pd[acr]_[A-Za-z0-9_-]{20}/);

      // Refresh rotates both tokens: the old ones stop at once, the new ones work, on record.
      const old = provider.saved!;
      const refreshed = await tokenRequest({
        grant_type: 'refresh_token',
        refresh_token: old.refresh_token!,
        client_id: provider.info!.client_id,
        resource: `${url}/mcp/acme`,
      });
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
      assert.notEqual(refreshed.body.access_token, old.access_token);
      assert.deepEqual((await mcp(refreshed.body.access_token)).tools, ['everything__echo']);
      assert.equal((await mcp(old.access_token)).code, 'invalid_token');
      const replay = await tokenRequest({
        grant_type: 'refresh_token',
        refresh_token: old.refresh_token!,
        client_id: provider.info!.client_id,
      });
      assert.equal(replay.status, 400);
      assert.equal(replay.body.error, 'invalid_grant');
      await deps.audit.flush();
      assert.equal(
        (await allAuditEntries(t.store)).filter((e) => e.action === 'agent.token.refreshed').length,
        1,
      );
    });

    test('a person cannot obtain a token for an agent they may not use, even with a forged form', async () => {
      const reg = await register({ client_name: 'Sneaky', redirect_uris: [REDIRECT] });
      const p = pkce();
      const at = authorizeUrl(reg.body.client_id, p.challenge);
      const cookie = await signIn(acme.people.member.email);
      const page = await consent(at, cookie);
      assert.ok(
        !page.agents.includes(adminAgent),
        'the org-wide agent the member does not own is not offered',
      );
      const before = await codeCount();
      const forged = await answer(at, cookie, { csrf: page.csrf, agent: adminAgent, decision: 'allow' });
      assert.equal(forged.status, 403);
      assert.equal(forged.location, null);
      const unknown = await answer(at, cookie, { csrf: page.csrf, agent: 'agt_nope', decision: 'allow' });
      assert.equal(unknown.status, 403);
      // No CSRF token, or another session's: refused, no code.
      const noCsrf = await answer(at, cookie, { csrf: '', agent: memberAgent, decision: 'allow' });
      assert.equal(noCsrf.status, 403);
      const otherSession = await consent(at, await signIn(acme.people.admin.email));
      const crossed = await answer(at, cookie, {
        csrf: otherSession.csrf,
        agent: memberAgent,
        decision: 'allow',
      });
      assert.equal(crossed.status, 403);
      // An auditor may use no agent this way at all.
      const auditorPage = await consent(at, await signIn(acme.people.auditor.email));
      assert.deepEqual(auditorPage.agents, []);
      assert.equal(await codeCount(), before, 'no code was issued');
      // Saying no tells the client so.
      const no = await answer(at, cookie, { csrf: page.csrf, agent: memberAgent, decision: 'deny' });
      assert.equal(no.status, 303);
      assert.equal(no.location!.searchParams.get('error'), 'access_denied');
      assert.equal(no.location!.searchParams.get('state'), 'abc');
    });

    test('a wrong verifier, redirect URI, client or resource changes nothing; a code works once', async () => {
      const { clientId, code, verifier } = await freshCode(acme.people.member.email, memberAgent);
      const other = await register({ client_name: 'Other', redirect_uris: [REDIRECT] });
      const base = {
        grant_type: 'authorization_code',
        code,
        client_id: clientId,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        resource: `${url}/mcp/acme`,
      };
      const tries: Array<[Record<string, string>, number, string]> = [
        [{ code_verifier: pkce().verifier }, 400, 'invalid_grant'],
        [{ code_verifier: 'short' }, 400, 'invalid_grant'],
        [{ redirect_uri: 'http://127.0.0.1:9/other' }, 400, 'invalid_grant'],
        [{ client_id: other.body.client_id }, 400, 'invalid_grant'],
        [{ client_id: 'mcpc_unknown' }, 401, 'invalid_client'],
        [{ resource: `${url}/mcp/other` }, 400, 'invalid_target'],
        [{ resource: 'https://evil.example/mcp/acme' }, 400, 'invalid_target'],
        [{ grant_type: 'password' }, 400, 'unsupported_grant_type'],
        [{ code: 'pdc_forged' }, 400, 'invalid_grant'],
      ];
      const rowsBefore = await t.store.db.selectFrom('agent_tokens').select('id').execute();
      for (const [change, status, error] of tries) {
        const r = await tokenRequest({ ...base, ...change });
        assert.equal(r.status, status, `${JSON.stringify(change)}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error, error, JSON.stringify(change));
        assert.equal(r.body.access_token, undefined);
      }
      // Repeated parameters and a JSON body are refused too.
      const twice = await fetch(`${url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `${new URLSearchParams(base).toString()}&code=${encodeURIComponent(code)}`,
      });
      assert.equal(twice.status, 400);
      const asJson = await fetch(`${url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(base),
      });
      assert.equal((await asJson.json()).error, 'invalid_request');
      assert.equal(
        (await t.store.db.selectFrom('agent_tokens').select('id').execute()).length,
        rowsBefore.length,
        'no token issued',
      );
      // The rightful exchange still works, once.
      const ok = await tokenRequest(base);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.token_type, 'Bearer');
      assert.equal(ok.body.expires_in, 3600);
      const again = await tokenRequest(base);
      assert.equal(again.status, 400);
      assert.equal(again.body.error, 'invalid_grant');
      // Two racing refreshes with one refresh token: one is answered, the other refused.
      const fresh = await freshCode(acme.people.member.email, memberAgent);
      const live = await tokenRequest({
        ...base,
        code: fresh.code,
        client_id: fresh.clientId,
        code_verifier: fresh.verifier,
      });
      assert.equal(live.status, 200, JSON.stringify(live.body));
      const refresh = () =>
        tokenRequest({
          grant_type: 'refresh_token',
          refresh_token: live.body.refresh_token,
          client_id: fresh.clientId,
        });
      const raced = await Promise.all([refresh(), refresh()]);
      assert.deepEqual(raced.map((r) => r.status).sort(), [200, 400]);
      // The loser presented a spent refresh token: indistinguishable from a thief, so the grant
      // ends and the winner's new tokens with it (a client must not refresh concurrently).
      const winner = raced.find((r) => r.status === 200)!;
      assert.equal((await mcp(winner.body.access_token)).code, 'token_revoked');
    });

    test('a replayed refresh token ends the whole grant (RFC 9700 §4.14.2), on record', async () => {
      // A thief holds an old refresh token; the rightful client has refreshed since (or the thief
      // has, first): whichever presents the spent one, the grant ends for both of them.
      const { clientId, code, verifier } = await freshCode(acme.people.member.email, memberAgent);
      const first = await tokenRequest({
        grant_type: 'authorization_code',
        code,
        client_id: clientId,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const refresh = (token: string) =>
        tokenRequest({ grant_type: 'refresh_token', refresh_token: token, client_id: clientId });
      // A spent secret older than any sign-in lasts is forgotten at the next rotation.
      const tokenId = (
        await t.store.db
          .selectFrom('oauth_grants')
          .select('token_id')
          .where('refresh_hash', '=', hashSecret(first.body.refresh_token))
          .executeTakeFirstOrThrow()
      ).token_id;
      await t.store.db
        .insertInto('oauth_spent')
        .values({
          secret_hash: hashSecret('pdr_ancient'),
          token_id: tokenId,
          spent_at: new Date(Date.now() - 91 * 86_400_000).toISOString(),
        })
        .execute();
      const second = await refresh(first.body.refresh_token);
      assert.equal(second.status, 200, JSON.stringify(second.body));
      const ancient = await t.store.db
        .selectFrom('oauth_spent')
        .select('token_id')
        .where('secret_hash', '=', hashSecret('pdr_ancient'))
        .execute();
      assert.equal(ancient.length, 0, 'the 91-day-old spent secret is forgotten');
      const third = await refresh(second.body.refresh_token);
      assert.equal(third.status, 200, JSON.stringify(third.body));
      assert.deepEqual((await mcp(third.body.access_token)).tools, ['everything__echo']);
      // The first refresh token, two rotations old, comes back. (Ends told to every replica are
      // watched: the real publish still runs.)
      const published: unknown[] = [];
      const publish = deps.sessions.publish.bind(deps.sessions);
      deps.sessions.publish = async (end) => {
        published.push(end);
        return publish(end);
      };
      const replay = await refresh(first.body.refresh_token).finally(() => {
        deps.sessions.publish = publish;
      });
      assert.equal(replay.status, 400);
      assert.equal(replay.body.error, 'invalid_grant');
      assert.equal(replay.body.access_token, undefined);
      // The newest access token and refresh token are dead too.
      assert.equal((await mcp(third.body.access_token)).code, 'token_revoked');
      const after = await refresh(third.body.refresh_token);
      assert.equal(after.status, 400);
      assert.equal(after.body.error, 'invalid_grant');
      await deps.audit.flush();
      const grant = await t.store.db
        .selectFrom('oauth_grants')
        .select('token_id')
        .where('refresh_hash', '=', hashSecret(third.body.refresh_token))
        .executeTakeFirstOrThrow();
      const replays = (await allAuditEntries(t.store)).filter(
        (e) =>
          e.action === 'agent.token.revoked' &&
          JSON.parse(e.details ?? '{}').tokenId === grant.token_id &&
          /replayed/.test(e.details ?? ''),
      );
      assert.equal(replays.length, 1, 'the revocation is recorded once, saying why');
      // Its calls in flight end too, on every replica, as when a person revokes a token.
      assert.deepEqual(published, [{ kind: 'agent-tokens', orgId: acme.id, tokenIds: [grant.token_id] }]);
      assert.equal(replays[0]!.actor_type, 'system');
      assert.doesNotMatch(JSON.stringify(replays), /pd[acr]_[A-Za-z0-9_-]{20}/);
    });

    test('a reused authorization code revokes the token issued for it (RFC 6749 §4.1.2)', async () => {
      const { clientId, code, verifier } = await freshCode(acme.people.member.email, memberAgent);
      const base = {
        grant_type: 'authorization_code',
        code,
        client_id: clientId,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      };
      const got = await tokenRequest(base);
      assert.equal(got.status, 200, JSON.stringify(got.body));
      assert.deepEqual((await mcp(got.body.access_token)).tools, ['everything__echo']);
      const again = await tokenRequest(base);
      assert.equal(again.status, 400);
      assert.equal(again.body.error, 'invalid_grant');
      assert.equal((await mcp(got.body.access_token)).code, 'token_revoked');
      const refresh = await tokenRequest({
        grant_type: 'refresh_token',
        refresh_token: got.body.refresh_token,
        client_id: clientId,
      });
      assert.equal(refresh.status, 400);
      // A forged code (never issued) revokes nothing: only a spent one does.
      const other = await freshCode(acme.people.member.email, memberAgent);
      const live = await tokenRequest({
        ...base,
        ...other,
        client_id: other.clientId,
        code_verifier: other.verifier,
      });
      assert.equal(live.status, 200, JSON.stringify(live.body));
      const forged = await tokenRequest({ ...base, code: 'pdc_forged_never_issued' });
      assert.equal(forged.status, 400);
      assert.deepEqual((await mcp(live.body.access_token)).tools, ['everything__echo']);
    });

    test('a person who may no longer use the agent cannot refresh: the token is revoked, on record', async () => {
      const ownerAgent = await api('post', '/agents', acme.people.owner.token, {
        name: 'owner-agent',
        scope: 'organization',
        instructions: 'x',
        model: { provider: 'openai', model: 'gpt-5' },
      });
      assert.equal(ownerAgent.status, 201, ownerAgent.text);
      const admin = acme.people.admin;
      const { clientId, code, verifier } = await freshCode(admin.email, ownerAgent.body.id);
      const got = await tokenRequest({
        grant_type: 'authorization_code',
        code,
        client_id: clientId,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      });
      assert.equal(got.status, 200, JSON.stringify(got.body));
      const role = (r: string) =>
        call(app, 'patch', `/api/v1/orgs/acme/people/${admin.id}`, {
          token: acme.people.owner.token,
          body: { role: r },
        });
      assert.equal((await role('member')).status, 200);
      try {
        const refresh = await tokenRequest({
          grant_type: 'refresh_token',
          refresh_token: got.body.refresh_token,
          client_id: clientId,
        });
        assert.equal(refresh.status, 400);
        assert.equal(refresh.body.error, 'invalid_grant');
        assert.equal((await mcp(got.body.access_token)).code, 'token_revoked');
        await deps.audit.flush();
        const revoked = (await allAuditEntries(t.store)).filter(
          (e) => e.action === 'agent.token.revoked' && e.target_id === ownerAgent.body.id,
        );
        assert.equal(revoked.length, 1);
        assert.equal(revoked[0]!.actor_type, 'system');
      } finally {
        assert.equal((await role('admin')).status, 200);
      }
    });

    test('removing the person ends their client tokens; a token pasted by hand keeps working', async () => {
      const leaver = acme.people.admin;
      const agent = await api('post', '/agents', leaver.token, {
        name: 'leaver-agent',
        scope: 'organization',
        instructions: 'x',
        model: { provider: 'openai', model: 'gpt-5' },
      });
      assert.equal(agent.status, 201, agent.text);
      const { clientId, code, verifier } = await freshCode(leaver.email, agent.body.id);
      const got = await tokenRequest({
        grant_type: 'authorization_code',
        code,
        client_id: clientId,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      });
      assert.equal(got.status, 200, JSON.stringify(got.body));
      // A code consented to but not yet exchanged when the person goes: no token for it either.
      const pending = await freshCode(leaver.email, agent.body.id);
      const pasted = await api('post', `/agents/${memberAgent}/tokens`, acme.people.member.token, {
        name: 'cli',
      });
      assert.equal(pasted.status, 201, pasted.text);
      assert.equal((await mcp(got.body.access_token)).status, 200);

      const removed = await api('delete', `/people/${leaver.id}`, acme.people.owner.token);
      assert.equal(removed.status, 204, removed.text);
      assert.deepEqual(await mcp(got.body.access_token), {
        status: 401,
        code: 'token_revoked',
        tools: undefined,
      });
      const refresh = await tokenRequest({
        grant_type: 'refresh_token',
        refresh_token: got.body.refresh_token,
        client_id: clientId,
      });
      assert.equal(refresh.status, 400);
      assert.equal(refresh.body.error, 'invalid_grant');
      const late = await tokenRequest({
        grant_type: 'authorization_code',
        code: pending.code,
        client_id: pending.clientId,
        redirect_uri: REDIRECT,
        code_verifier: pending.verifier,
      });
      assert.equal(late.status, 400);
      assert.equal(late.body.error, 'invalid_grant');
      // The hand-pasted token of another person works on.
      assert.deepEqual((await mcp(pasted.body.token)).tools, ['everything__echo']);
    });

    test('hostile registrations are refused and register nothing', async () => {
      const count = async () =>
        Number(
          (
            await t.store.db
              .selectFrom('oauth_clients')
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const before = await count();
      const bad: Array<[unknown, string]> = [
        [{ client_name: 'x', redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri'],
        [{ client_name: 'x', redirect_uris: ['http://evil.example/cb'] }, 'invalid_redirect_uri'],
        [{ client_name: 'x', redirect_uris: ['https://ok.example/cb#frag'] }, 'invalid_redirect_uri'],
        [{ client_name: 'x', redirect_uris: ['https://user:pw@ok.example/cb'] }, 'invalid_redirect_uri'],
        [{ client_name: 'x', redirect_uris: ['http://127.0.0.1.evil.example/cb'] }, 'invalid_redirect_uri'],
        [
          { client_name: 'x', redirect_uris: [`https://ok.example/${'a'.repeat(600)}`] },
          'invalid_redirect_uri',
        ],
        [
          { client_name: 'x', redirect_uris: Array.from({ length: 6 }, (_, i) => `https://ok.example/${i}`) },
          'invalid_redirect_uri',
        ],
        [{ client_name: 'x', redirect_uris: [] }, 'invalid_redirect_uri'],
        [{ client_name: 'x' }, 'invalid_redirect_uri'],
        [{ client_name: 'a'.repeat(101), redirect_uris: [REDIRECT] }, 'invalid_client_metadata'],
        [{ client_name: 'Evil\u202eppA', redirect_uris: [REDIRECT] }, 'invalid_client_metadata'],
        [
          { client_name: 'x', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_post' },
          'invalid_client_metadata',
        ],
        [
          { client_name: 'x', redirect_uris: [REDIRECT], grant_types: ['implicit'] },
          'invalid_client_metadata',
        ],
        [
          { client_name: 'x', redirect_uris: [REDIRECT], response_types: ['token'] },
          'invalid_client_metadata',
        ],
        [[REDIRECT], 'invalid_client_metadata'],
      ];
      for (const [body, error] of bad) {
        const r = await register(body);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.body.error, error, JSON.stringify(body));
      }
      const malformed = await register(null, '{"client_name":');
      assert.equal(malformed.body.error, 'invalid_client_metadata');
      const huge = await register(
        null,
        JSON.stringify({ client_name: 'x', redirect_uris: [REDIRECT], pad: 'x'.repeat(70_000) }),
      );
      assert.equal(huge.status, 413);
      assert.equal(await count(), before, 'nothing registered');
    });

    test('authorization requests that could redirect anywhere, or inject into the answer, are refused', async () => {
      const reg = await register({ client_name: 'Victim App', redirect_uris: [REDIRECT] });
      const id = reg.body.client_id as string;
      const cookie = await signIn(acme.people.member.email);
      const { challenge } = pkce();
      // Unknown client or unregistered redirect URI: a page for the person, never a redirect.
      const unsafe: Array<Record<string, string>> = [
        { redirect_uri: 'https://evil.example/cb' },
        { redirect_uri: `${REDIRECT}/../evil` },
        { redirect_uri: `${REDIRECT}?x=1` },
        { client_id: 'mcpc_nope' },
      ];
      for (const extra of unsafe) {
        const page = await consent(authorizeUrl(id, challenge, extra), cookie);
        assert.equal(page.status, 400, JSON.stringify(extra));
        assert.equal(page.location, null);
        assert.doesNotMatch(page.html, /evil/);
      }
      // Known client and redirect URI: errors go back to it, as OAuth says.
      const errors: Array<[Record<string, string>, string]> = [
        [{ code_challenge_method: 'plain' }, 'invalid_request'],
        [{ code_challenge: 'too-short' }, 'invalid_request'],
        [{ response_type: 'token' }, 'unsupported_response_type'],
        [{ resource: 'https://evil.example/mcp/acme' }, 'invalid_target'],
        [{ resource: `${url}/mcp/../api` }, 'invalid_target'],
      ];
      for (const [extra, error] of errors) {
        const page = await consent(authorizeUrl(id, challenge, extra), cookie);
        assert.equal(page.status, 303, JSON.stringify(extra));
        const back = new URL(page.location!);
        assert.equal(`${back.origin}${back.pathname}`, REDIRECT);
        assert.equal(back.searchParams.get('error'), error, JSON.stringify(extra));
        assert.equal(back.searchParams.get('code'), null);
      }
      const noPkce = new URL(authorizeUrl(id, challenge));
      noPkce.searchParams.delete('code_challenge');
      assert.equal(
        new URL((await consent(noPkce.href, cookie)).location!).searchParams.get('error'),
        'invalid_request',
      );
      // A repeated parameter: which client is asking is unclear (a page), otherwise an error back.
      assert.equal((await consent(`${authorizeUrl(id, challenge)}&client_id=${id}`, cookie)).status, 400);
      const dup = `${authorizeUrl(id, challenge)}&resource=${encodeURIComponent('https://evil.example/mcp/acme')}`;
      assert.equal(
        new URL((await consent(dup, cookie)).location!).searchParams.get('error'),
        'invalid_request',
      );

      // A state that tries to smuggle parameters comes back as one opaque value; the page escapes it.
      const state = 'x&code=evil"><script>alert(1)</script>';
      const at = authorizeUrl(id, challenge, { state });
      const page = await consent(at, cookie);
      assert.equal(page.status, 200);
      assert.doesNotMatch(page.html, /<script>/);
      assert.match(page.csp, /default-src 'none'/);
      const a = await answer(at, cookie, { csrf: page.csrf, agent: memberAgent, decision: 'allow' });
      assert.equal(a.status, 303);
      assert.deepEqual(a.location!.searchParams.getAll('state'), [state]);
      assert.equal(a.location!.searchParams.getAll('code').length, 1);
      assert.notEqual(a.location!.searchParams.get('code'), 'evil');
      // A request for another org the member is not in: nothing to choose, and no code.
      const foreign = await consent(authorizeUrl(id, challenge, { resource: `${url}/mcp/nowhere` }), cookie);
      assert.equal(foreign.status, 200);
      assert.deepEqual(foreign.agents, []);
      assert.match(foreign.html, /not a member/);
      const tried = await answer(authorizeUrl(id, challenge, { resource: `${url}/mcp/nowhere` }), cookie, {
        csrf: foreign.csrf,
        agent: memberAgent,
        decision: 'allow',
      });
      assert.equal(tried.location!.searchParams.get('error'), 'access_denied');
    });

    test('registrations from one address are capped', async () => {
      let refusedAt = 0;
      for (let i = 1; i <= 25 && refusedAt === 0; i++) {
        const r = await register({ client_name: `bulk ${i}`, redirect_uris: [REDIRECT] });
        if (r.status === 429) {
          refusedAt = i;
          assert.equal(r.body.error, 'temporarily_unavailable');
        } else assert.equal(r.status, 201);
      }
      assert.ok(refusedAt > 0, 'the 21st registration from one address in 15 minutes is refused');
    });

    test('a full client table makes room from registrations unused for an hour; a fresh flood still fills it', async () => {
      const clientCount = async () =>
        Number(
          (
            await t.store.db
              .selectFrom('oauth_clients')
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const fill = async (createdAt: string, tag: string) => {
        const rows = Array.from({ length: MAX_CLIENTS - (await clientCount()) }, (_, i) => ({
          id: `mcpc_${tag}${i}x`,
          name: 'flood',
          redirect_uris: JSON.stringify([REDIRECT]),
          created_at: createdAt,
        }));
        for (let i = 0; i < rows.length; i += 500)
          await t.store.db
            .insertInto('oauth_clients')
            .values(rows.slice(i, i + 500))
            .execute();
      };
      const from = async (forwarded: string) => {
        const res = await fetch(`${url}/oauth/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': forwarded },
          body: JSON.stringify({ client_name: 'After the flood', redirect_uris: [REDIRECT] }),
        });
        return { status: res.status, body: (await res.json()) as Record<string, string> };
      };
      deps.config = { ...deps.config, trustedProxies: ['127.0.0.1'] };
      try {
        // A flood two hours old, never used: room is made from it.
        await fill(new Date(Date.now() - 2 * 3600_000).toISOString(), 'old');
        assert.equal(await clientCount(), MAX_CLIENTS);
        const after = await from('192.0.2.10');
        assert.equal(after.status, 201, JSON.stringify(after.body));
        assert.ok((await clientCount()) < MAX_CLIENTS, 'the unused hour-old registrations are forgotten');
        // A flood of this hour: full, refused, nothing registered; clients already signed in keep working.
        await fill(new Date().toISOString(), 'new');
        const full = await from('192.0.2.11');
        assert.equal(full.status, 503, JSON.stringify(full.body));
        assert.equal(full.body.error, 'temporarily_unavailable');
        assert.equal(await clientCount(), MAX_CLIENTS);
      } finally {
        deps.config = { ...deps.config, trustedProxies: [] };
        await t.store.db.deleteFrom('oauth_clients').where('name', '=', 'flood').execute();
      }
    });

    test('behind a trusted proxy registrations count per client, and an IPv6 /64 as one client', async () => {
      const from = async (forwarded: string, i: number) => {
        const res = await fetch(`${url}/oauth/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': forwarded },
          body: JSON.stringify({ client_name: `proxied ${i}`, redirect_uris: [REDIRECT] }),
        });
        return res.status;
      };
      // The test's own address (127.0.0.1) has used its allowance above; not yet a trusted proxy,
      // its X-Forwarded-For is ignored.
      assert.equal(await from('198.51.100.1', 0), 429);
      deps.config = { ...deps.config, trustedProxies: ['127.0.0.1'] };
      try {
        // Another client behind the proxy is not held to the proxy's (or anyone else's) count.
        assert.equal(await from('198.51.100.1', 1), 201);
        assert.equal(await from('198.51.100.2', 2), 201);
        // One IPv6 client rotating through its /64: capped as one.
        const statuses: number[] = [];
        for (let i = 1; i <= 22; i++) statuses.push(await from(`2001:db8:7:7::${i.toString(16)}`, 10 + i));
        assert.deepEqual(statuses.slice(0, 20), Array(20).fill(201));
        assert.deepEqual(statuses.slice(20), [429, 429]);
        assert.equal(await from('2001:db8:7:8::1', 99), 201, 'the next /64 is someone else');
      } finally {
        deps.config = { ...deps.config, trustedProxies: [] };
      }
    });
  });
}
