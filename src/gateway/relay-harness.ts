/**
 * Tests only: one `Relays` with stand-in dependencies (nothing decided or stored unless a test
 * says so), and an MCP server linked in memory to the upstream client the relays watch — the way
 * the relay tests put a hostile server in front of them.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server, type ServerOptions } from '@modelcontextprotocol/sdk/server/index.js';
import type { AuditTrail } from '../audit/index.ts';
import { type RelayDeps, Relays } from './relays.ts';

export async function relayHarness(
  deps: Partial<RelayDeps>,
  server: { name: string; capabilities?: ServerOptions['capabilities'] },
): Promise<{ relays: Relays; server: Server; client: Client; wire: InMemoryTransport }> {
  const relays = new Relays({
    audit: { appendWritten: async () => undefined } as unknown as AuditTrail,
    delivery: { deliver: () => undefined },
    decideAsk: async () => ({ entry: 'aud_1', done: () => undefined }),
    mayRead: async () => true,
    namespaceOf: async () => 'ns',
    relist: async () => true,
    agentsOn: () => [],
    clientsOf: async () => [],
    storedLevels: async () => [],
    ...deps,
  });
  const up = new Server({ name: server.name, version: '1' }, { capabilities: server.capabilities ?? {} });
  const client = new Client(
    { name: 'paddock', version: '1' },
    { capabilities: { sampling: {}, elicitation: {} } },
  );
  relays.attach(client, { orgId: 'org_1', agentId: 'agt_1', connectionId: 'con_1' }, (c) => c);
  const [a, b] = InMemoryTransport.createLinkedPair();
  await Promise.all([up.connect(a), client.connect(b)]);
  // `wire`: the server's end, for a test that writes raw JSON-RPC the SDK would not send.
  return { relays, server: up, client, wire: a };
}
