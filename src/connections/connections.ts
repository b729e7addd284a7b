/**
 * App connections: the MCP servers an org's agents reach tools through. Listing a connection's
 * tools starts the server in the org's sandbox with its org-wide secrets (or, named by the admin,
 * one agent's), scrubs and records each tool's definition and digest, refuses tools whose name
 * holds a secret, and audits any tool whose definition changed since it was last seen (grants pin
 * these digests).
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Kysely } from 'kysely';
import { requireAgentRow } from '../agents/index.ts';
import { recordAudit, recordChange } from '../audit/index.ts';
import { BadRequestError, ConflictError, NotFoundError, PaddockError } from '../errors/index.ts';
import type { OrgContext } from '../identity/context.ts';
import { trustedScope } from '../identity/scope.ts';
import { newId } from '../ids/index.ts';
import {
  binOf,
  type PackageSource,
  packageReadyFor,
  parseInstalled,
  recordedPackage,
} from '../packages/index.ts';
import { bumpGrantsVersion, reconcileGrants, reconcilePromptGrants } from '../policy/grants-service.ts';
import { namespaceOf } from '../policy/permissions.ts';
import { type Database, type Db, orConflict } from '../store/index.ts';
import type { ConnectionTable } from '../store/schema.ts';
import {
  definitionOfRow,
  digestVersion,
  listTools,
  rowOfDefinition,
  type ToolDefinition,
  vetDefinitions,
} from './definitions.ts';
import { listOfferings, type OfferingKind, type Offerings, vetOfferings } from './offerings.ts';
import { type Opener, openConnection } from './open.ts';

export interface Connection {
  id: string;
  name: string;
  transport: 'stdio' | 'http' | 'builtin';
  command: string | null;
  /** An installed MCP server package it runs instead of a command, `<name>@<version>`. */
  package: string | null;
  /** Which program of the package it runs, when it named one. */
  bin: string | null;
  args: string[];
  url: string | null;
  ownerId: string | null;
  /** Environment variables the server gets, each from a vault secret (ids only; values never leave the vault here). */
  env: Record<string, string>;
  /** Request headers a remote server gets, each from a vault secret (ids only). */
  headers: Record<string, string>;
  createdBy: string;
  createdAt: string;
}

export interface Tool extends ToolDefinition {
  digest: string;
  seenAt: string;
}

