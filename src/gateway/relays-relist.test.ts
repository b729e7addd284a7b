/**
 * A server that keeps saying its list changed: each listing again is on record (and each changed
 * definition), so a storm would flood the audit log. A few changes are listed again at once; past
 * them, one more every ten seconds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { AuditTrail } from '../audit/index.ts';
import { Relays } from './relays.ts';

test('a list_changed storm is listed again a few times, not twice a second', async () => {
  let relisted = 0;
  let told = 0;
  const relays = new Relays({
    audit: { appendWritten: async () => undefined } as unknown as AuditTrail,
    delivery: { deliver: () => void told++ },
    decideAsk: async () => ({ entry: 1, done: () => undefined }),
    mayRead: async () => true,
    namespaceOf: async () => 'ns',
    relist: async () => {
      relisted++;
      return true;
    },
    agentsOn: () => [],
    clientsOf: async () => [],
  });
  const server = new Server(
    { name: 'stormy', version: '1' },
    { capabilities: { tools: { listChanged: true } } },
  );
  const client = new Client(
    { name: 'paddock', version: '1' },
    { capabilities: { sampling: {}, elicitation: {} } },
  );
  relays.attach(client, { orgId: 'org_1', agentId: 'agt_1', connectionId: 'con_1' }, (c) => c);
  const [a, b] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(a), client.connect(b)]);
  // Four seconds of a change every 100 ms (under the 50-a-second bound on notifications).
  const until = Date.now() + 4_000;
  while (Date.now() < until) {
    await server.sendToolListChanged();
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 1_000));
  // Unbounded, a change every 100 ms for four seconds is listed again about eight times.
  assert.ok(
    relisted >= 1 && relisted <= 5,
    `at most five listings at once, then one every ten seconds (${relisted})`,
  );
  assert.equal(told, relisted, 'the agent is told after each');
  await client.close();
});
