/**
 * The setup the MCP and gateway tests share (tests only): a Paddock served over real HTTP on
 * 127.0.0.1 with MCP servers and org cells in bubblewrap, on one engine; server-everything as one
 * of an org's connections, its tools listed; and an org-wide agent with grants and an agent token,
 * each made through the API as a person would.
 *
 * @example
 * const p = await servePaddock('sqlite');
 * const acme = await seedOrg(p.t.store, 'acme');
 * const everything = await addStdioConnection(p.app, acme);
 * const agent = await agentWithToken(p.app, acme, { name: 'remote', grants: [{ connectionId: everything, tool: 'echo' }] });
 * // … new StreamableHTTPClientTransport(new URL(`${p.url}/mcp/acme`), bearer agent.token) …
 * await p.close();
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { bubblewrap } from '../cells/index.ts';
import { loadConfig } from '../config/index.ts';
import { type Logger, silentLogger } from '../log/index.ts';
import { buildDeps, type Deps } from '../server/deps.ts';
import type { Store } from '../store/index.ts';
import { call, closeDeps, createApp, type SeededOrg } from './fixtures.ts';
import { openTestStore, type StoreKind, type TestStore } from './stores.ts';

/** server-everything (`@modelcontextprotocol/server-everything`) as a stdio connection's args. */
export const EVERYTHING = ['node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'];

export interface ServedPaddock {
  t: TestStore;
  deps: Deps;
  app: ReturnType<typeof createApp>;
  server: ServerType;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Stops serving (open connections too), closes what the deps started, and removes the store. */
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Settings as the environment would give them (`PADDOCK_METRICS_TOKEN` …). */
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** Wraps the store the deps use (a test that notes queries); the fixtures still use `t.store`. */
  store?: (store: Store) => Store;
  /** The public URL is where the server listens, as `paddock up` sets it once the port is known. */
  publicUrlIsServed?: boolean;
}

/** A Paddock on one engine, served on a free port, with bubblewrap for MCP servers and cells. */
export async function servePaddock(kind: StoreKind, opts: ServeOptions = {}): Promise<ServedPaddock> {
  const check = await bubblewrap.check();
  assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
  const t = await openTestStore(kind);
  const deps = buildDeps(
    loadConfig({ home: t.home, port: 0, databaseUrl: t.databaseUrl }, opts.env ?? {}),
    opts.log ?? silentLogger,
    opts.store ? opts.store(t.store) : t.store,
    {},
    { provider: bubblewrap, problem: null },
  );
  deps.audit.start();
  const app = createApp(deps);
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (opts.publicUrlIsServed) deps.config = { ...deps.config, publicUrl: url };
  return {
    t,
    deps,
    app,
    server,
    url,
    close: async () => {
      await new Promise<void>((r) => {
        server.close(() => r());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await closeDeps(deps);
      await t.cleanup();
    },
  };
}

/**
 * A stdio MCP server run with `node` as a connection of `org` — server-everything unless `args`
 * names another — made by its owner unless `by` says whose token, with its tools listed;
 * returns the connection's id.
 */
export async function addStdioConnection(
  app: Hono,
  org: SeededOrg,
  opts: { name?: string; args?: string[]; env?: Record<string, string>; by?: string } = {},
): Promise<string> {
  const token = opts.by ?? org.people.owner.token;
  const path = `/api/v1/orgs/${org.slug}/connections`;
  const c = await call(app, 'post', path, {
    token,
    body: {
      name: opts.name ?? 'everything',
      transport: 'stdio',
      command: 'node',
      args: opts.args ?? EVERYTHING,
      ...(opts.env ? { env: opts.env } : {}),
    },
  });
  assert.equal(c.status, 201, c.text);
  const listed = await call(app, 'post', `${path}/${c.body.id}/tools/refresh`, { token });
  assert.equal(listed.status, 200, listed.text);
  return c.body.id as string;
}

export interface TestAgent {
  id: string;
  /** The agent token (`pdk_…`) an MCP client sends. */
  token: string;
  tokenId: string;
}

export interface AgentOptions {
  name: string;
  /** Whose token makes the agent (and issues its token): the admin's unless given. */
  by?: string;
  scope?: 'organization' | 'private';
  /** Each given by the org's owner. */
  grants?: Array<{ connectionId: string; tool: string } & Record<string, unknown>>;
}

/** An agent of `org` (org-wide unless `scope`), with `grants`; returns its id. */
export async function agentWithGrants(app: Hono, org: SeededOrg, opts: AgentOptions): Promise<string> {
  const agents = `/api/v1/orgs/${org.slug}/agents`;
  const a = await call(app, 'post', agents, {
    token: opts.by ?? org.people.admin.token,
    body: {
      name: opts.name,
      scope: opts.scope ?? 'organization',
      instructions: 'x',
      model: { provider: 'openai', model: 'gpt-5' },
    },
  });
  assert.equal(a.status, 201, a.text);
  const id = a.body.id as string;
  for (const grant of opts.grants ?? []) {
    const g = await call(app, 'post', `${agents}/${id}/grants`, {
      token: org.people.owner.token,
      body: grant,
    });
    assert.equal(g.status, 201, g.text);
  }
  return id;
}

/** The same agent, and an agent token (named `tokenName`, `laptop` by default) issued by `by`. */
export async function agentWithToken(
  app: Hono,
  org: SeededOrg,
  opts: AgentOptions & { tokenName?: string },
): Promise<TestAgent> {
  const id = await agentWithGrants(app, org, opts);
  const tok = await call(app, 'post', `/api/v1/orgs/${org.slug}/agents/${id}/tokens`, {
    token: opts.by ?? org.people.admin.token,
    body: { name: opts.tokenName ?? 'laptop' },
  });
  assert.equal(tok.status, 201, tok.text);
  return { id, token: tok.body.token as string, tokenId: tok.body.info.id as string };
}