const toConnection = (r: ConnectionTable): Connection => ({
  id: r.id,
  name: r.name,
  transport: r.transport,
  command: r.command,
  package: r.package ?? null,
  bin: r.package_bin ?? null,
  args: JSON.parse(r.args) as string[],
  url: r.url,
  ownerId: r.owner_id,
  env: JSON.parse(r.env) as Record<string, string>,
  headers: JSON.parse(r.headers) as Record<string, string>,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

/** Org-wide connections, and private ones of the caller (owners, admins and auditors see all). */
function visible(ctx: OrgContext, r: ConnectionTable): boolean {
  return r.owner_id === null || r.owner_id === ctx.userId || ctx.role !== 'member';
}

async function requireConnection(db: Db, ctx: OrgContext, id: string): Promise<ConnectionTable> {
  const row = await db
    .selectFrom('connections')
    .selectAll()
    .where('org_id', '=', ctx.scope.orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row || !visible(ctx, row))
    throw new NotFoundError('connection_not_found', 'No connection with that id that you can see.');
  return row;
}

/** One connection the caller can see (404 for another org's, or someone else's private one). */
export async function getConnection(db: Db, ctx: OrgContext, id: string): Promise<Connection> {
  return toConnection(await requireConnection(db, ctx, id));
}

export async function listConnections(db: Db, ctx: OrgContext): Promise<Connection[]> {
  const rows = await db
    .selectFrom('connections')
    .selectAll()
    .where('org_id', '=', ctx.scope.orgId)
    .orderBy('name')
    .execute();
  return rows.filter((r) => visible(ctx, r)).map(toConnection);
}

/** Private connections of other people: a member does not learn of them, even through an agent. */
export async function connectionsHiddenFrom(db: Db, ctx: OrgContext): Promise<Set<string>> {
  if (ctx.role !== 'member') return new Set();
  const rows = await db
    .selectFrom('connections')
    .select('id')
    .where('org_id', '=', ctx.scope.orgId)
    .where('owner_id', 'is not', null)
    .where('owner_id', '!=', ctx.userId ?? '')
    .execute();
  return new Set(rows.map((c) => c.id));
}

export type NewConnection =
  | {
      name: string;
      transport: 'stdio';
      /** A command in the sandbox, or else an installed package (`package`, and `bin` when it has several). */
      command?: string | undefined;
      package?: string | undefined;
      bin?: string | undefined;
      args: string[];
      env?: Record<string, string> | undefined;
      private?: boolean | undefined;
    }
  | {
      name: string;
      transport: 'http';
      url: string;
      headers?: Record<string, string> | undefined;
      private?: boolean | undefined;
    }
  | {
      name: string;
      /** A server built into Paddock: `memory`, the agent's own memory. */
      transport: 'builtin';
      server: 'memory';
      private?: boolean | undefined;
    };

/** Names a server may not have set for it: they would change how the sandboxed process runs. */
const RESERVED_ENV =
  /^(PATH|HOME|TMPDIR|LD_.*|NODE_OPTIONS|NODE_PATH|HTTPS?_PROXY|NO_PROXY|ALL_PROXY|PADDOCK_.*)$/i;

/** Headers that belong to the transport, not to credentials. */
const RESERVED_HEADER =
  /^(host|content-length|content-type|accept|connection|transfer-encoding|mcp-session-id|mcp-protocol-version)$/i;

/** Whether a secret may be given to a server under this name (an environment variable or a header). */
export function secretNameFits(name: string, kind: 'env' | 'header'): boolean {
  return kind === 'env'
    ? /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name) && !RESERVED_ENV.test(name)
    : /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/.test(name) && !RESERVED_HEADER.test(name);
}

async function checkSecretNames(
  db: Db,
  orgId: string,
  named: Record<string, string>,
  kind: 'env' | 'header',
): Promise<void> {
  for (const [name, secretId] of Object.entries(named)) {
    if (!secretNameFits(name, kind)) {
      throw new BadRequestError(
        `invalid_${kind}`,
        `"${name}" cannot be set as ${kind === 'env' ? 'an environment variable' : 'a header'} of an MCP server.`,
      );
    }
    const secret = await db
      .selectFrom('secrets')
      .select('id')
      .where('org_id', '=', orgId)
      .where('id', '=', secretId)
      .executeTakeFirst();
    if (!secret)
      throw new NotFoundError(
        'secret_not_found',
        `No secret ${secretId} in this organization (for ${name}).`,
      );
  }
}

/**
 * What a stdio connection runs: a command, or an installed package (checked to be in the store,
 * with a program to run), never both.
 */
async function stdioProgram(
  db: Db,
  input: Extract<NewConnection, { transport: 'stdio' }>,
  packages: PackageSource | undefined,
): Promise<{ command: string | null; package: string | null; bin: string | null; integrity: string | null }> {
  if (input.package === undefined) {
    if (!input.command)
      throw new BadRequestError('invalid_command', 'A local server names a command or an installed package.');
    if (input.bin !== undefined)
      throw new BadRequestError(
        'invalid_command',
        '"bin" chooses a program of a package; give "package" too.',
      );
    return { command: input.command, package: null, bin: null, integrity: null };
  }
  if (input.command !== undefined)
    throw new BadRequestError('invalid_command', 'A local server runs a command or a package, not both.');
  const { id, installed } = await packageToRun(db, packages, input.package, input.bin ?? null);
  return { command: null, package: id, bin: input.bin ?? null, integrity: installed.integrity };
}

/** An installed package, laid out on this replica, and the program it would run (refused when either is missing). */
async function packageToRun(db: Db, packages: PackageSource | undefined, text: string, bin: string | null) {
  if (packages === undefined) throw new Error('the package store was not given');
  const installed = await packageReadyFor(db, packages, text);
  return {
    id: installed.id,
    installed,
    program: binOf(packages.home, installed.name, installed.version, bin),
  };
}

export async function createConnection(
  db: Kysely<Database>,
  ctx: OrgContext,
  input: NewConnection,
  /** Where installed packages are laid out, and their registry (for a connection that runs one). */
  packages?: PackageSource,
): Promise<Connection> {
  const program = input.transport === 'stdio' ? await stdioProgram(db, input, packages) : undefined;
  return db.transaction().execute(async (trx) => {
    const stdio = input.transport === 'stdio';
    const builtin = input.transport === 'builtin';
    if (input.transport === 'http') {
      const url = URL.canParse(input.url) ? new URL(input.url) : null;
      if (!url || !['https:', 'http:'].includes(url.protocol) || url.username || url.password) {
        throw new BadRequestError(
          'invalid_url',
          'A remote MCP server is an http(s) URL without credentials in it.',
        );
      }
      // Credentials travel only encrypted, except to this machine (a local server, the tests).
      const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
      if (url.protocol === 'http:' && !loopback && Object.keys(input.headers ?? {}).length > 0) {
        throw new BadRequestError('insecure_url', 'Secret headers are sent only over https.');
      }
    }
    if (!builtin)
      await checkSecretNames(
        trx,
        ctx.scope.orgId,
        (stdio ? input.env : input.headers) ?? {},
        stdio ? 'env' : 'header',
      );
    // Agents name tools `<namespace>__<tool>`: two connections may not share a namespace, so a
    // name an agent learnt never comes to point at another server.
    const ns = namespaceOf(input.name.trim());
    const taken = await trx
      .selectFrom('connections')
      .select('name')
      .where('org_id', '=', ctx.scope.orgId)
      .execute();
    if (taken.some((c) => namespaceOf(c.name) === ns)) {
      throw new ConflictError(
        'connection_exists',
        `A connection named like "${input.name.trim()}" (tools "${ns}__…") already exists.`,
      );
    }
    const row: ConnectionTable = {
      id: newId('con'),
      org_id: ctx.scope.orgId,
      name: input.name.trim(),
      transport: input.transport,
      command: builtin ? input.server : (program?.command ?? null),
      package: program?.package ?? null,
      package_bin: program?.bin ?? null,
      args: JSON.stringify(stdio ? input.args : []),
      url: input.transport === 'http' ? input.url : null,
      owner_id: input.private ? ctx.userId : null,
      created_by: ctx.actor.id,
      created_at: new Date().toISOString(),
      env: JSON.stringify(stdio ? (input.env ?? {}) : {}),
      headers: JSON.stringify(input.transport === 'http' ? (input.headers ?? {}) : {}),
    };
    await orConflict(
      trx.insertInto('connections').values(row).execute(),
      'connection_exists',
      `A connection named "${row.name}" already exists.`,
    );
    const c = toConnection(row);
    await recordChange(trx, ctx, {
      action: 'connection.created',
      target: { type: 'connection', id: c.id },
      details: {
        after: {
          name: c.name,
          transport: c.transport,
          command: c.command,
          ...(c.package ? { package: c.package, bin: c.bin, integrity: program?.integrity } : {}),
          args: c.args,
          url: c.url,
          env: c.env,
          headers: c.headers,
          private: c.ownerId !== null,
        },
      },
    });
    return c;
  });
}

export async function deleteConnection(db: Kysely<Database>, ctx: OrgContext, id: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await requireConnection(trx, ctx, id);
    await deleteConnectionRow(trx, ctx, row);
  });
}

