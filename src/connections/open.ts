/**
 * Opening an MCP session to a connection, the one way both the gateway and "list tools" do it:
 * its vault secrets are opened (org-wide ones, and for an agent those scoped to it), then a stdio
 * server starts in the org's sandbox with them as environment, or a remote server is reached over
 * Streamable HTTP through the org's egress proxy with them as request headers. The session comes
 * with the scrubber for everything that server says; its start-up errors are scrubbed already.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Kysely } from 'kysely';
import { orgHostUser } from '../cells/host-users.ts';
import type { SandboxProvider } from '../cells/sandbox.ts';
import { PaddockError } from '../errors/index.ts';
import { type OrgScope, trustedScope } from '../identity/scope.ts';
import { MEMORY_SERVER, openMemorySession } from '../memory/index.ts';
import { binOf, packageDir, packageReadyFor } from '../packages/index.ts';
import { registerSecret, scrubber } from '../redact/index.ts';
import type { Database, Db } from '../store/index.ts';
import type { ConnectionTable } from '../store/schema.ts';
import { openSecret, type Vault } from '../vault/index.ts';
import { openStdio } from './mcp.ts';
import { proxiedFetch } from './proxied-fetch.ts';

export interface Opener {
  db: Kysely<Database>;
  vault: Vault;
  sandbox: SandboxProvider | null;
  home: string;
  /** The npm registry an installed package's tarballs are fetched from when laid out here. */
  registry: string;
  /** The org's egress proxy socket (started on demand), or null where there is none. */
  egress: (orgId: string) => Promise<string | null>;
}

export interface OpenSession {
  client: Client;
  /** Scrubs the secrets given to the server (in their encoded forms) from what it says. */
  scrub: <T>(content: T) => T;
}

/** What opening a session needs of a connection. */
export type ConnectionToOpen = Pick<
  ConnectionTable,
  'id' | 'org_id' | 'transport' | 'command' | 'args' | 'url' | 'env' | 'headers'
> &
  Partial<Pick<ConnectionTable, 'package' | 'package_bin'>>;

/** The connection as a session is opened to it, or undefined when the org has no such connection. */
export function readConnectionToOpen(
  db: Db,
  scope: OrgScope,
  connectionId: string,
): Promise<ConnectionToOpen | undefined> {
  return db
    .selectFrom('connections')
    .select([
      'id',
      'org_id',
      'transport',
      'command',
      'args',
      'url',
      'env',
      'headers',
      'package',
      'package_bin',
    ])
    .where('org_id', '=', scope.orgId)
    .where('id', '=', connectionId)
    .executeTakeFirst();
}

/** The vault secrets a session to the connection is given: changing one ends the session. */
export function secretsOf(row: Pick<ConnectionTable, 'env' | 'headers'>): string[] {
  return [
    ...Object.values(JSON.parse(row.env) as Record<string, string>),
    ...Object.values(JSON.parse(row.headers) as Record<string, string>),
  ];
}

/**
 * The named secrets, opened. Org-wide secrets always; a secret scoped to agents only when opening
 * for one of them (for no agent, it is left out: the server starts without it).
 */
async function openSecrets(
  o: Pick<Opener, 'db' | 'vault'>,
  orgId: string,
  named: Record<string, string>,
  agentId: string | null | 'all',
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, secretId] of Object.entries(named)) {
    const row = await o.db
      .selectFrom('secrets')
      .select(['agent_ids'])
      .where('org_id', '=', orgId)
      .where('id', '=', secretId)
      .executeTakeFirst();
    if (!row)
      throw new PaddockError(409, 'secret_missing', `The connection's secret for ${name} no longer exists.`);
    const agents = row.agent_ids ? (JSON.parse(row.agent_ids) as string[]) : null;
    if (agents && !agentId) continue;
    if (agentId && agentId !== 'all' && agents && !agents.includes(agentId)) {
      throw new PaddockError(
        403,
        'secret_not_allowed',
        `The secret for ${name} is not scoped to this agent.`,
      );
    }
    // The org was fixed by whoever asked (an agent's token, a person's org access).
    const value = await openSecret(o.db, o.vault, trustedScope(orgId), secretId);
    registerSecret(value);
    out[name] = value;
  }
  return out;
}

