/**
 * The system packages the test suite needs, in one list: `npm test` installs the missing ones
 * before anything else (CI relies on it), so a fresh Debian or Ubuntu machine needs no other step.
 * As root it runs apt-get; otherwise `sudo -n` when that needs no password; otherwise it stops at
 * once with the one command that installs them.
 *
 * @example
 *   const stopped = ensureSystemPackages();
 *   if (stopped) { process.stderr.write(stopped); process.exit(1); }
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { postgresBinDir } from './postgres.ts';

export interface SystemPackage {
  /** The Debian/Ubuntu package name. */
  name: string;
  why: string;
  present(env: NodeJS.ProcessEnv): boolean;
}

const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

export const SYSTEM_PACKAGES: SystemPackage[] = [
  {
    name: 'bubblewrap',
    why: 'org cells and MCP servers run in its sandbox',
    present: () => existsSync('/usr/bin/bwrap'),
  },
  { name: 'chromium', why: 'the dashboard test drives it', present: () => existsSync('/usr/bin/chromium') },
  {
    name: 'postgresql',
    why: 'storage tests run on a throwaway PostgreSQL too',
    present: (env) => Boolean(env.PADDOCK_TEST_DATABASE_URL) || postgresBinDir() !== undefined,
  },
  {
    name: 'python3',
    why: 'the seccomp test makes raw system calls with it',
    present: () => existsSync('/usr/bin/python3'),
  },
  { name: 'curl', why: "the README tour's commands use it", present: () => onPath('curl') },
];

export function missingPackages(env: NodeJS.ProcessEnv = process.env): string[] {
  return SYSTEM_PACKAGES.filter((p) => !p.present(env)).map((p) => p.name);
}

export interface Host {
  root: boolean;
  /** `sudo -n true` succeeds: sudo without a password prompt. */
  sudo: boolean;
  aptGet: boolean;
}

export type Plan =
  | { kind: 'ready' }
  | { kind: 'install'; commands: string[][] }
  | { kind: 'stop'; message: string };

const APT_INSTALL = ['apt-get', 'install', '-y', '-qq', '--no-install-recommends'];

/** What to do about the missing packages on this host. */
export function plan(missing: string[], host: Host): Plan {
  if (missing.length === 0) return { kind: 'ready' };
  const list = missing.join(' ');
  const needs = `npm test needs system packages that are missing: ${list}`;
  if (!host.aptGet) {
    return {
      kind: 'stop',
      message: `${needs}.\nInstall them with your system's package manager (they are Debian/Ubuntu package names), then run npm test again.\n`,
    };
  }
  if (host.root || host.sudo) {
    const as = host.root ? [] : ['sudo', '-n'];
    const env = ['env', 'DEBIAN_FRONTEND=noninteractive'];
    return {
      kind: 'install',
      commands: [
        [...as, 'apt-get', 'update', '-qq'],
        [...as, ...env, ...APT_INSTALL, ...missing],
      ],
    };
  }
  return {
    kind: 'stop',
    message: `${needs}.\nInstall them, then run npm test again:\n  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${list}\n`,
  };
}

function probeHost(): Host {
  return {
    root: process.getuid?.() === 0,
    sudo: onPath('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0,
    aptGet: onPath('apt-get'),
  };
}

/** Installs what is missing when it can. Returns why it stopped, or undefined when all is there. */
export function ensureSystemPackages(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const missing = missingPackages(env);
  const p = plan(missing, missing.length ? probeHost() : { root: false, sudo: false, aptGet: false });
  if (p.kind === 'ready') return undefined;
  if (p.kind === 'stop') return p.message;
  process.stdout.write(`\n== installing system packages: ${missing.join(' ')}\n`);
  for (const [cmd, ...args] of p.commands) {
    if (spawnSync(cmd!, args, { stdio: 'inherit' }).status !== 0)
      return `Installing ${missing.join(' ')} failed (${[cmd, ...args].join(' ')}); see its output above.\n`;
  }
  const still = missingPackages(env);
  return still.length ? `Still missing after installing: ${still.join(' ')}.\n` : undefined;
}