/** Deletes a connection the caller was allowed to, in their transaction; `why` when it is not theirs to ask. */
export async function deleteConnectionRow(
  trx: Db,
  ctx: OrgContext,
  row: ConnectionTable,
  why?: string,
): Promise<void> {
  const id = row.id;
  // Its grants go with it (cascade): on record, and every affected agent's policy moves on.
  const grants = await trx
    .selectFrom('grants')
    .select(['id', 'agent_id'])
    .where('org_id', '=', ctx.scope.orgId)
    .where('connection_id', '=', id)
    .where('status', '!=', 'revoked')
    .execute();
  await trx.deleteFrom('connections').where('org_id', '=', ctx.scope.orgId).where('id', '=', id).execute();
  for (const agentId of new Set(grants.map((g) => g.agent_id)))
    await bumpGrantsVersion(trx, ctx.scope.orgId, agentId);
  await recordChange(trx, ctx, {
    action: 'connection.deleted',
    target: { type: 'connection', id },
    details: { before: { name: row.name }, grantsRemoved: grants.map((g) => g.id), ...(why ? { why } : {}) },
  });
}

/** The tools as last seen, without contacting the server. */
export async function storedTools(db: Db, ctx: OrgContext, id: string): Promise<Tool[]> {
  await requireConnection(db, ctx, id);
  const rows = await db
    .selectFrom('connection_tools')
    .selectAll()
    .where('org_id', '=', ctx.scope.orgId)
    .where('connection_id', '=', id)
    .orderBy('name')
    .execute();
  return rows.map((r) => ({ ...definitionOfRow(r), digest: r.digest, seenAt: r.seen_at }));
}

