/**
 * Installing an MCP server package from the configured npm registry, with npm's own installer
 * (`@npmcli/arborist`, what `npm install` runs): the tree is resolved first and vetted (every
 * package from the registry itself, each with a sha512 integrity from its packument), then
 * fetched with every tarball checked against that integrity, with no install script run, in a
 * staging folder; it takes its place in the store, read-only, only once whole. A failure at any
 * step leaves nothing in the store.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Arborist, { type ArboristNode } from '@npmcli/arborist';
import { PaddockError } from '../errors/index.ts';
import { checkAllowed, parseRequest } from './spec.ts';
import {
  type InstalledPackage,
  makeReadOnly,
  packageDir,
  RECORD_FILE,
  readInstalled,
  removeFolder,
  storeDir,
} from './store.ts';

export interface InstallSettings {
  home: string;
  /** The npm registry's URL (`PADDOCK_NPM_REGISTRY`). */
  registry: string;
  /** Names and scopes that may be installed (`PADDOCK_SERVER_PACKAGES`). */
  allowlist: string[];
}

export interface InstallOutcome {
  installed: InstalledPackage;
  /** That version was in the store already: nothing was fetched. */
  already: boolean;
}

/** Why an install was refused, with what was checked (for the audit record). */
export class InstallRefusedError extends PaddockError {
  readonly package: string;
  constructor(status: number, code: string, message: string, pkg: string) {
    super(status, code, message);
    this.package = pkg;
  }
}

/**
 * Installs `<name>[@version]`; the allowlist decides first.
 *
 * @example await installPackage({ home, registry, allowlist: ['@modelcontextprotocol/*'] }, '@modelcontextprotocol/server-memory', 'cli:root')
 */
export async function installPackage(
  s: InstallSettings,
  text: string,
  installedBy: string,
): Promise<InstallOutcome> {
  const req = parseRequest(text);
  checkAllowed(req.name, s.allowlist);
  const registry = `${s.registry.replace(/\/+$/, '')}/`;
  const staging = stagingFolder(s.home);
  try {
    let version = req.wanted;
    if (!req.exact) {
      // A range or tag: which version it means now, then that exact version is what is installed.
      const tree = await resolve(staging, registry, req.name, req.wanted);
      version = rootPackage(tree, req.name).version;
    }
    const existing = readInstalled(s.home, req.name, version);
    if (existing) return { installed: existing, already: true };
    const arborist = project(staging, registry, req.name, version);
    const tree = await arborist.buildIdealTree().catch((err: unknown) => {
      throw asRefusal(err, `${req.name}@${version}`);
    });
    vetTree(tree, registry, `${req.name}@${version}`);
    await arborist.reify().catch((err: unknown) => {
      throw asRefusal(err, `${req.name}@${version}`, tree);
    });
    const installed = record(staging, tree, registry, req.name, version, installedBy);
    writeFileSync(join(staging, RECORD_FILE), `${JSON.stringify(installed, null, 2)}\n`);
    removeFolder(join(staging, '.cache'));
    makeReadOnly(staging);
    const target = packageDir(s.home, req.name, version);
    mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
    try {
      renameSync(staging, target);
    } catch (err) {
      // Installed meanwhile by someone else: theirs is the one in the store.
      const theirs = readInstalled(s.home, req.name, version);
      if (theirs) return { installed: theirs, already: true };
      throw err;
    }
    return { installed, already: false };
  } finally {
    removeFolder(staging);
  }
}

/** A fresh folder beside the store (same file system: it moves into place in one rename). */
function stagingFolder(home: string): string {
  mkdirSync(storeDir(home), { recursive: true, mode: 0o755 });
  const base = join(home, 'packages-staging');
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const dir = join(base, randomBytes(8).toString('hex'));
  mkdirSync(dir, { mode: 0o755 });
  return dir;
}

/** The staging folder as an npm project that depends on exactly what was asked for. */
function project(staging: string, registry: string, name: string, wanted: string): Arborist {
  writeFileSync(
    join(staging, 'package.json'),
    `${JSON.stringify({ name: 'paddock-server-package', private: true, dependencies: { [name]: wanted } }, null, 2)}\n`,
  );
  return new Arborist({
    path: staging,
    registry,
    // Its own cache, removed with the staging folder: nothing fetched for one install serves another.
    cache: join(staging, '.cache'),
    ignoreScripts: true,
    audit: false,
    fund: false,
    binLinks: true,
    save: false,
  });
}

async function resolve(
  staging: string,
  registry: string,
  name: string,
  wanted: string,
): Promise<ArboristNode> {
  try {
    return await project(staging, registry, name, wanted).buildIdealTree();
  } catch (err) {
    throw asRefusal(err, `${name}@${wanted}`);
  }
}

function rootPackage(tree: ArboristNode, name: string): ArboristNode {
  const node = tree.children.get(name);
  if (!node) throw new InstallRefusedError(502, 'package_not_found', `${name} did not resolve.`, name);
  return node;
}

/**
 * Every package of the tree comes from the registry itself, as a tarball with a sha512 integrity
 * from its packument (what the fetch is then checked against). A bundled package comes inside
 * its parent's tarball, under the parent's integrity.
 */
function vetTree(tree: ArboristNode, registry: string, pkg: string): void {
  for (const node of tree.inventory.values()) {
    if (node.isRoot || node.inBundle) continue;
    const where = `${node.name}@${node.version} (${node.location})`;
    if (node.isLink || !node.resolved || !node.resolved.startsWith(registry)) {
      throw new InstallRefusedError(
        400,
        'package_source_refused',
        `${where} does not come from the registry (${node.resolved ?? 'a link'}): only registry packages are installed.`,
        pkg,
      );
    }
    if (!node.integrity?.split(/\s+/).some((h) => h.startsWith('sha512-'))) {
      throw new InstallRefusedError(
        502,
        'package_integrity_missing',
        `${where} has no sha512 integrity in its packument: it cannot be verified, so it is not installed.`,
        pkg,
      );
    }
  }
}

