/**
 * Installing, listing and removing MCP server packages as a service: every install, refusal and
 * removal is on the platform's audit log with the integrity hashes (and on the org's, when an
 * org's owner or admin asked); a package that a connection uses is not removed.
 */
import type { Kysely } from 'kysely';
import { type Actor, recordAudit } from '../audit/index.ts';
import { ConflictError, NotFoundError, PaddockError } from '../errors/index.ts';
import type { Database, Db } from '../store/index.ts';
import { type InstallOutcome, type InstallSettings, installPackage } from './install.ts';
import {
  forgetInstall,
  listRecorded,
  localLockfile,
  type PackageSource,
  packageReady,
  recordedPackage,
  recordInstall,
} from './replica.ts';
import { checkAllowed, parseInstalled, parseRequest } from './spec.ts';
import { type InstalledPackage, packageDir, removeFolder } from './store.ts';

/** Who asks: the operator (whole installation), or a person or token of one org. */
export interface PackageAsker {
  actor: Actor;
  requestId: string;
  /** The org whose owner or admin asks; null for the operator. */
  orgId: string | null;
}

/** A connection running a package. */
export interface PackageUse {
  package: string;
  orgId: string;
  orgSlug: string;
  connectionId: string;
  connectionName: string;
}

export interface ListedPackage extends Omit<InstalledPackage, 'tree'> {
  /** How many packages its tree holds, itself included. */
  packages: number;
  /** Connections that run it (for an org's asker: that org's only). */
  usedBy: PackageUse[];
  /** Connections of other organizations that run it (counted, not named, for an org's asker). */
  usedElsewhere: number;
}

/** Records an event on the platform's log and, when an org asked, on that org's too. */
async function audit(
  db: Db,
  who: PackageAsker,
  event: { action: string; target: string; outcome?: 'success' | 'denied'; details: Record<string, unknown> },
): Promise<void> {
  for (const orgId of who.orgId ? [null, who.orgId] : [null]) {
    await recordAudit(db, {
      orgId,
      actor: who.actor,
      requestId: who.requestId,
      action: event.action,
      target: { type: 'server_package', id: event.target },
      outcome: event.outcome ?? 'success',
      details: { ...event.details, ...(orgId === null && who.orgId ? { org: who.orgId } : {}) },
    });
  }
}

/** The integrity facts an audit record carries. */
const integrityOf = (p: InstalledPackage) => ({
  package: p.id,
  integrity: p.integrity,
  lockfileSha256: p.lockfileSha256,
  registry: p.registry,
  tree: p.tree.map((t) => ({ name: t.name, version: t.version, integrity: t.integrity })),
});

/**
 * Installs a package within the operator's allowlist; refusals (not allowed, integrity, source)
 * are on record too.
 *
 * @example await installServerPackage(db, settings, asker, '@modelcontextprotocol/server-memory@2026.8.31')
 */
export async function installServerPackage(
  db: Kysely<Database>,
  settings: InstallSettings,
  who: PackageAsker,
  text: string,
): Promise<InstallOutcome> {
  let outcome: InstallOutcome;
  try {
    outcome = await installOnRecord(db, settings, text, `${who.actor.type}:${who.actor.id}`);
  } catch (err) {
    if (PaddockError.isInstance(err) && err.code !== 'invalid_package') {
      await audit(db, who, {
        action: 'server_package.install.refused',
        target: text.trim(),
        outcome: 'denied',
        details: { package: text.trim(), code: err.code, reason: err.message },
      });
    }
    throw err;
  }
  if (!outcome.already) {
    await audit(db, who, {
      action: 'server_package.installed',
      target: outcome.installed.id,
      details: integrityOf(outcome.installed),
    });
  }
  return outcome;
}

/**
 * An exact version on record already is laid out here from its record; anything else is
 * installed from the registry, then put on record (the first record of a version stands).
 */
async function installOnRecord(
  db: Kysely<Database>,
  settings: InstallSettings,
  text: string,
  by: string,
): Promise<InstallOutcome> {
  const req = parseRequest(text);
  checkAllowed(req.name, settings.allowlist);
  if (req.exact && (await recordedPackage(db, settings.home, req.name, req.wanted))) {
    return { installed: await packageReady(db, settings, req.name, req.wanted), already: true };
  }
  const outcome = await installPackage(settings, text, by);
  const p = outcome.installed;
  if (await recordInstall(db, p, localLockfile(settings.home, p.name, p.version)))
    return { installed: p, already: false };
  // On record meanwhile (another replica, or a range meaning a recorded version): the record's is the one.
  return { installed: await packageReady(db, settings, p.name, p.version), already: true };
}

/** The connections that run packages (of one, when named), across orgs. */
export async function packageUses(db: Db, id?: string): Promise<PackageUse[]> {
  let q = db
    .selectFrom('connections')
    .innerJoin('orgs', 'orgs.id', 'connections.org_id')
    .select(['connections.package', 'connections.org_id', 'orgs.slug', 'connections.id', 'connections.name'])
    .where('connections.package', 'is not', null);
  if (id) q = q.where('connections.package', '=', id);
  const rows = await q.orderBy('orgs.slug').orderBy('connections.name').execute();
  return rows.map((r) => ({
    package: r.package!,
    orgId: r.org_id,
    orgSlug: r.slug,
    connectionId: r.id,
    connectionName: r.name,
  }));
}

/** Installed packages and who runs them; an org's asker learns only its own connections' names. */
export async function listServerPackages(db: Db, orgId: string | null): Promise<ListedPackage[]> {
  const uses = await packageUses(db);
  return (await listRecorded(db)).map(({ tree, ...p }) => {
    const all = uses.filter((u) => u.package === p.id);
    const mine = orgId ? all.filter((u) => u.orgId === orgId) : all;
    return { ...p, packages: tree.length, usedBy: mine, usedElsewhere: all.length - mine.length };
  });
}

/** Removes an installed package; refused, saying which, while any connection runs it. */
export async function removeServerPackage(
  db: Kysely<Database>,
  source: PackageSource,
  who: PackageAsker,
  text: string,
): Promise<InstalledPackage> {
  const { name, version } = parseInstalled(text);
  const recorded = await recordedPackage(db, source.home, name, version);
  if (!recorded) throw new NotFoundError('package_not_installed', `${name}@${version} is not installed.`);
  const { lockfile: _, ...installed } = recorded;
  const uses = await packageUses(db, installed.id);
  if (uses.length > 0) {
    const mine = who.orgId ? uses.filter((u) => u.orgId === who.orgId) : uses;
    const named = mine.map((u) => (who.orgId ? u.connectionName : `${u.orgSlug}/${u.connectionName}`));
    const others = uses.length - mine.length;
    const said = [
      ...named,
      ...(others ? [`${others} connection${others === 1 ? '' : 's'} of other organizations`] : []),
    ];
    throw new ConflictError(
      'package_in_use',
      `${installed.id} is in use by ${said.join(', ')}: change or delete ${uses.length === 1 ? 'that connection' : 'those connections'} first.`,
    );
  }
  // Off the record first: no replica lays it out again; this replica's folder goes too (another
  // replica's folder stays on its disk, unused, since nothing off the record is run).
  await forgetInstall(db, installed.id);
  removeFolder(packageDir(source.home, name, version));
  await audit(db, who, {
    action: 'server_package.removed',
    target: installed.id,
    details: integrityOf(installed),
  });
  return installed;
}
