/**
 * What MCP and OAuth clients see (both engines): unknown API, MCP and well-known paths answer a
 * JSON 404, never the dashboard's page; a refused MCP call says why in `WWW-Authenticate`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { bearerChallenge } from './respond.ts';
import { dashboardBuilt } from './static.ts';

const LIST_TOOLS = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const MCP_HEADERS = { accept: 'application/json, text/event-stream' };

test('the 401 challenge names an error only when a credential was sent (RFC 6750 §3)', () => {
  assert.equal(bearerChallenge(undefined), 'Bearer realm="paddock"');
  assert.equal(bearerChallenge('Bearer pda_x'), 'Bearer realm="paddock", error="invalid_token"');
  assert.equal(bearerChallenge('bearer pdk_x'), 'Bearer realm="paddock", error="invalid_token"');
  assert.equal(bearerChallenge('Basic dXNlcjpwdw=='), 'Bearer realm="paddock", error="invalid_request"');
  assert.equal(bearerChallenge('Bearer'), 'Bearer realm="paddock", error="invalid_request"');
});

for (const kind of STORE_KINDS) {
  describe(`paths for machines [${kind}]`, () => {
    let t: TestStore;
    let app: ReturnType<typeof createApp>;
    let acme: SeededOrg;
    let publicUrl: string;

    before(async () => {
      t = await openTestStore(kind);
      const deps = testDeps(t.store, t.home);
      publicUrl = deps.config.publicUrl;
      app = createApp(deps);
      acme = await seedOrg(t.store, 'acme');
    });
    after(async () => t?.cleanup());

    test('unknown /api, /mcp and /.well-known paths answer a JSON 404 with a code, never the dashboard', async () => {
      const paths = [
        '/api/v1/nothing-here',
        '/api',
        '/mcp',
        '/mcp/acme/extra',
        // What MCP clients (mcp-remote) and OAuth libraries may ask for that Paddock does not offer.
        '/.well-known/oauth-protected-resource',
        '/.well-known/oauth-protected-resource/mcp/acme/extra',
        '/.well-known/openid-configuration',
      ];
      for (const path of paths) {
        for (const method of ['get', 'post'] as const) {
          const r = await call(app, method, path);
          assert.equal(r.status, 404, `${method} ${path}: ${r.text.slice(0, 80)}`);
          assert.match(r.headers.get('content-type') ?? '', /^application\/json/, `${method} ${path}`);
          assert.equal(r.body.error.code, 'route_not_found', `${method} ${path}`);
          assert.match(r.body.error.message, /No route/);
        }
      }
    });

    test('the OAuth discovery documents answer JSON to GET, and nothing else', async () => {
      for (const path of [
        '/.well-known/oauth-protected-resource/mcp/acme',
        '/.well-known/oauth-authorization-server',
      ]) {
        const r = await call(app, 'get', path);
        assert.equal(r.status, 200, `${path}: ${r.text.slice(0, 80)}`);
        assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
        assert.equal((await call(app, 'post', path)).body.error.code, 'route_not_found');
      }
    });

    test('other paths are still dashboard pages', {
      skip: !dashboardBuilt() && 'dashboard not built',
    }, async () => {
      for (const path of ['/people', '/agents/agt_1', '/apiary', '/mcp-servers']) {
        const r = await call(app, 'get', path);
        assert.equal(r.status, 200, path);
        assert.match(r.headers.get('content-type') ?? '', /^text\/html/, path);
      }
    });

    test('a 401 from /mcp/{org} carries WWW-Authenticate: Bearer, with invalid_token when a token was refused', async () => {
      const mcp = (headers: Record<string, string>) =>
        call(app, 'post', '/mcp/acme', { body: LIST_TOOLS, headers: { ...MCP_HEADERS, ...headers } });
      const none = await mcp({});
      assert.equal(none.status, 401);
      // RFC 9728 §5.1: the challenge says where the endpoint's OAuth metadata is.
      const metadata = `resource_metadata="${publicUrl}/.well-known/oauth-protected-resource/mcp/acme"`;
      assert.equal(none.headers.get('www-authenticate'), `Bearer realm="paddock", ${metadata}`);
      assert.equal(none.body.error.code, 'unauthenticated');
      for (const token of ['pda_not-a-real-token', acme.people.owner.token]) {
        const bad = await mcp({ authorization: `Bearer ${token}` });
        assert.equal(bad.status, 401, bad.text);
        assert.equal(
          bad.headers.get('www-authenticate'),
          `Bearer realm="paddock", error="invalid_token", ${metadata}`,
        );
        assert.equal(typeof bad.body.error.code, 'string');
        assert.ok(!bad.text.includes(token), 'the token is not echoed');
      }
      const basic = await mcp({ authorization: 'Basic dXNlcjpwdw==' });
      assert.equal(basic.status, 401);
      assert.equal(
        basic.headers.get('www-authenticate'),
        `Bearer realm="paddock", error="invalid_request", ${metadata}`,
      );

      // A real agent token gets through: the 401 above is the token's, not the endpoint's.
      const agent = await call(app, 'post', '/api/v1/orgs/acme/agents', {
        token: acme.people.admin.token,
        body: {
          name: 'remote',
          scope: 'organization',
          instructions: 'x',
          model: { provider: 'openai', model: 'gpt-5' },
        },
      });
      assert.equal(agent.status, 201, agent.text);
      const tok = await call(app, 'post', `/api/v1/orgs/acme/agents/${agent.body.id}/tokens`, {
        token: acme.people.admin.token,
        body: { name: 'laptop' },
      });
      assert.equal(tok.status, 201, tok.text);
      const ok = await mcp({ authorization: `Bearer ${tok.body.token}` });
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual(ok.body.result.tools, []);
    });

    test('the API answers a refused bearer token the same way', async () => {
      const r = await call(app, 'get', '/api/v1/orgs/acme', { token: 'pdk_not-a-real-token' });
      assert.equal(r.status, 401);
      assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="paddock", error="invalid_token"');
    });
  });
}