function record(
  staging: string,
  tree: ArboristNode,
  registry: string,
  name: string,
  version: string,
  installedBy: string,
): InstalledPackage {
  const nodes = [...tree.inventory.values()].filter((n) => !n.isRoot);
  return {
    name,
    version,
    id: `${name}@${version}`,
    integrity: rootPackage(tree, name).integrity!,
    tree: nodes
      .map((n) => ({ location: n.location, name: n.name, version: n.version, integrity: n.integrity }))
      .sort((a, b) => a.location.localeCompare(b.location)),
    lockfileSha256: createHash('sha256')
      .update(readFileSync(join(staging, 'package-lock.json')))
      .digest('hex'),
    registry,
    installedAt: new Date().toISOString(),
    installedBy,
  };
}

/** npm's errors as Paddock's: what went wrong, in words an operator can act on. */
function asRefusal(err: unknown, pkg: string, tree?: ArboristNode): PaddockError {
  if (PaddockError.isInstance(err)) return err;
  const e = err as Error & { code?: string };
  switch (e.code) {
    case 'EINTEGRITY': {
      // The message quotes the integrity wanted: it names the package whose tarball failed.
      const bad = [...(tree?.inventory.values() ?? [])].find(
        (n) => n.integrity && e.message.includes(n.integrity),
      );
      const which = !bad
        ? `A tarball of ${pkg}`
        : bad.name === pkg.slice(0, pkg.lastIndexOf('@'))
          ? `The tarball of ${pkg}`
          : `The tarball of ${bad.name}@${bad.version} (a dependency of ${pkg})`;
      return new InstallRefusedError(
        502,
        'package_integrity_mismatch',
        `${which} does not match the integrity its registry published: refused, nothing was installed. ${firstLine(e.message)}`,
        pkg,
      );
    }
    case 'E404':
    case 'ETARGET':
      return new InstallRefusedError(
        404,
        'package_not_found',
        `Not in the registry: ${firstLine(e.message)}`,
        pkg,
      );
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'ETIMEDOUT':
    case 'ECONNRESET':
    case 'EAI_AGAIN':
      return new InstallRefusedError(
        502,
        'registry_unreachable',
        `The npm registry did not answer: ${firstLine(e.message)}`,
        pkg,
      );
    default:
      return new InstallRefusedError(
        502,
        'package_install_failed',
        `Installing ${pkg} failed: ${firstLine(e.message)}`,
        pkg,
      );
  }
}

const firstLine = (s: string) => s.split('\n')[0]!.slice(0, 500);

/**
 * Lays out a package that is on record (installed on another replica, or removed from this disk)
 * from its recorded lockfile: only packages from the configured registry, each tarball checked
 * against the lockfile's integrity as it streams in, no install script run, no packument asked
 * for; then the tree on disk must be, package by package, the one recorded at install.
 */
export async function materializePackage(
  s: { home: string; registry: string },
  record: InstalledPackage,
  lockfile: string,
): Promise<InstalledPackage> {
  const registry = `${s.registry.replace(/\/+$/, '')}/`;
  const refuse = (code: string, message: string) =>
    new InstallRefusedError(
      502,
      code,
      `${record.id} cannot be laid out on this replica: ${message}`,
      record.id,
    );
  if (createHash('sha256').update(lockfile).digest('hex') !== record.lockfileSha256)
    throw refuse('package_integrity_mismatch', 'its recorded lockfile does not match its recorded hash.');
  const staging = stagingFolder(s.home);
  try {
    const arborist = project(staging, registry, record.name, record.version);
    writeFileSync(join(staging, 'package-lock.json'), lockfile);
    const tree = await arborist.buildIdealTree().catch((err: unknown) => {
      throw asRefusal(err, record.id);
    });
    vetTree(tree, registry, record.id);
    const reified = await arborist.reify().catch((err: unknown) => {
      throw asRefusal(err, record.id, tree);
    });
    // Every package laid out is one recorded at install, with the same integrity (an optional
    // package for another platform may be recorded and not laid out), the package itself included.
    const want = new Set(record.tree.map((n) => `${n.location} ${n.name}@${n.version} ${n.integrity}`));
    const got = [...reified.inventory.values()].filter((n) => !n.isRoot);
    const stray = got.find((n) => !want.has(`${n.location} ${n.name}@${n.version} ${n.integrity}`));
    if (stray || !got.some((n) => n.location === `node_modules/${record.name}`))
      throw refuse(
        'package_integrity_mismatch',
        stray
          ? `${stray.name}@${stray.version} (${stray.location}) is not in the tree recorded at install.`
          : 'the package itself was not laid out.',
      );
    // The lockfile exactly as recorded (npm may rewrite its layout), and the record beside it.
    writeFileSync(join(staging, 'package-lock.json'), lockfile);
    writeFileSync(join(staging, RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
    removeFolder(join(staging, '.cache'));
    makeReadOnly(staging);
    const target = packageDir(s.home, record.name, record.version);
    mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
    try {
      renameSync(staging, target);
    } catch (err) {
      const theirs = readInstalled(s.home, record.name, record.version);
      if (theirs?.integrity === record.integrity) return record;
      throw err;
    }
    return record;
  } finally {
    removeFolder(staging);
  }
}
