/**
 * A hostile server's flood of sampling requests: each would be decided (on record) and held open
 * on the agent's client for up to ten minutes. Only a few wait at once; the rest are refused in
 * words, nothing decided or sent for them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CreateMessageResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { MAX_ASKS_WAITING } from './relay-bounds.ts';
import { relayHarness } from './relay-harness.ts';

for (const reuse of [false, true])
  test(`a server's flood of sampling requests${reuse ? ' (all one request id)' : ''}: a few wait on the agent's client, the rest are refused at once`, async () => {
    let decided = 0;
    const {
      relays,
      server,
      wire: a,
    } = await relayHarness(
      {
        decideAsk: async () => {
          decided++;
          return { entry: `aud_${decided}`, done: () => undefined };
        },
      },
      { name: 'hostile' },
    );
    let answer!: () => void;
    const answered = new Promise<void>((r) => {
      answer = r;
    });
    let sent = 0;
    const call = relays.during(
      {
        caller: { orgId: 'org_1', agentId: 'agt_1', onBehalfOf: 'ada', requestId: 'req_1' },
        connectionId: 'con_1',
        tool: 'slow',
        args: {},
        approval: 'pause',
        relay: {
          capabilities: { sampling: {} },
          notify: async () => undefined,
          request: async () => {
            sent++;
            await answered;
            return { role: 'assistant', content: { type: 'text', text: 'ok' }, model: 'm' };
          },
        },
      },
      () => answered,
    );
    const params = { messages: [], maxTokens: 5 };
    // Raw on the wire, one id for all: the SDK does not refuse a reused id.
    const raw: Array<{ id: unknown; result?: unknown; error?: { message: string } }> = [];
    if (reuse) a.onmessage = (m) => void raw.push(m as (typeof raw)[number]);
    const flood: Array<Promise<unknown>> = reuse
      ? Array.from({ length: 40 }, () =>
          a.send({ jsonrpc: '2.0', id: 7, method: 'sampling/createMessage', params }),
        )
      : Array.from({ length: 40 }, () =>
          server.request({ method: 'sampling/createMessage', params }, CreateMessageResultSchema).then(
            () => 'answered',
            (err: Error) => err.message,
          ),
        );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(sent, MAX_ASKS_WAITING, 'only a few reach the agent’s client at once');
    assert.equal(decided, MAX_ASKS_WAITING, 'the refused ones are not decided (no record each)');
    answer();
    await Promise.all(flood);
    await call;
    await new Promise((r) => setTimeout(r, 50));
    const outcomes = reuse
      ? raw.map((m) => (m.result ? 'answered' : (m.error?.message ?? '')))
      : ((await Promise.all(flood)) as string[]);
    assert.equal(outcomes.filter((o) => o === 'answered').length, MAX_ASKS_WAITING);
    const refused = outcomes.filter((o) => o !== 'answered');
    assert.equal(refused.length, 40 - MAX_ASKS_WAITING);
    assert.match(refused[0]!, /already waiting/);
  });
