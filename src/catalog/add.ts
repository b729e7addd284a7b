/**
 * Adding a connection from a catalog entry: the package installed within the operator's
 * allowlist (audited, as any install), the connection created with each credential field filled
 * from the vault, its tools listed in the sandbox, and starting grants suggested — read-only
 * tools only. Nothing is granted here: a person accepts each suggestion as an ordinary grant.
 * The hosts the server calls are allowed for the org's egress only when the person adding asks
 * for it (`allowEgress`), as an audited egress change of its own; otherwise they are reported.
 */

import { egressRulesFor } from '../cells/index.ts';
import {
  type Connection,
  createConnection,
  deleteConnection,
  type Opener,
  type Refreshed,
  refreshTools,
} from '../connections/index.ts';
import { BadRequestError, NotFoundError } from '../errors/index.ts';
import { allowEgress, mayChangeEgress, type OrgContext, withdrawEgress } from '../identity/index.ts';
import {
  checkAllowed,
  type InstallSettings,
  installServerPackage,
  type PackageAsker,
  parseInstalled,
} from '../packages/index.ts';
import { catalogEntry, egressOf, hostsReachedSince } from './catalog.ts';
import type { CatalogEntry } from './schema.ts';

export interface AddFromCatalog {
  /** The connection's name (the entry's id when not given). */
  name?: string | undefined;
  /** Field → vault secret id; a field not given is filled by the vault secret of the entry's name. */
  secrets?: Record<string, string> | undefined;
  /** Also allow the hosts the server calls on the org's egress allowlist (an audited egress change). */
  allowEgress?: boolean | undefined;
}

export interface SuggestedGrant {
  tool: string;
  title: string | null;
  description: string | null;
}

export interface AddedFromCatalog {
  entry: string;
  connection: Connection;
  /** Its tools as listed; null while it waits for OAuth sign-in (`signIn`). */
  tools: Refreshed | null;
  /**
   * The connection was made for OAuth sign-in (no token in the vault): an admin connects it from
   * its row (Connect), and its tools are listed then.
   */
  signIn: boolean;
  /** The package installed for it (npm entries), and whether it was installed already. */
  installed: { package: string; integrity: string; already: boolean } | null;
  /** Starting grants to offer: read-only tools, by their annotations; none is granted yet. */
  suggestedGrants: SuggestedGrant[];
  /** The egress hosts it needs: those allowed now by this step, and those still not allowed. */
  egress: { allowed: string[]; missing: string[] };
}

/**
 * The vault secret for each credential field: the one chosen, else the org's secret named as the
 * entry says. Refused, naming what to store, when one is missing.
 */
async function secretsFor(
  opener: Opener,
  ctx: OrgContext,
  entry: CatalogEntry,
  chosen: Record<string, string>,
): Promise<Record<string, string>> {
  const fields = new Set(entry.credentials.map((c) => c.field));
  const stray = Object.keys(chosen).find((f) => !fields.has(f));
  if (stray)
    throw new BadRequestError(
      'invalid_secrets',
      `${entry.name} has no field "${stray}"${fields.size ? `: its fields are ${[...fields].join(', ')}` : ''}.`,
    );
  const out: Record<string, string> = {};
  for (const c of entry.credentials) {
    // The chosen secret or the one of the entry's name, in this org only (checked before anything is installed).
    const given = chosen[c.field];
    const id = (
      await opener.db
        .selectFrom('secrets')
        .select('id')
        .where('org_id', '=', ctx.scope.orgId)
        .where(given === undefined ? 'name' : 'id', '=', given ?? c.secretName)
        .where('kind', '!=', 'model_key')
        .executeTakeFirst()
    )?.id;
    if (given !== undefined && !id)
      throw new NotFoundError(
        'secret_not_found',
        `No secret ${given} in this organization (for ${c.field}).`,
      );
    if (!id) {
      // No token in the vault: an OAuth entry is signed in to instead (no header sent at all).
      if (entry.source.kind === 'remote' && entry.source.oauth) return {};
      throw new BadRequestError(
        'catalog_secret_missing',
        `${entry.name} needs ${c.label} (${c.field}): store it in the vault as "${c.secretName}", or choose a secret. ${c.help}`,
      );
    }
    out[c.field] = id;
  }
  return out;
}