export async function openConnection(
  o: Opener,
  row: ConnectionToOpen,
  agentId: string | null,
): Promise<OpenSession> {
  // A server built into Paddock runs in-process, on the agent's own data; it holds no secrets.
  if (row.transport === 'builtin') {
    if (row.command !== MEMORY_SERVER)
      throw new PaddockError(409, 'builtin_unknown', `No built-in server named ${row.command}.`);
    return { client: await openMemorySession(o.db, row.org_id, agentId), scrub: (content) => content };
  }
  if (row.transport === 'http') {
    const headers = await openSecrets(
      o,
      row.org_id,
      JSON.parse(row.headers) as Record<string, string>,
      agentId,
    );
    const scrub = scrubber(Object.values(headers));
    const socket = await o.egress(row.org_id);
    if (!socket) {
      throw new PaddockError(
        503,
        'egress_unavailable',
        "Remote MCP servers are reached only through the org's egress proxy, and it is not running (cells are off).",
      );
    }
    const client = new McpClient({ name: 'paddock', version: '0.1.0' });
    try {
      await client.connect(
        new StreamableHTTPClientTransport(new URL(row.url ?? ''), {
          fetch: proxiedFetch(socket),
          requestInit: { headers },
        }),
      );
    } catch (err) {
      // fetch reports "fetch failed"; the reason (e.g. the proxy's refusal) is its cause.
      const e = err as Error & { cause?: Error };
      const reason = e.message === 'fetch failed' && e.cause ? e.cause.message : e.message;
      throw new PaddockError(502, 'connection_failed', scrub(`The MCP server did not answer: ${reason}`));
    }
    return { client, scrub };
  }
  if (!o.sandbox || !(row.command || row.package)) {
    throw new PaddockError(
      503,
      'sandbox_unavailable',
      'MCP servers run only inside a sandbox, and none is available.',
    );
  }
  const pkg = row.package ? await packageOf(o, row.package, row.package_bin ?? null) : undefined;
  const secrets = await openSecrets(o, row.org_id, JSON.parse(row.env) as Record<string, string>, agentId);
  const scrub = scrubber(Object.values(secrets));
  try {
    const client = await openStdio(
      {
        orgId: row.org_id,
        connectionId: row.id,
        agentId,
        user: o.sandbox.runsAsOrgUsers ? await orgHostUser(o.db, row.org_id) : undefined,
        command: pkg ? 'node' : row.command!,
        args: JSON.parse(row.args) as string[],
        secrets,
        package: pkg,
      },
      o.sandbox,
      o.home,
    );
    return { client, scrub };
  } catch (err) {
    // Its stderr, quoted in the error, is the server talking: scrubbed like everything it says.
    if (PaddockError.isInstance(err))
      throw new PaddockError(err.status, err.code, scrub(err.message), { details: err.details });
    throw err;
  }
}

/**
 * The installed package a connection runs, laid out on this replica (from its record when another
 * replica installed it), and its program; refused when it is no longer installed.
 */
async function packageOf(o: Pick<Opener, 'db' | 'home' | 'registry'>, id: string, bin: string | null) {
  const p = await packageReadyFor(o.db, o, id).catch((err: unknown) => {
    if (PaddockError.isInstance(err) && err.code === 'package_not_installed')
      throw new PaddockError(
        409,
        'package_not_installed',
        `The connection runs ${id}, which is no longer installed: install it again, or change the connection's package.`,
      );
    throw err;
  });
  return {
    id,
    dir: packageDir(o.home, p.name, p.version),
    program: binOf(o.home, p.name, p.version, bin),
  };
}

/**
 * The scrubber for every secret a connection names, its agents' included, without starting the
 * server: for re-scrubbing what it said before (stored tool definitions).
 */
export async function connectionScrubber(
  o: Pick<Opener, 'db' | 'vault'>,
  row: Pick<ConnectionToOpen, 'org_id' | 'env' | 'headers'>,
): Promise<<T>(content: T) => T> {
  const named = { ...(JSON.parse(row.env) as object), ...(JSON.parse(row.headers) as object) } as Record<
    string,
    string
  >;
  const secrets = await openSecrets(o, row.org_id, named, 'all').catch(() => ({}));
  return scrubber(Object.values(secrets));
}