export interface Refreshed {
  tools: Tool[];
  changed: string[];
  suspended: string[];
  repinned: string[];
  /** Tools refused because their name holds a secret, in scrubbed form. */
  refused: string[];
  /** Prompts, resources and templates refused likewise (`prompt <name>`, `resource <uri>`, `template <uri>`), scrubbed. */
  refusedOfferings: string[];
  /** How many prompts, resources and resource templates the server offers (kept as listed). */
  prompts: number;
  resources: number;
  resourceTemplates: number;
}

/**
 * Keeps what the server offers besides tools, as listed now: refused offerings (a key holding a
 * secret) and prompts whose definition changed are audited, and prompt grants whose prompt
 * changed or disappeared are suspended, as tool grants are.
 */
async function storeOfferings(
  trx: Db,
  ctx: Lister,
  id: string,
  offerings: ReturnType<typeof vetOfferings>,
  now: string,
): Promise<{ suspended: string[]; counts: Record<OfferingKind, number> }> {
  const before = new Map(
    (
      await trx
        .selectFrom('connection_offerings')
        .select(['kind', 'key', 'digest'])
        .where('connection_id', '=', id)
        .where('kind', '=', 'prompt')
        .execute()
    ).map((r) => [r.key, r.digest]),
  );
  await trx.deleteFrom('connection_offerings').where('connection_id', '=', id).execute();
  for (let i = 0; i < offerings.kept.length; i += 200) {
    await trx
      .insertInto('connection_offerings')
      .values(
        offerings.kept.slice(i, i + 200).map((o) => ({
          org_id: ctx.scope.orgId,
          connection_id: id,
          kind: o.kind,
          key: o.key,
          definition: JSON.stringify(o.definition),
          digest: o.digest,
          seen_at: now,
        })),
      )
      .execute();
  }
  const system = {
    orgId: ctx.scope.orgId,
    actor: { type: 'system' as const, id: 'connection-monitor' },
    target: { type: 'connection', id },
    requestId: ctx.requestId,
  };
  const prompts = new Map(offerings.kept.filter((o) => o.kind === 'prompt').map((o) => [o.key, o.digest]));
  for (const [name, digest] of prompts) {
    const was = before.get(name);
    if (was === undefined || was === digest) continue;
    await recordAudit(trx, {
      ...system,
      action: 'connection.prompt.changed',
      outcome: 'failure',
      details: { prompt: name, before: was, after: digest },
    });
  }
  for (const { kind, shownAs } of offerings.refused) {
    await recordAudit(trx, {
      ...system,
      action: kind === 'prompt' ? 'connection.prompt.refused' : 'connection.resource.refused',
      outcome: 'denied',
      details: {
        [kind === 'template' ? 'template' : kind]: shownAs,
        reason: `the ${kind === 'prompt' ? "prompt's name" : kind === 'resource' ? "resource's URI" : "template's URI"} holds a secret the server was given`,
      },
    });
  }
  const suspended = await reconcilePromptGrants(trx, ctx.scope.orgId, id, prompts, ctx.requestId);
  const counts = { prompt: 0, resource: 0, template: 0 };
  for (const o of offerings.kept) counts[o.kind]++;
  return { suspended, counts };
}