/** Read-only tools as listed (their annotations), in the entry's order, else in the server's. */
export function suggestFrom(entry: CatalogEntry, tools: Refreshed['tools']): SuggestedGrant[] {
  const readOnly = tools.filter(
    (t) => t.annotations?.readOnlyHint === true && !t.annotations?.destructiveHint,
  );
  const picked = entry.suggestedGrants.length
    ? entry.suggestedGrants.flatMap((name) => readOnly.filter((t) => t.name === name))
    : readOnly;
  return picked.map((t) => ({
    tool: t.name,
    title: t.title ?? t.annotations?.title ?? null,
    description: t.description ?? null,
  }));
}

/**
 * Adds a connection from the catalog. A refused install or a missing secret changes nothing; a
 * server that does not start or list leaves no connection behind. A remote entry that signs in with
 * OAuth and has no token in the vault is made unlisted, to be connected from its row.
 *
 * @example await addFromCatalog(opener, settings, ctx, asker, 'notion', {})
 */
export async function addFromCatalog(
  opener: Opener,
  settings: InstallSettings,
  ctx: OrgContext,
  who: PackageAsker,
  entryId: string,
  input: AddFromCatalog,
): Promise<AddedFromCatalog> {
  const entry = catalogEntry(entryId);
  const name = input.name ?? entry.id;
  if (entry.source.kind === 'npm')
    checkAllowed(parseInstalled(entry.source.package).name, settings.allowlist);
  const secrets = await secretsFor(opener, ctx, entry, input.secrets ?? {});
  // Refused here, before anything is installed, when the person may not change the egress allowlist.
  if (input.allowEgress) mayChangeEgress(ctx);
  const missing = egressOf(entry, await egressRulesFor(opener.db, ctx.scope.orgId))
    .filter((e) => !e.allowed)
    .map((e) => e.host);
  let installed: AddedFromCatalog['installed'] = null;
  let connection: Connection;
  if (entry.source.kind === 'npm') {
    const r = await installServerPackage(opener.db, settings, who, entry.source.package);
    installed = { package: r.installed.id, integrity: r.installed.integrity, already: r.already };
    connection = await createConnection(
      opener.db,
      ctx,
      {
        name,
        transport: 'stdio',
        package: entry.source.package,
        bin: entry.source.bin,
        args: entry.source.args,
        env: secrets,
      },
      settings,
    );
  } else {
    connection = await createConnection(opener.db, ctx, {
      name,
      transport: 'http',
      url: entry.source.url,
      headers: secrets,
    });
  }
  const pairs = missing.map((host) => ({ host, port: 443 }));
  const why = `catalog entry ${entry.id}: connection ${connection.name}`;
  let allowed: string[] = [];
  let allowedAt = '';
  let tools: Refreshed | null = null;
  try {
    // Before listing: a server may call out as it starts.
    allowedAt = new Date().toISOString();
    if (input.allowEgress && pairs.length)
      allowed = (await allowEgress(opener.db, ctx, pairs, why)).map((p) => p.host);
    // Signed in to with OAuth: nothing to list until an admin connects it (its row's Connect).
    if (!(entry.source.kind === 'remote' && entry.source.oauth && Object.keys(secrets).length === 0))
      tools = await refreshTools(opener, ctx, connection.id);
  } catch (err) {
    // It did not start or list: no half-made connection is left, nor hosts allowed for it (each undo audited).
    await deleteConnection(opener.db, ctx, connection.id);
    // Not a host a connection made meanwhile relies on (it found the host allowed, by this add).
    const inUse = allowed.length
      ? await hostsReachedSince(opener.db, ctx.scope.orgId, allowedAt, connection.id)
      : new Set<string>();
    const taken = allowed.filter((h) => !inUse.has(h));
    if (taken.length)
      await withdrawEgress(
        opener.db,
        ctx,
        taken.map((host) => ({ host, port: 443 })),
        `${why} was not added`,
      );
    throw err;
  }
  const egress = { allowed, missing: missing.filter((h) => !allowed.includes(h)) };
  if (!tools)
    return { entry: entry.id, connection, tools: null, signIn: true, installed, suggestedGrants: [], egress };
  return {
    egress,
    entry: entry.id,
    connection,
    tools,
    signIn: false,
    installed,
    suggestedGrants: suggestFrom(entry, tools.tools),
  };
}
