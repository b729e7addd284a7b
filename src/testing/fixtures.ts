/** Helpers for tests: seeded organizations with a person (and token) per role, and an in-process API. */
import type { Hono } from 'hono';
import type { SandboxChoice } from '../cells/index.ts';
import { loadConfig } from '../config/index.ts';
import type { Role } from '../identity/index.ts';
import {
  AttemptLimiter,
  addMembership,
  ensureUser,
  initOrg,
  insertToken,
  operatorCaller,
  trustedScope,
} from '../identity/index.ts';
import { silentLogger } from '../log/index.ts';
import { buildDeps } from '../server/deps.ts';
import { closeDeps, createApp, type Deps } from '../server/index.ts';
import type { Store } from '../store/index.ts';
import { onCleanup } from './stores.ts';

export interface SeededPerson {
  id: string;
  email: string;
  role: Role;
  token: string;
}

export interface SeededOrg {
  id: string;
  slug: string;
  people: Record<Role, SeededPerson>;
}

/** An org with one person per role, each holding a token of their role. */
export async function seedOrg(store: Store, slug: string): Promise<SeededOrg> {
  const caller = operatorCaller();
  const init = await initOrg(store.db, caller, { slug, ownerEmail: `owner@${slug}.test`, withToken: true });
  const scope = trustedScope(init.org.id);
  const people = {
    owner: { id: init.ownerId, email: `owner@${slug}.test`, role: 'owner', token: init.token! },
  } as Record<Role, SeededPerson>;
  for (const role of ['admin', 'member', 'auditor'] as const) {
    const email = `${role}@${slug}.test`;
    const made = await store.db.transaction().execute(async (trx) => {
      const user = await ensureUser(trx, { email, password: 'correct horse battery staple' });
      await addMembership(trx, caller, scope, user.id, role, 'test');
      const t = await insertToken(
        trx,
        { ...caller, userId: user.id },
        scope,
        { name: `${role} token`, role, expiresInDays: 30, service: false },
        null,
      );
      return { id: user.id, token: t.token };
    });
    people[role] = { id: made.id, email, role, token: made.token };
  }
  return { id: init.org.id, slug, people };
}

/** Deps for an in-process app; with `sandbox`, MCP servers and cells run in it (as `paddock up`). */
export function testDeps(
  store: Store,
  home: string,
  overrides: Partial<Deps> = {},
  sandbox?: SandboxChoice,
): Deps {
  const config = loadConfig({ home, port: 7070 }, {});
  const deps = buildDeps(config, overrides.log ?? silentLogger, store, {}, sandbox);
  // As `paddock up` does: the writer places each change's entries as its commit wakes it.
  deps.audit.start();
  onCleanup(store, () => closeDeps(deps));
  // Mutate rather than copy: the trail reads deps.config when it makes a log.
  return Object.assign(deps, { signInLimiter: new AttemptLimiter(1000) }, overrides);
}

export interface ApiResult {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}

/** Calls the app in-process (no socket), the way a client would. */
export async function call(
  app: Hono,
  method: string,
  path: string,
  opts: { token?: string | undefined; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<ApiResult> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const res = await app.request(path, { method: method.toUpperCase(), headers, body });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

export { closeDeps, createApp };

/** Every audit entry, placed in a log or still in the outbox, read in one statement (one snapshot). */
export async function allAuditEntries(store: Store) {
  const cols = ['id', 'log_id', 'action', 'actor_type', 'actor_id', 'target_id', 'leaf', 'details'] as const;
  return store.db
    .selectFrom('audit_entries')
    .select(cols)
    .unionAll(store.db.selectFrom('audit_outbox').select(cols))
    .execute();
}

/**
 * Makes an org ready to run agents against a scripted model server (src/testing/model-server):
 * egress to it allowed, and its key stored as the org's `openai` model key.
 */
export async function useModelServer(
  app: Hono,
  org: SeededOrg,
  modelsUrl: string,
  key: string,
): Promise<void> {
  const token = org.people.owner.token;
  const port = Number(new URL(modelsUrl).port);
  const settings = await call(app, 'patch', `/api/v1/orgs/${org.slug}`, {
    token,
    body: { settings: { egressAllowlist: [{ host: '127.0.0.1', port, allowPrivate: true }] } },
  });
  if (settings.status !== 200) throw new Error(`egress to the model server refused: ${settings.text}`);
  const secret = await call(app, 'post', `/api/v1/orgs/${org.slug}/secrets`, {
    token,
    body: { name: 'openai', kind: 'model_key', provider: 'openai', value: key, baseUrl: `${modelsUrl}/v1` },
  });
  if (secret.status !== 201) throw new Error(`the model key was refused: ${secret.text}`);
}
