/**
 * `/mcp/{org}` as a declared route (both engines, a real MCP server in the org's sandbox): it is
 * in the OpenAPI document as an agent route; one authentication read gives the gate what it needs
 * (a tools/call reads the agent token with the agent's standing — nothing else before its
 * decision is on record: the connection namespaces are kept in memory); a call that waits for a person
 * carries `_meta['paddock/approval']` over HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, seedOrg } from '../../testing/fixtures.ts';
import { notingStore } from '../../testing/query-log.ts';
import {
  addStdioConnection,
  agentWithToken,
  type ServedPaddock,
  servePaddock,
} from '../../testing/served.ts';
import { STORE_KINDS, type TestStore } from '../../testing/stores.ts';

const MCP_HEADERS = { accept: 'application/json, text/event-stream' };

for (const kind of STORE_KINDS) {
  describe(`the MCP route [${kind}]`, () => {
    let paddock: ServedPaddock;
    let t: TestStore;
    let deps: ServedPaddock['deps'];
    let app: ServedPaddock['app'];
    let noting: ReturnType<typeof notingStore>['noting'];
    let agentToken: string;
    const api = (method: string, path: string, body?: unknown) =>
      call(app, method, `/api/v1/orgs/acme${path}`, {
        token: admin,
        ...(body === undefined ? {} : { body }),
      });
    let admin: string;
    let agentId = '';
    let connectionId = '';
    let id = 0;
    const tools = (name: string, args: Record<string, unknown>) =>
      call(app, 'post', '/mcp/acme', {
        token: agentToken,
        headers: MCP_HEADERS,
        body: { jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name, arguments: args } },
      });

    before(async () => {
      paddock = await servePaddock(kind, {
        store: (store) => {
          const noted = notingStore(store);
          noting = noted.noting;
          return noted.store;
        },
      });
      ({ t, deps, app } = paddock);
      const acme = await seedOrg(t.store, 'acme');
      admin = acme.people.admin.token;
      connectionId = await addStdioConnection(app, acme, { by: admin });
      const agent = await agentWithToken(app, acme, {
        name: 'remote',
        grants: [
          { connectionId, tool: 'echo' },
          { connectionId, tool: 'get-sum', requiresApproval: true },
        ],
      });
      agentId = agent.id;
      agentToken = agent.token;
      await call(app, 'patch', '/api/v1/orgs/acme', {
        token: acme.people.owner.token,
        body: { settings: { approvalWaitSeconds: 0 } },
      });
    });
    after(async () => {
      await paddock?.close();
    });

    test('it is declared like every route: in the OpenAPI document, for agent tokens', async () => {
      const doc = (await call(app, 'get', '/api/v1/openapi.json')).body;
      const ops = doc.paths['/mcp/{org}'];
      assert.deepEqual(Object.keys(ops).sort(), ['delete', 'get', 'post']);
      assert.equal(ops.post['x-paddock-access'], 'agent');
      assert.deepEqual(ops.post.security, [{ agentToken: [] }]);
    });

    test('one authentication read: a tools/call reads the token with the standing, and nothing else before its decision', async () => {
      // Warm: the agent's session is open and its grants are in the engine.
      for (let i = 0; i < 2; i++)
        assert.equal((await tools('everything__echo', { message: 'warm' })).status, 200);
      const log: string[] = [];
      let decided = -1;
      const appendDurable = deps.audit.appendDurable.bind(deps.audit);
      deps.audit.appendDurable = (input) => {
        if (input.action === 'tool.call.allowed' && decided < 0) decided = log.length;
        return appendDurable(input);
      };
      try {
        const r = await noting(log, () => tools('everything__echo', { message: 'counted' }));
        assert.equal(r.status, 200, r.text);
        assert.match(JSON.stringify(r.body.result.content), /Echo: counted/);
      } finally {
        deps.audit.appendDurable = appendDurable;
      }
      assert.ok(decided >= 0, 'the decision was recorded');
      // Before the refactor: agent_tokens, orgs (the path's slug), connections, agents+orgs (the stop
      // check); the namespaces (connections) are kept in memory since.
      assert.deepEqual(
        log.slice(0, decided).filter((q) => q.startsWith('select:')),
        ['select:agent_tokens+agents+orgs'],
      );
    });

    test('a call that waits for a person answers with the request in _meta, beside the readable text', async () => {
      const r = await tools('everything__get-sum', { a: 1, b: 2 });
      assert.equal(r.status, 200, r.text);
      const result = r.body.result;
      assert.equal(result.isError, true);
      assert.match(result.content[0].text, /^approval_required: /);
      const pending = (await api('get', '/approvals?status=pending')).body.approvals;
      assert.equal(pending.length, 1);
      assert.deepEqual(result._meta['paddock/approval'], {
        id: pending[0].id,
        expiresAt: pending[0].expiresAt,
      });
    });

    test('what one stateless client declared in an initialize does not stay with the pooled server that answered it', async () => {
      for (const grant of [{ tool: 'trigger-sampling-request' }, { sampling: true }])
        assert.equal(
          (await api('post', `/agents/${agentId}/grants`, { connectionId, ...grant })).status,
          201,
        );
      // An initialize in a batch of one opens no session: a pooled server answers it.
      const init = await call(app, 'post', '/mcp/acme', {
        token: agentToken,
        headers: MCP_HEADERS,
        body: [
          {
            jsonrpc: '2.0',
            id: ++id,
            method: 'initialize',
            params: {
              protocolVersion: '2025-06-18',
              capabilities: { sampling: {}, elicitation: {} },
              clientInfo: { name: 'declares-sampling', version: '1' },
            },
          },
        ],
      });
      assert.equal(init.status, 200, init.text);
      assert.equal(init.headers.get('mcp-session-id'), null);
      // The next request (the SDK's path: it asks for progress) declared nothing: no sampling request can reach it.
      const sampled = await call(app, 'post', '/mcp/acme', {
        token: agentToken,
        headers: MCP_HEADERS,
        body: {
          jsonrpc: '2.0',
          id: ++id,
          method: 'tools/call',
          params: {
            name: 'everything__trigger-sampling-request',
            arguments: { prompt: 'x' },
            _meta: { progressToken: 'p1' },
          },
        },
      });
      assert.equal(sampled.status, 200, sampled.text);
      assert.match(
        sampled.body.result.content[0].text,
        /sampling_denied: The agent's client did not declare sampling/,
      );
    });
  });
}
