/**
 * Opening an MCP session to a connection, the one way both the gateway and "list tools" do it:
 * its vault secrets are opened (org-wide ones, and for an agent those scoped to it), then a stdio
 * server starts in the org's sandbox with them as environment, or a remote server is reached over
 * Streamable HTTP through the org's egress proxy with them as request headers. The session comes
 * with the scrubber for everything that server says; its start-up errors are scrubbed already.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Kysely } from 'kysely';
import { orgHostUser } from '../cells/host-users.ts';
import type { SandboxProvider } from '../cells/sandbox.ts';
import { ForbiddenError, PaddockError } from '../errors/index.ts';
import { type OrgScope, trustedScope } from '../identity/scope.ts';
import { MEMORY_SERVER, openMemorySession } from '../memory/index.ts';
import { binOf, packageDir, packageReadyFor } from '../packages/index.ts';
import { registerSecret, scrubber } from '../redact/index.ts';
import type { Database, Db } from '../store/index.ts';
import type { ConnectionTable } from '../store/schema.ts';
import { openSecret, type Vault } from '../vault/index.ts';
import { newClient, openStdio } from './mcp.ts';
import { egressFetch, readServerAuth, type TokenSource, tokenSource } from './remote-auth/index.ts';

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
  /** A server built into Paddock: the gate tells it whom each call is for (`_meta`), no other. */
  builtin?: true | undefined;
}

/** What opening a session needs of a connection. */
export type ConnectionToOpen = Pick<
  ConnectionTable,
  'id' | 'org_id' | 'transport' | 'command' | 'args' | 'url' | 'env' | 'headers'
> &
  Partial<Pick<ConnectionTable, 'package' | 'package_bin'>> & {
    /** 1 when each person authorizes their own account (OAuth): sessions are then kept per person. */
    per_person?: number | null;
  };

/** The connection as a session is opened to it, or undefined when the org has no such connection. */
export function readConnectionToOpen(
  db: Db,
  scope: OrgScope,
  connectionId: string,
): Promise<ConnectionToOpen | undefined> {
  return db
    .selectFrom('connections as c')
    .leftJoin('remote_auth_servers as ra', 'ra.connection_id', 'c.id')
    .select([
      'c.id',
      'c.org_id',
      'c.transport',
      'c.command',
      'c.args',
      'c.url',
      'c.env',
      'c.headers',
      'c.package',
      'c.package_bin',
      'ra.per_person',
    ])
    .where('c.org_id', '=', scope.orgId)
    .where('c.id', '=', connectionId)
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

/**
 * Sets what the server says back on a session's client before it connects (the gate relays it to
 * the agent), given the scrubber for everything that server says.
 */
export type PrepareSession = (client: Client, scrub: <T>(content: T) => T) => void;

export async function openConnection(
  o: Opener,
  row: ConnectionToOpen,
  agentId: string | null,
  /** The person the session acts for: a per-person (OAuth) connection uses their own account. */
  personId: string | null = null,
  prepare?: PrepareSession,
): Promise<OpenSession> {
  // A server built into Paddock runs in-process, on the agent's own data; it holds no secrets.
  if (row.transport === 'builtin') {
    if (row.command !== MEMORY_SERVER)
      throw new PaddockError(409, 'builtin_unknown', `No built-in server named ${row.command}.`);
    return {
      client: await openMemorySession(o.db, row.org_id, agentId),
      scrub: (content) => content,
      builtin: true,
    };
  }
  if (row.transport === 'http') return openRemote(o, row, agentId, personId, prepare);
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
      prepare && ((c) => prepare(c, scrub)),
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
 * A remote server over Streamable HTTP through the org's egress proxy: with its static headers
 * from the vault, and, when it was connected with OAuth, a bearer token of the org's (or, for a
 * per-person connection, the person's own) authorization, read anew for every request.
 */
async function openRemote(
  o: Opener,
  row: ConnectionToOpen,
  agentId: string | null,
  personId: string | null,
  prepare: PrepareSession | undefined,
): Promise<OpenSession> {
  const headers = await openSecrets(
    o,
    row.org_id,
    JSON.parse(row.headers) as Record<string, string>,
    agentId,
  );
  const ef = await egressFetch(o.egress, row.org_id);
  const oauth = await readServerAuth(o.db, row.org_id, row.id);
  let tokens: TokenSource | undefined;
  if (oauth?.per_person && !personId) {
    throw new ForbiddenError(
      'person_required',
      "This connection acts as each person's own account; a call on no person's behalf cannot use it.",
    );
  }
  if (oauth) {
    tokens = tokenSource(o, row.org_id, row.id, oauth.per_person ? personId! : '', ef);
    await tokens.accessToken();
  }
  // Rebuilt only when a refresh opened a new token.
  let known = -1;
  let scrubNow: <T>(content: T) => T = (c) => c;
  const scrub = <T>(content: T): T => {
    const n = tokens?.opened.size ?? 0;
    if (n !== known) {
      known = n;
      scrubNow = scrubber([...Object.values(headers), ...(tokens?.opened ?? [])]);
    }
    return scrubNow(content);
  };
  const client = newClient(prepare && ((c) => prepare(c, scrub)));
  try {
    await client.connect(
      new StreamableHTTPClientTransport(new URL(row.url ?? ''), {
        fetch: tokens ? bearerFetch(ef.fetch, tokens) : ef.fetch,
        requestInit: { headers },
      }),
    );
  } catch (err) {
    if (PaddockError.isInstance(err)) throw err;
    if ((err as { code?: unknown }).code === 401 && !tokens) {
      throw new PaddockError(
        409,
        'oauth_required',
        'The MCP server asks for authorization: connect it with OAuth (Connections page → Connect).',
      );
    }
    // fetch reports "fetch failed"; the reason (e.g. the proxy's refusal) is its cause.
    const e = err as Error & { cause?: Error };
    const reason = e.message === 'fetch failed' && e.cause ? e.cause.message : e.message;
    throw new PaddockError(502, 'connection_failed', scrub(`The MCP server did not answer: ${reason}`));
  }
  return { client, scrub };
}

/** Sends the current access token; on a 401 renews it once and tries again. */
function bearerFetch(base: typeof fetch, tokens: TokenSource): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const send = async (token: string) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${token}`);
      return base(input, { ...init, headers });
    };
    const token = await tokens.accessToken();
    const first = await send(token);
    if (first.status !== 401) return first;
    await first.body?.cancel();
    return send(await tokens.accessToken(token));
  }) as typeof fetch;
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
