/**
 * Installed packages on record in the database — the installation's one list, each with its
 * lockfile and integrity hashes — and laid out on this replica's disk when a connection needs one:
 * the same tarballs, fetched from the configured registry by the recorded lockfile, each checked
 * against its recorded integrity. A replica never runs a package that is not on record.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { recordAudit } from '../audit/index.ts';
import { NotFoundError, PaddockError } from '../errors/index.ts';
import type { Db } from '../store/index.ts';
import type { ServerPackageTable } from '../store/schema.ts';
import { materializePackage } from './install.ts';
import { parseInstalled } from './spec.ts';
import { type InstalledPackage, packageDir, readInstalled, removeFolder } from './store.ts';

/** Where packages are laid out on this replica, and the registry its tarballs come from. */
export interface PackageSource {
  home: string;
  registry: string;
}

const fromRow = (r: ServerPackageTable): InstalledPackage => ({
  name: r.name,
  version: r.version,
  id: r.id,
  integrity: r.integrity,
  tree: JSON.parse(r.tree) as InstalledPackage['tree'],
  lockfileSha256: r.lockfile_sha256,
  registry: r.registry,
  installedAt: r.installed_at,
  installedBy: r.installed_by,
});

/** A package's lockfile as stored beside it on this disk. */
export const localLockfile = (home: string, name: string, version: string) =>
  readFileSync(join(packageDir(home, name, version), 'package-lock.json'), 'utf8');

/**
 * Puts an install on record; false when that version was on record already (the record stays as
 * it was: the first install is the one every replica lays out).
 */
export async function recordInstall(db: Db, p: InstalledPackage, lockfile: string): Promise<boolean> {
  const r = await db
    .insertInto('server_packages')
    .values({
      id: p.id,
      name: p.name,
      version: p.version,
      integrity: p.integrity,
      lockfile,
      lockfile_sha256: createHash('sha256').update(lockfile).digest('hex'),
      tree: JSON.stringify(p.tree),
      registry: p.registry,
      installed_at: p.installedAt,
      installed_by: p.installedBy,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return r !== undefined;
}

/** Every package on record, by name then version. */
export async function listRecorded(db: Db): Promise<InstalledPackage[]> {
  const rows = await db.selectFrom('server_packages').selectAll().execute();
  return rows.map(fromRow).sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

/** The record of `<name>@<version>`, or undefined when it is not installed. */
export async function recordedPackage(
  db: Db,
  home: string,
  name: string,
  version: string,
): Promise<(InstalledPackage & { lockfile: string }) | undefined> {
  const row = await db
    .selectFrom('server_packages')
    .selectAll()
    .where('id', '=', `${name}@${version}`)
    .executeTakeFirst();
  if (row) return { ...fromRow(row), lockfile: row.lockfile };
  return adoptEarlierInstall(db, home, name, version);
}

/**
 * A package installed on this disk before installs were put on record (migration 032) is put on
 * record as it is; one installed since and not on record was removed (by another replica), and
 * is not brought back.
 */
async function adoptEarlierInstall(db: Db, home: string, name: string, version: string) {
  const local = readInstalled(home, name, version);
  if (!local) return undefined;
  const migrated = await sql<{
    timestamp: string;
  }>`select timestamp from kysely_migration where name = '032-server-packages'`
    .execute(db)
    .then((r) => r.rows[0]?.timestamp);
  if (!migrated || local.installedAt >= migrated) return undefined;
  const lockfile = localLockfile(home, name, version);
  await recordInstall(db, local, lockfile);
  return recordedPackage(db, home, name, version);
}

export async function forgetInstall(db: Db, id: string): Promise<void> {
  await db.deleteFrom('server_packages').where('id', '=', id).execute();
}

const notInstalled = (id: string) =>
  new NotFoundError(
    'package_not_installed',
    `${id} is not installed: install it first (paddock servers install ${id}).`,
  );

const SYSTEM = { type: 'system', id: 'paddock' } as const;

/** Lay-outs under way on this replica, so two sessions starting at once fetch once. */
const underWay = new Map<string, Promise<InstalledPackage>>();

/**
 * The installed package `<name>@<version>`, laid out on this replica's disk: as it is when its
 * folder matches the record (root integrity and lockfile hash), else fetched again by the
 * recorded lockfile from the configured registry, every tarball checked against its recorded
 * integrity, the result compared package by package with the record. Any mismatch refuses.
 *
 * @example const p = await packageReady(db, { home, registry }, '@modelcontextprotocol/server-memory', '2026.8.31')
 */
export async function packageReady(
  db: Db,
  source: PackageSource,
  name: string,
  version: string,
): Promise<InstalledPackage> {
  const recorded = await recordedPackage(db, source.home, name, version);
  if (!recorded) throw notInstalled(`${name}@${version}`);
  const { lockfile, ...record } = recorded;
  const local = readInstalled(source.home, name, version);
  if (local && local.integrity === record.integrity && local.lockfileSha256 === record.lockfileSha256)
    return record;
  const key = `${source.home}\0${record.id}`;
  const pending = underWay.get(key);
  if (pending) return pending;
  const laying = (async () => {
    // A folder from another install of that version (removed and installed again elsewhere).
    if (local) removeFolder(packageDir(source.home, name, version));
    const on = { type: 'server_package', id: record.id };
    const replica = hostname();
    try {
      await materializePackage(source, record, lockfile);
    } catch (err) {
      if (PaddockError.isInstance(err))
        await recordAudit(db, {
          orgId: null,
          actor: SYSTEM,
          action: 'server_package.layout.refused',
          target: on,
          outcome: 'denied',
          details: { package: record.id, replica, code: err.code, reason: err.message },
        });
      throw err;
    }
    // Which replicas fetched it, and against which hashes: on the platform's log.
    await recordAudit(db, {
      orgId: null,
      actor: SYSTEM,
      action: 'server_package.laid_out',
      target: on,
      details: {
        package: record.id,
        replica,
        integrity: record.integrity,
        lockfileSha256: record.lockfileSha256,
        registry: source.registry,
      },
    });
    return record;
  })().finally(() => underWay.delete(key));
  underWay.set(key, laying);
  return laying;
}

/** The package a connection names, as text, laid out here; refused when not installed. */
export async function packageReadyFor(db: Db, source: PackageSource, text: string) {
  const { name, version } = parseInstalled(text);
  return packageReady(db, source, name, version);
}

/** Whether this replica's folder of a package exists (for listings: laid out here or not yet). */
export const laidOutHere = (home: string, name: string, version: string) =>
  existsSync(join(packageDir(home, name, version), 'paddock-install.json'));
