/**
 * Removal as an agent running elsewhere sees it: a real MCP server (server-everything) in the
 * org's bubblewrap sandbox, reached through `/mcp/{org}` over real HTTP with the official MCP SDK
 * client. A long call in flight on the removed person's agent token ends at once, on record, and
 * the token's next request is refused; revoking one token ends only that token's calls.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { allAuditEntries, call, type SeededOrg, seedOrg } from '../testing/fixtures.ts';
import { addStdioConnection, agentWithToken, type ServedPaddock, servePaddock } from '../testing/served.ts';
import { STORE_KINDS, type StoreKind, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';

const LONG = 'everything__trigger-long-running-operation';

type Result = { isError?: boolean; content: Array<{ type: string; text?: string }> };
const text = (r: unknown) => (r as Result).content.map((c) => c.text ?? '').join('\n');

/** On each engine (PostgreSQL with its LISTEN/NOTIFY stop bus). */
function removalSuite(kind: StoreKind): void {
  let p: ServedPaddock;
  let t: TestStore;
  let deps: ServedPaddock['deps'];
  let app: ServedPaddock['app'];
  let url: string;
  let acme: SeededOrg;
  let everything: string;
  const clients: Client[] = [];

  const api = (method: 'get' | 'post' | 'delete', path: string, token: string, body?: unknown) =>
    call(app, method, `/api/v1/orgs/acme${path}`, { token, ...(body === undefined ? {} : { body }) });

  /** An org-wide agent allowed the long-running tool, with an agent token issued by `issuer`. */
  const longAgent = (name: string, issuer: string) =>
    agentWithToken(app, acme, {
      name,
      by: issuer,
      grants: [{ connectionId: everything, tool: 'trigger-long-running-operation' }],
    });

  async function token(agentId: string, issuer: string, name: string) {
    const tok = await api('post', `/agents/${agentId}/tokens`, issuer, { name });
    assert.equal(tok.status, 201, tok.text);
    return { token: tok.body.token as string, tokenId: tok.body.info.id as string };
  }

  async function connect(agentToken: string): Promise<Client> {
    const client = new Client({ name: 'laptop-agent', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${url}/mcp/acme`), {
        requestInit: { headers: { authorization: `Bearer ${agentToken}` } },
      }),
    );
    clients.push(client);
    return client;
  }

  /** A 20-second call, settled with when it ended. */
  function longCall(client: Client) {
    return client
      .callTool({ name: LONG, arguments: { duration: 20, steps: 2 } }, undefined, { timeout: 60_000 })
      .then((r) => ({ r, at: Date.now() }));
  }

  const mcpStatus = async (agentToken: string) => {
    const res = await fetch(`${url}/mcp/acme`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${agentToken}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    const body = (await res.json()) as { error?: { code?: string } };
    return { status: res.status, code: body.error?.code };
  };

  before(async () => {
    p = await servePaddock(kind);
    ({ t, deps, app, url } = p);
    acme = await seedOrg(t.store, 'acme');
    everything = await addStdioConnection(app, acme, { name: 'Everything' });
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await p?.close();
  });

  test('revoking one agent token ends its call in flight, and only its own', async () => {
    const agent = await longAgent('two-laptops', acme.people.owner.token);
    const other = await token(agent.id, acme.people.owner.token, 'desktop');
    const onRevoked = longCall(await connect(agent.token));
    const onOther = longCall(await connect(other.token));
    await until(() => deps.gateway.kills.inFlight({ agentId: agent.id }) === 2, {
      what: 'both calls to run',
    });
    const revoke = await api(
      'delete',
      `/agents/${agent.id}/tokens/${agent.tokenId}`,
      acme.people.owner.token,
    );
    assert.equal(revoke.status, 200, revoke.text);
    const acked = Date.now();
    const ended = await onRevoked;
    assert.equal(ended.r.isError, true);
    assert.match(text(ended.r), /^token_revoked: The agent token was revoked\./);
    assert.ok(ended.at - acked < 2000, `ended ${ended.at - acked} ms after the revocation`);
    assert.equal(deps.gateway.kills.inFlight({ agentId: agent.id }), 1, "the other token's call runs on");
    assert.equal(deps.gateway.kills.inFlight({ onTokens: true }), 1);
    // Stop the bystander so the test does not wait its 20 s.
    assert.equal((await api('post', `/agents/${agent.id}/stop`, acme.people.owner.token)).status, 200);
    assert.match(text((await onOther).r), /agent_stopped/);
  });

  test("removing the issuer ends their agent token's call in flight (on record) and refuses its next request", async () => {
    const leaver = acme.people.admin;
    const agent = await longAgent('laptop-agent', leaver.token);
    const client = await connect(agent.token);
    const inFlight = longCall(client);
    await until(() => deps.gateway.kills.inFlight({ agentId: agent.id }) === 1, { what: 'the call to run' });

    const removed = await api('delete', `/people/${leaver.id}`, acme.people.owner.token);
    assert.equal(removed.status, 204, removed.text);
    const acked = Date.now();

    const ended = await inFlight;
    assert.equal(ended.r.isError, true);
    assert.match(text(ended.r), /^token_revoked: .*removed from the organization/);
    assert.ok(ended.at - acked < 2000, `the 20 s call ended ${ended.at - acked} ms after the removal`);
    assert.equal(deps.gateway.kills.inFlight({ agentId: agent.id }), 0);
    assert.equal(deps.gateway.kills.inFlight({ onTokens: true }), 0);

    // The next request with the token: refused, to the SDK client and on the wire.
    await assert.rejects(
      client.callTool({ name: LONG, arguments: { duration: 1, steps: 1 } }),
      (e: { code?: number; message?: string }) => e.code === 401 && /token_revoked/.test(e.message ?? ''),
    );
    assert.deepEqual(await mcpStatus(agent.token), { status: 401, code: 'token_revoked' });

    // On record: the call was allowed, then ended by the removal (not completed); the removal counts the token.
    await deps.audit.flush();
    const completed = await t.store.db
      .selectFrom('audit_entries')
      .select(['outcome', 'details'])
      .where('actor_id', '=', agent.id)
      .where('action', '=', 'tool.call.completed')
      .execute();
    assert.equal(completed.length, 1);
    assert.equal(completed[0]!.outcome, 'failure');
    const result = JSON.parse(completed[0]!.details!);
    assert.match(result.error, /removed from the organization/);
    assert.ok(result.durationMs < 5000, 'ended long before its 20 s');
    const removal = (await allAuditEntries(t.store)).find((e) => e.action === 'person.removed');
    assert.equal(JSON.parse(removal!.details!).agentTokensRevoked, 1);
  });
}

for (const kind of STORE_KINDS)
  describe(`removal ends agent tokens in use on /mcp/{org} [${kind}]`, () => removalSuite(kind));
