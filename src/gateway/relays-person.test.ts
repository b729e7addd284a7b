/**
 * A per-person connection's upstream session acts for one person (their OAuth account): what its
 * server says — a sampling request quoting that person's data, a log line, a resource update —
 * reaches that person's calls and sessions only, never another person's who uses the same agent.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CreateMessageResultSchema, type ServerNotification } from '@modelcontextprotocol/sdk/types.js';
import type { AuditTrail } from '../audit/index.ts';
import { PaddockError } from '../errors/index.ts';
import { type AgentChannel, type DeliveryTarget, LocalDelivery } from './agent-channel.ts';
import { Relays, type Upstream } from './relays.ts';
import type { GateCaller, GateRequest } from './request.ts';

const caller = (person: string): GateCaller => ({
  orgId: 'org_1',
  agentId: 'agt_1',
  onBehalfOf: person,
  requestId: `req_${person}`,
});

function channel(asked: string[], person: string): AgentChannel {
  return {
    capabilities: { sampling: {} },
    notify: async () => undefined,
    request: async () => {
      asked.push(person);
      return { role: 'assistant', content: { type: 'text', text: 'ok' }, model: 'm' };
    },
  };
}

async function upstreamFor(relays: Relays, up: Upstream) {
  const server = new Server({ name: 'per-person', version: '1' }, { capabilities: { logging: {} } });
  const client = new Client(
    { name: 'paddock', version: '1' },
    { capabilities: { sampling: {}, elicitation: {} } },
  );
  relays.attach(client, up, (c) => c);
  const [a, b] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(a), client.connect(b)]);
  return server;
}

test("a per-person server's sampling request rides on its own person's call, never another person's", async () => {
  const delivered: DeliveryTarget[] = [];
  const relays = new Relays({
    audit: { appendWritten: async () => undefined } as unknown as AuditTrail,
    delivery: { deliver: (to: DeliveryTarget, _n: ServerNotification) => void delivered.push(to) },
    decideAsk: async () => ({ entry: 'aud_1', done: () => undefined }),
    mayRead: async () => true,
    namespaceOf: async () => 'mail',
    relist: async () => true,
    agentsOn: () => [],
    clientsOf: async () => [],
    storedLevels: async () => [],
  });
  const ada = await upstreamFor(relays, {
    orgId: 'org_1',
    agentId: 'agt_1',
    connectionId: 'con_1',
    personId: 'ada',
  });
  const asked: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((r) => {
    release = r;
  });
  const call = (person: string): GateRequest => ({
    caller: caller(person),
    connectionId: 'con_1',
    tool: 'read_mail',
    args: {},
    approval: 'pause',
    relay: channel(asked, person),
  });
  // Ada's call starts first; Bob's call on the same agent and connection is the latest in flight.
  const adaCall = relays.during(call('ada'), async () => {
    await held;
  });
  const bobCall = relays.during(call('bob'), async () => {
    await held;
  });
  const answer = await ada.request(
    { method: 'sampling/createMessage', params: { messages: [], maxTokens: 5 } },
    CreateMessageResultSchema,
  );
  assert.equal(answer.model, 'm');
  assert.deepEqual(asked, ['ada'], "Ada's server asked Ada's client, not Bob's");
  release();
  await Promise.all([adaCall, bobCall]);
  // Between calls, its log line goes to Ada's sessions only.
  await ada.sendLoggingMessage({ level: 'info', data: 'ada@example.com inbox' });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(delivered.length, 1);
  assert.equal(delivered[0]!.personId, 'ada');
});

test("a shared server's sampling request is refused while calls of two people are in flight (whose it is cannot be told), and carried when one person's are", async () => {
  const unableSeen: (string | undefined)[] = [];
  const relays = new Relays({
    audit: { appendWritten: async () => undefined } as unknown as AuditTrail,
    delivery: { deliver: () => undefined },
    decideAsk: async (_req: GateRequest, unable: string | undefined) => {
      unableSeen.push(unable);
      if (unable) throw new PaddockError(403, 'sampling_denied', unable);
      return { entry: 'aud_1', done: () => undefined };
    },
    mayRead: async () => true,
    namespaceOf: async () => 'mail',
    relist: async () => true,
    agentsOn: () => [],
    clientsOf: async () => [],
    storedLevels: async () => [],
  });
  const shared = await upstreamFor(relays, { orgId: 'org_1', agentId: 'agt_1', connectionId: 'con_1' });
  const asked: string[] = [];
  const call = (person: string): GateRequest => ({
    caller: caller(person),
    connectionId: 'con_1',
    tool: 'read_mail',
    args: {},
    approval: 'pause',
    relay: channel(asked, person),
  });
  const hold = () => {
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    return { held, release };
  };
  const ask = () =>
    shared.request(
      { method: 'sampling/createMessage', params: { messages: [], maxTokens: 5 } },
      CreateMessageResultSchema,
    );
  // Two of Ada's calls: hers, whichever it is.
  const a = hold();
  const ada1 = relays.during(call('ada'), () => a.held);
  const ada2 = relays.during(call('ada'), () => a.held);
  assert.equal((await ask()).model, 'm');
  assert.deepEqual(asked, ['ada']);
  // Bob's call joins: the next request could be either's, so it is refused in words.
  const bobCall = relays.during(call('bob'), () => a.held);
  await assert.rejects(ask(), /more than one person/);
  assert.deepEqual(asked, ['ada'], "nobody's client was asked");
  assert.match(String(unableSeen.at(-1)), /calls of more than one person/);
  a.release();
  await Promise.all([ada1, ada2, bobCall]);
});

test("the in-process delivery gives one person's traffic to servers acting for that person only", () => {
  const heard: string[] = [];
  const local = new LocalDelivery();
  const server = (who: string) => ({
    notification: async () => {
      heard.push(who);
    },
  });
  local.attach('agt_1', server('ada'), 'mcs_a', 'ada');
  local.attach('agt_1', server('bob'), 'mcs_b', 'bob');
  local.deliver(
    { orgId: 'org_1', agentId: 'agt_1', personId: 'ada' },
    { method: 'notifications/tools/list_changed' },
  );
  assert.deepEqual(heard, ['ada']);
  local.deliver({ orgId: 'org_1', agentId: 'agt_1' }, { method: 'notifications/tools/list_changed' });
  assert.deepEqual(heard.sort(), ['ada', 'ada', 'bob']);
});
