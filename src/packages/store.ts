/**
 * The package store: `$PADDOCK_HOME/packages/<name>@<version>/`, each a small npm project (its
 * package.json naming the one package, its package-lock.json, its node_modules, and Paddock's
 * install record), read-only once in place. A connection's sandbox sees only its own package's
 * folder, read-only, at `/packages/<name>@<version>`.
 */
import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, normalize, posix } from 'node:path';
import { PaddockError } from '../errors/index.ts';

/** Where a package's folder appears inside the sandbox of a connection that runs it. */
export const SANDBOX_PACKAGES = '/packages';

/** Paddock's record of an install, kept beside the lockfile. */
export const RECORD_FILE = 'paddock-install.json';

export interface InstalledPackage {
  name: string;
  version: string;
  /** `<name>@<version>`, as a connection names it. */
  id: string;
  /** The package's own tarball integrity (SRI, sha512). */
  integrity: string;
  /** Every package in its tree: where, what, and the tarball integrity that was verified. */
  tree: Array<{ location: string; name: string; version: string; integrity: string | null }>;
  /** SHA-256 of its package-lock.json, as stored. */
  lockfileSha256: string;
  registry: string;
  installedAt: string;
  installedBy: string;
}

export const storeDir = (home: string) => join(home, 'packages');

/** The folder of `<name>@<version>` (a scoped name is a folder of its scope). */
export function packageDir(home: string, name: string, version: string): string {
  return join(storeDir(home), `${name}@${version}`);
}

/** Reads an install record, or undefined when that version is not installed (or not whole). */
export function readInstalled(home: string, name: string, version: string): InstalledPackage | undefined {
  const file = join(packageDir(home, name, version), RECORD_FILE);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as InstalledPackage;
}

/**
 * The program a package runs as an MCP server: its `bin` named `bin`, else its only one, else the
 * one named like the package. Relative to the package's folder in the store.
 */
export function binOf(home: string, name: string, version: string, bin?: string | null): string {
  const folder = join('node_modules', ...name.split('/'));
  const manifest = JSON.parse(
    readFileSync(join(packageDir(home, name, version), folder, 'package.json'), 'utf8'),
  ) as { bin?: string | Record<string, string> };
  const bins =
    typeof manifest.bin === 'string'
      ? { [name.split('/').at(-1)!]: manifest.bin }
      : (manifest.bin ?? ({} as Record<string, string>));
  const names = Object.keys(bins);
  const chosen = bin ?? (names.length === 1 ? names[0] : names.find((n) => n === name.split('/').at(-1)));
  const path = chosen === undefined ? undefined : bins[chosen];
  if (path === undefined) {
    throw new PaddockError(
      400,
      'package_bin_unknown',
      names.length === 0
        ? `${name}@${version} has no program to run (no "bin" in its package.json).`
        : `Choose which program of ${name}@${version} to run: "bin" is one of ${names.join(', ')}.`,
    );
  }
  const inside = normalize(path);
  if (inside.startsWith('..') || posix.isAbsolute(inside))
    throw new PaddockError(400, 'package_bin_unknown', `${name}@${version} names a program outside itself.`);
  return join(folder, inside);
}

/** Removes a package's folder (made read-only when installed). */
export function removeFolder(dir: string): void {
  if (!existsSync(dir)) return;
  const writable = (path: string) => {
    const st = lstatSync(path);
    if (!st.isDirectory()) return;
    chmodSync(path, 0o755);
    for (const entry of readdirSync(path)) writable(join(path, entry));
  };
  writable(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** Files 0444 (0555 when executable), folders 0555: nothing in the store is writable once in place. */
export function makeReadOnly(path: string): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    for (const entry of readdirSync(path)) makeReadOnly(join(path, entry));
    chmodSync(path, 0o555);
  } else chmodSync(path, st.mode & 0o111 ? 0o555 : 0o444);
}