export interface StoredOffering {
  kind: OfferingKind;
  key: string;
  definition: Record<string, unknown>;
  digest: string;
  seenAt: string;
}

/** What the connection offers besides tools, as last listed, without contacting the server. */
export async function storedOfferings(db: Db, ctx: OrgContext, id: string): Promise<StoredOffering[]> {
  await requireConnection(db, ctx, id);
  const rows = await db
    .selectFrom('connection_offerings')
    .selectAll()
    .where('org_id', '=', ctx.scope.orgId)
    .where('connection_id', '=', id)
    .orderBy('kind')
    .orderBy('key')
    .execute();
  return rows.map((r) => ({
    kind: r.kind,
    key: r.key,
    definition: JSON.parse(r.definition) as Record<string, unknown>,
    digest: r.digest,
    seenAt: r.seen_at,
  }));
}

/**
 * Asks the server for its tools now, with the connection's org-wide secrets, or also those of
 * `asAgent` when the admin names an agent (a server that needs an agent-scoped secret to start);
 * records them scrubbed; audits changed and refused definitions and whose secrets were used.
 */
export async function refreshTools(
  opener: Opener,
  ctx: OrgContext,
  id: string,
  asAgent?: string | undefined,
): Promise<Refreshed> {
  const db = opener.db;
  const row = await requireConnection(db, ctx, id);
  if (asAgent) await requireAgentRow(db, ctx, asAgent);
  // A per-person connection lists with the caller's own account.
  const listed = await listNow(opener, row, asAgent ?? null, ctx.userId);
  return db.transaction().execute((trx) => recordListing(trx, ctx, id, listed, asAgent));
}

/**
 * Runs another installed version of the connection's package: the new version is started and its
 * tools listed first, then in one change the connection names it (audited, with both integrity
 * hashes), its tools are recorded and grants on changed definitions are suspended. If the new
 * version does not start or list, nothing changes. Open sessions must be ended by the caller.
 */
export async function changeConnectionPackage(
  opener: Opener,
  ctx: OrgContext,
  id: string,
  change: { package: string; bin?: string | undefined },
): Promise<{ connection: Connection; tools: Refreshed }> {
  const db = opener.db;
  const row = await requireConnection(db, ctx, id);
  if (!row.package) {
    throw new BadRequestError(
      'not_a_package_connection',
      'This connection runs a command or a remote server, not an installed package.',
    );
  }
  const bin = change.bin === undefined ? row.package_bin : change.bin;
  const next = await packageToRun(db, opener, change.package, bin);
  const before = row.package;
  const beforePkg = parseInstalled(before);
  const beforeIntegrity =
    (await recordedPackage(db, opener.home, beforePkg.name, beforePkg.version))?.integrity ?? null;
  const updated: ConnectionTable = { ...row, package: next.id, package_bin: bin };
  const listed = await listNow(opener, updated, null);
  const tools = await db.transaction().execute(async (trx) => {
    const moved = await trx
      .updateTable('connections')
      .set({ package: next.id, package_bin: bin })
      .where('org_id', '=', ctx.scope.orgId)
      .where('id', '=', id)
      .where('package', '=', before)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) !== 1)
      throw new ConflictError(
        'connection_changed',
        'The connection changed meanwhile: look again and retry.',
      );
    await recordChange(trx, ctx, {
      action: 'connection.package.changed',
      target: { type: 'connection', id },
      details: {
        before: {
          package: before,
          bin: row.package_bin,
          integrity: beforeIntegrity,
        },
        after: { package: next.id, bin, integrity: next.installed.integrity },
      },
    });
    return recordListing(trx, ctx, id, listed, undefined);
  });
  return { connection: toConnection(updated), tools };
}

