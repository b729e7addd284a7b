/**
 * The catalog of well-known MCP servers kept in the repository (catalog.json), checked when first
 * read, and each entry as one organization sees it: may it be installed here, is it installed,
 * which vault secrets would fill its fields, which of its connections exist already.
 */
import { readFileSync } from 'node:fs';
import { type EgressRule, egressRulesFor } from '../cells/index.ts';
import { NotFoundError } from '../errors/index.ts';
import { allowedName, parseInstalled, recordedPackage } from '../packages/index.ts';
import type { Db } from '../store/index.ts';
import { type Catalog, type CatalogEntry, parseCatalog } from './schema.ts';

let loaded: Catalog | undefined;

/** The catalog shipped with this version of Paddock. */
export function catalog(): Catalog {
  loaded ??= parseCatalog(JSON.parse(readFileSync(new URL('./catalog.json', import.meta.url), 'utf8')));
  return loaded;
}

export function catalogEntry(id: string): CatalogEntry {
  const entry = catalog().entries.find((e) => e.id === id);
  if (!entry)
    throw new NotFoundError(
      'catalog_entry_not_found',
      `No server "${id}" in the catalog (paddock servers catalog lists them).`,
    );
  return entry;
}

/** Whether an entry can be added here now, and if not, why (in words for the card). */
export interface CatalogStatus {
  /** npm entries: the operator's allowlist admits the package (null for remote entries). */
  allowed: boolean | null;
  /** npm entries: that exact version is installed (null for remote entries). */
  installed: boolean | null;
  /** Remote entries whose way in is OAuth sign-in. */
  needsOAuth: boolean;
  /** Each credential and the vault secret of the entry's name that would fill it, if any. */
  credentials: Array<{ field: string; secretName: string; secretId: string | null }>;
  /** Each host the server calls and whether the org's egress rules admit it. */
  egress: Array<{ host: string; allowed: boolean }>;
  /** This org's connections made from the entry (same package or same URL). */
  connections: Array<{ id: string; name: string }>;
  /** Whether it can be added now, as it is (the API also takes secrets chosen by id). */
  addable: boolean;
  /** Why it cannot be added now, when it cannot. */
  blocked: string | null;
}

export interface CatalogCard extends CatalogEntry {
  status: CatalogStatus;
}

/**
 * Each host the entry calls and whether the org's egress proxy admits it (https, port 443); a
 * remote server's own host is admitted by its connection.
 */
export function egressOf(
  entry: CatalogEntry,
  rules: EgressRule[],
): Array<{ host: string; allowed: boolean }> {
  return entry.egress.map((host) => ({
    host,
    allowed:
      (entry.source.kind === 'remote' && new URL(entry.source.url).hostname === host) ||
      rules.some((r) => r.host === host && r.port === 443),
  }));
}

/**
 * The hosts (port 443) that connections of the org made since `since` reach: a remote one's own
 * host, and the hosts of the catalog entry it was made from. A failed add does not take back a
 * host it allowed that a connection made meanwhile (another add, at the same moment) relies on.
 */
export async function hostsReachedSince(
  db: Db,
  orgId: string,
  since: string,
  except: string,
): Promise<Set<string>> {
  const rows = await db
    .selectFrom('connections')
    .select(['id', 'package', 'url'])
    .where('org_id', '=', orgId)
    .where('created_at', '>=', since)
    .where('id', '!=', except)
    .execute();
  const hosts = new Set<string>();
  for (const r of rows) {
    if (r.url && URL.canParse(r.url)) {
      const u = new URL(r.url);
      if (u.protocol === 'https:' && (u.port === '' || u.port === '443')) hosts.add(u.hostname);
    }
    for (const e of catalog().entries)
      if (e.source.kind === 'npm' ? r.package === e.source.package : r.url === e.source.url)
        for (const h of e.egress) hosts.add(h);
  }
  return hosts;
}

/** The catalog as one org sees it, with each entry's status. */
export async function catalogFor(
  db: Db,
  orgId: string,
  settings: { home: string; allowlist: string[] },
): Promise<{ version: string; entries: CatalogCard[] }> {
  const c = catalog();
  const secrets = await db
    .selectFrom('secrets')
    .select(['id', 'name'])
    .where('org_id', '=', orgId)
    .where('kind', '!=', 'model_key')
    .execute();
  const connections = await db
    .selectFrom('connections')
    .select(['id', 'name', 'package', 'url'])
    .where('org_id', '=', orgId)
    .execute();
  const rules = await egressRulesFor(db, orgId);
  const entries: CatalogCard[] = [];
  for (const e of c.entries) {
    const credentials = e.credentials.map((cr) => ({
      field: cr.field,
      secretName: cr.secretName,
      secretId: secrets.find((s) => s.name === cr.secretName)?.id ?? null,
    }));
    const egress = egressOf(e, rules);
    const made = connections
      .filter((k) => (e.source.kind === 'npm' ? k.package === e.source.package : k.url === e.source.url))
      .map((k) => ({ id: k.id, name: k.name }));
    let status: CatalogStatus;
    if (e.source.kind === 'npm') {
      const { name, version } = parseInstalled(e.source.package);
      const allowed = allowedName(name, settings.allowlist);
      const installed = !!(await recordedPackage(db, settings.home, name, version));
      const missing = credentials.filter((cr) => !cr.secretId);
      const blocked = !allowed
        ? `${name} is not on this installation's list of MCP server packages: the operator adds it to PADDOCK_SERVER_PACKAGES.`
        : missing.length > 0
          ? `Store ${missing.map((m) => `"${m.secretName}"`).join(' and ')} in the vault first, or choose secrets when adding.`
          : null;
      status = {
        allowed,
        installed,
        needsOAuth: false,
        credentials,
        egress,
        connections: made,
        addable: allowed && missing.length === 0,
        blocked,
      };
    } else {
      const withToken = credentials.length > 0 && credentials.every((cr) => cr.secretId);
      const needsOAuth = e.source.oauth && !withToken;
      status = {
        allowed: null,
        installed: null,
        needsOAuth,
        credentials,
        egress,
        connections: made,
        // Signed in to with OAuth once added (Connect on its row), or sent the vault's token.
        addable: withToken || e.source.oauth,
        blocked:
          withToken || e.source.oauth
            ? null
            : `Store ${credentials.map((cr) => `"${cr.secretName}"`).join(' and ')} in the vault first, or choose secrets when adding.`,
      };
    }
    entries.push({ ...e, status });
  }
  return { version: c.version, entries };
}
