/**
 * Test fixtures of the compliance center (tests only): an org served in-process on one engine,
 * with helpers to act as each role, to give a connection tools (the rows a tool listing
 * stores), and to write agent activity into the log as the gate and the runtime write it.
 */
import assert from 'node:assert/strict';
import { toolDigest } from '../connections/index.ts';
import type { Role } from '../store/index.ts';
import { call, createApp, type SeededOrg, seedOrg, testDeps } from './fixtures.ts';
import { openTestStore, type StoreKind, type TestStore } from './stores.ts';

export interface ComplianceOrg {
  t: TestStore;
  deps: ReturnType<typeof testDeps>;
  app: ReturnType<typeof createApp>;
  org: SeededOrg;
  /** Calls the org's API as `role` and checks the status. */
  as(role: Role, method: string, path: string, status: number, body?: unknown): Promise<any>;
}

export async function complianceOrg(kind: StoreKind, slug = 'acme'): Promise<ComplianceOrg> {
  const t = await openTestStore(kind);
  const deps = testDeps(t.store, t.home);
  const app = createApp(deps);
  const org = await seedOrg(t.store, slug);
  const as = async (role: Role, method: string, path: string, status: number, body?: unknown) => {
    const r = await call(app, method, `/api/v1/orgs/${org.slug}${path}`, {
      token: org.people[role].token,
      ...(body === undefined ? {} : { body }),
    });
    assert.equal(r.status, status, `${role} ${method} ${path}: ${r.text}`);
    return r.body;
  };
  return { t, deps, app, org, as };
}

/** An agent made through the API, as the owner. */
export async function makeAgent(o: ComplianceOrg, name: string): Promise<string> {
  const agent = await o.as('owner', 'post', '/agents', 201, {
    name,
    scope: 'organization',
    instructions: 'test',
    model: { provider: 'openai', model: 'gpt-5' },
  });
  return agent.id;
}

/**
 * A stdio connection made through the API, with these tools stored as a listing would store
 * them (the server is never started here).
 */
export async function makeConnection(
  o: ComplianceOrg,
  name: string,
  tools: Array<{ name: string; description: string }>,
  command = { command: 'npx', args: ['-y', '@acme/orders-mcp@1.2.0'] },
): Promise<string> {
  const c = await o.as('owner', 'post', '/connections', 201, { name, transport: 'stdio', ...command });
  for (const tool of tools) {
    const def = {
      name: tool.name,
      description: tool.description,
      inputSchema: { type: 'object', properties: {} },
    };
    await o.t.store.db
      .insertInto('connection_tools')
      .values({
        org_id: o.org.id,
        connection_id: c.id,
        name: def.name,
        description: def.description,
        input_schema: JSON.stringify(def.inputSchema),
        digest: toolDigest(def),
        seen_at: new Date().toISOString(),
      })
      .execute();
  }
  return c.id;
}

/** Writes an event into the org's log as the gate or the runtime would (durable on return). */
export function logEvent(
  o: ComplianceOrg,
  actor: { type: 'agent' | 'person' | 'system'; id: string },
  action: string,
  target: { type: string; id: string },
  outcome: 'success' | 'failure' | 'denied' = 'success',
) {
  return o.deps.audit.append({ orgId: o.org.id, actor, action, target, outcome });
}
