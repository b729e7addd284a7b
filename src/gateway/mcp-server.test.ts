/**
 * The gate's MCP server alone, over an in-memory transport with a stand-in gate (both engines for
 * the namespace lookup): a call reaches the gate as the caller was established; a wait for a
 * person carries `_meta['paddock/approval']`, a denial does not; a name never shown is refused on
 * the gate's record; a client's cancellation ends the call in the gate.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ForbiddenError } from '../errors/index.ts';
import { silentLogger } from '../log/index.ts';
import { call as api, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';
import { Cancellations } from './cancellations.ts';
import type { ToolGateway } from './gate.ts';
import { APPROVAL_META, serveAgent } from './mcp-server.ts';
import { Namespaces } from './namespaces.ts';
import { ApprovalRequiredError, StoppedError } from './refusals.ts';
import type { GateRequest } from './request.ts';

type Result = { isError?: boolean; content: Array<{ text?: string }>; _meta?: Record<string, unknown> };

for (const kind of STORE_KINDS) {
  describe(`the gate as an MCP server [${kind}]`, () => {
    let t: TestStore;
    let acme: SeededOrg;
    let connectionId: string;
    const asked: GateRequest[] = [];
    const unknown: string[] = [];
    /** The stand-in gate: answers by tool name, records what it was asked. */
    const gate = {
      call: async (req: GateRequest) => {
        asked.push(req);
        if (req.tool === 'wait')
          throw new ApprovalRequiredError({ id: 'apr_1', expiresAt: '2030-01-01T00:00:00.000Z' });
        if (req.tool === 'stopped') throw new StoppedError(false);
        if (req.tool === 'long')
          await new Promise((_r, reject) =>
            req.signal!.addEventListener('abort', () => reject(req.signal!.reason)),
          );
        return {
          content: [{ type: 'text', text: `ran ${req.tool}` }],
          isError: false,
          durationMs: 1,
          auditEntryId: 'evt_1',
        };
      },
      // The gate's own namespaces, over the test's store.
      connectionOf: (orgId: string, namespace: string) =>
        new Namespaces(t.store.db).connectionOf(orgId, namespace),
      unknownTool: async (_caller: unknown, name: string) => {
        unknown.push(name);
        return new ForbiddenError('tool_denied', `No tool named ${name} for this agent.`);
      },
    } as unknown as ToolGateway;

    before(async () => {
      t = await openTestStore(kind);
      const app = createApp(testDeps(t.store, t.home));
      acme = await seedOrg(t.store, 'acme');
      const conn = await api(app, 'post', '/api/v1/orgs/acme/connections', {
        token: acme.people.admin.token,
        body: { name: 'Files', transport: 'stdio', command: 'node', args: [] },
      });
      connectionId = conn.body.id;
    });
    after(async () => t?.cleanup());

    async function client(cancellations = new Cancellations()) {
      const [mine, theirs] = InMemoryTransport.createLinkedPair();
      const caller = {
        orgId: acme.id,
        agentId: 'agt_a',
        onBehalfOf: 'usr_p',
        requestId: 'req_1',
        runId: 'run_1',
      };
      const server = await serveAgent(
        { gate, db: t.store.db, cancellations, log: silentLogger },
        { caller, approval: 'return' },
        theirs,
      );
      const c = new Client({ name: 'test', version: '1' });
      await c.connect(mine);
      return { c, server, caller };
    }

    test('a call reaches the gate as the caller was established; its answer comes back', async () => {
      const { c, server, caller } = await client();
      const r = (await c.callTool({ name: 'files__read', arguments: { path: '/x' } })) as Result;
      assert.equal(r.isError, false);
      assert.equal(r.content[0]?.text, 'ran read');
      const req = asked.at(-1)!;
      assert.deepEqual(req.caller, caller);
      assert.equal(req.connectionId, connectionId);
      assert.equal(req.approval, 'return');
      assert.deepEqual(req.args, { path: '/x' });
      await c.close();
      await server.close();
    });

    test('a wait for a person carries the approval in _meta; a refusal does not', async () => {
      const { c, server } = await client();
      const waiting = (await c.callTool({ name: 'files__wait', arguments: {} })) as Result;
      assert.equal(waiting.isError, true);
      assert.match(waiting.content[0]?.text ?? '', /^approval_required: .*apr_1/);
      assert.deepEqual(waiting._meta?.[APPROVAL_META], {
        id: 'apr_1',
        expiresAt: '2030-01-01T00:00:00.000Z',
      });
      const stopped = (await c.callTool({ name: 'files__stopped', arguments: {} })) as Result;
      assert.match(stopped.content[0]?.text ?? '', /^agent_stopped: /);
      assert.equal(stopped._meta, undefined);
      await c.close();
      await server.close();
    });

    test('a name the agent was never shown is refused by the gate, on its record', async () => {
      const { c, server } = await client();
      const r = (await c.callTool({ name: 'nowhere__read', arguments: {} })) as Result;
      assert.match(r.content[0]?.text ?? '', /^tool_denied: No tool named nowhere__read/);
      assert.deepEqual(unknown, ['nowhere__read']);
      await c.close();
      await server.close();
    });

    test("a client's cancellation ends the call in the gate", async () => {
      const cancellations = new Cancellations();
      const { c, server } = await client(cancellations);
      const gaveUp = new AbortController();
      const pending = c.callTool({ name: 'files__long', arguments: {} }, undefined, {
        signal: gaveUp.signal,
      });
      await until(() => cancellations.size === 1, { what: 'the call to reach the gate' });
      const inGate = asked.at(-1)!;
      gaveUp.abort();
      await assert.rejects(pending);
      await until(() => inGate.signal!.aborted, { what: 'the gate to see the cancellation' });
      assert.equal((inGate.signal!.reason as { code?: string }).code, 'call_cancelled');
      await until(() => cancellations.size === 0, { what: 'the call to end' });
      await c.close();
      await server.close();
    });
  });
}