interface Listed {
  vetted: ReturnType<typeof vetDefinitions>['tools'];
  refused: ReturnType<typeof vetDefinitions>['refused'];
  offerings: ReturnType<typeof vetOfferings>;
}

/** Starts the server (as `row` says) and lists its tools, scrubbed and vetted. */
async function listNow(
  opener: Opener,
  row: ConnectionTable,
  asAgent: string | null,
  personId: string | null = null,
): Promise<Listed> {
  const { client, scrub } = await openConnection(opener, row, asAgent, personId);
  try {
    return await listOn(client, scrub);
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** Lists the tools and offerings of an open session, scrubbed and vetted. */
async function listOn(client: Client, scrub: <T>(content: T) => T): Promise<Listed> {
  let received: ToolDefinition[];
  let offered: Offerings;
  try {
    received = await listTools(client);
    offered = await listOfferings(client);
  } catch (err) {
    throw new PaddockError(
      502,
      'connection_failed',
      scrub(`Listing the tools failed: ${(err as Error).message}`),
    );
  }
  const { tools: vetted, refused } = vetDefinitions(received, scrub);
  return { vetted, refused, offerings: vetOfferings(offered, scrub) };
}

/**
 * Lists the connection again on an agent's open session, because its server said a list changed:
 * recorded as any listing is (changed definitions audited, their grants suspended), by the
 * connection monitor, naming the agent whose secrets the session holds. A listing the same as
 * the one on record (a server that adds tools once each client is known says so on every new
 * session) changes and records nothing: `'unchanged'`.
 */
export async function relistOnSession(
  db: Kysely<Database>,
  session: { orgId: string; agentId: string; connectionId: string; requestId: string },
  client: Client,
  scrub: <T>(content: T) => T,
): Promise<Refreshed | 'unchanged'> {
  const listed = await listOn(client, scrub);
  if (await sameAsRecorded(db, session.orgId, session.connectionId, listed)) return 'unchanged';
  const ctx: Lister = {
    scope: trustedScope(session.orgId),
    actor: { type: 'system', id: 'connection-monitor' },
    requestId: session.requestId,
  };
  return db
    .transaction()
    .execute((trx) => recordListing(trx, ctx, session.connectionId, listed, session.agentId));
}

/** Whether a listing is the one on record: the same tools and offerings under the same digests, none refused. */
async function sameAsRecorded(
  db: Kysely<Database>,
  orgId: string,
  connectionId: string,
  { vetted, refused, offerings }: Listed,
): Promise<boolean> {
  if (refused.length > 0 || offerings.refused.length > 0) return false;
  const [tools, kept] = await Promise.all([
    db
      .selectFrom('connection_tools')
      .select(['name', 'digest'])
      .where('org_id', '=', orgId)
      .where('connection_id', '=', connectionId)
      .execute(),
    db
      .selectFrom('connection_offerings')
      .select(['kind', 'key', 'digest'])
      .where('org_id', '=', orgId)
      .where('connection_id', '=', connectionId)
      .execute(),
  ]);
  const same = (a: string[], b: string[]) =>
    a.length === b.length && a.sort().join('\n') === b.sort().join('\n');
  return (
    same(
      tools.map((t) => `${t.name}\u0000${t.digest}`),
      vetted.map((t) => `${t.name}\u0000${t.digest}`),
    ) &&
    same(
      kept.map((o) => `${o.kind}\u0000${o.key}\u0000${o.digest}`),
      offerings.kept.map((o) => `${o.kind}\u0000${o.key}\u0000${o.digest}`),
    )
  );
}

/** Who records a listing: a person (refresh), or the connection monitor (a server said its list changed). */
type Lister = Pick<OrgContext, 'scope' | 'actor' | 'requestId'>;

/** Records a listing in the caller's transaction: tools, offerings, changed and refused ones, grants reconciled. */
async function recordListing(
  trx: Db,
  ctx: Lister,
  id: string,
  { vetted, refused, offerings }: Listed,
  asAgent: string | undefined,
): Promise<Refreshed> {
  const now = new Date().toISOString();
  const before = new Map(
    (
      await trx
        .selectFrom('connection_tools')
        .select(['name', 'digest'])
        .where('connection_id', '=', id)
        .execute()
    ).map((r) => [r.name, r.digest]),
  );
  // A digest made under an older formula is compared under that formula: no false "changed".
  const changed = vetted
    .filter((t) => {
      const was = before.get(t.name);
      return was !== undefined && t.digestUnder(digestVersion(was)) !== was;
    })
    .map((t) => t.name);
  await trx.deleteFrom('connection_tools').where('connection_id', '=', id).execute();
  for (let i = 0; i < vetted.length; i += 200) {
    await trx
      .insertInto('connection_tools')
      .values(
        vetted.slice(i, i + 200).map((t) => ({
          org_id: ctx.scope.orgId,
          connection_id: id,
          ...rowOfDefinition(t),
          digest: t.digest,
          seen_at: now,
        })),
      )
      .execute();
  }
  const system = { orgId: ctx.scope.orgId, actor: { type: 'system' as const, id: 'connection-monitor' } };
  for (const name of changed) {
    await recordAudit(trx, {
      ...system,
      action: 'connection.tool.changed',
      target: { type: 'connection', id },
      outcome: 'failure',
      requestId: ctx.requestId,
      details: { tool: name, before: before.get(name), after: vetted.find((t) => t.name === name)!.digest },
    });
  }
  for (const { shownAs, why } of refused) {
    await recordAudit(trx, {
      ...system,
      action: 'connection.tool.refused',
      target: { type: 'connection', id },
      outcome: 'denied',
      requestId: ctx.requestId,
      details: {
        tool: shownAs,
        reason:
          why === 'secret'
            ? "the tool's name holds a secret the server was given"
            : "the tool's name holds control, bidirectional-override or invisible characters",
      },
    });
  }
  const kept = await storeOfferings(trx, ctx, id, offerings, now);
  const { suspended, repinned } = await reconcileGrants(
    trx,
    ctx.scope.orgId,
    id,
    new Map(vetted.map((t) => [t.name, t])),
    ctx.requestId,
  );
  suspended.push(...kept.suspended);
  await recordChange(trx, ctx, {
    action: 'connection.tools.listed',
    target: { type: 'connection', id },
    details: {
      secretsOf: asAgent ? { agent: asAgent } : 'organization',
      tools: vetted.length,
      changed,
      refused: refused.length,
      prompts: kept.counts.prompt,
      resources: kept.counts.resource,
      resourceTemplates: kept.counts.template,
      refusedOfferings: offerings.refused.length,
      suspended,
      repinned,
    },
  });
  return {
    tools: vetted.map(({ digestUnder: _, ...t }) => ({ ...t, seenAt: now })),
    changed,
    suspended,
    repinned,
    refused: refused.map((r) => r.shownAs),
    refusedOfferings: offerings.refused.map((r) => `${r.kind} ${r.shownAs}`),
    prompts: kept.counts.prompt,
    resources: kept.counts.resource,
    resourceTemplates: kept.counts.template,
  };
}
