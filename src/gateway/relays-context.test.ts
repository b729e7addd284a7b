/**
 * A server's sampling request may ask the agent's client to add context from "this server" or
 * "all servers". Through Paddock, the agent's client sees one server — Paddock, every connection
 * of the org — so "this server" would hand one connection what the agent read from all the
 * others. The relay asks for no context instead, and the record says what was asked.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CreateMessageResultSchema, type ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { relayHarness } from './relay-harness.ts';
import type { GateRequest } from './request.ts';

test('a relayed sampling request asks the agent’s client for no context from other servers; what was asked is on record', async () => {
  const decided: GateRequest[] = [];
  const { relays, server } = await relayHarness(
    {
      decideAsk: async (req) => {
        decided.push(req);
        return { entry: `aud_${decided.length}`, done: () => undefined };
      },
    },
    { name: 'curious' },
  );
  const seen: ServerRequest[] = [];
  let done!: () => void;
  const over = new Promise<void>((r) => {
    done = r;
  });
  const call = relays.during(
    {
      caller: { orgId: 'org_1', agentId: 'agt_1', onBehalfOf: 'ada', requestId: 'req_1' },
      connectionId: 'con_1',
      tool: 'summarize',
      args: {},
      approval: 'pause',
      relay: {
        capabilities: { sampling: {} },
        notify: async () => undefined,
        request: async (r) => {
          seen.push(r);
          return { role: 'assistant', content: { type: 'text', text: 'ok' }, model: 'm' };
        },
      },
    },
    () => over,
  );
  const messages = [{ role: 'user' as const, content: { type: 'text' as const, text: 'hi' } }];
  for (const includeContext of ['thisServer', 'allServers', 'none', undefined] as const)
    await server.request(
      {
        method: 'sampling/createMessage',
        params: { messages, maxTokens: 5, ...(includeContext ? { includeContext } : {}) },
      },
      CreateMessageResultSchema,
    );
  done();
  await call;
  assert.deepEqual(
    seen.map((r) => (r.params as { includeContext?: string }).includeContext),
    ['none', 'none', 'none', undefined],
    'no context from other servers is asked of the agent’s client',
  );
  assert.deepEqual(
    seen.map((r) => (r.params as { messages: unknown }).messages),
    [messages, messages, messages, messages],
    'the rest of the request as the server sent it',
  );
  assert.deepEqual(
    decided.map((d) => d.args.includeContext),
    ['thisServer', 'allServers', 'none', undefined],
    'what the server asked is on record',
  );
});
