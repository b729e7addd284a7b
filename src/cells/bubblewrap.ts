/**
 * The bubblewrap sandbox: a cell gets its own user, pid, network, ipc, uts and cgroup
 * namespaces, an empty environment, a read-only view of only its runtime and code, a private
 * writable /cell, a fresh /proc showing only its own processes, no network at all (the egress
 * proxy's Unix socket is the one way out), and it dies with its supervisor. When Paddock runs as
 * root, it runs as its org's own unprivileged host user (see host-users.ts).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFolder } from './folders.ts';
import { type HostUser, uidRange, uidRangeProblem } from './host-users.ts';
import { inCgroups, limitsDescription } from './limits.ts';
import {
  CELL_EGRESS_SOCKET,
  CELL_WORKDIR,
  type CellSpec,
  type SandboxCheck,
  type SandboxProvider,
} from './sandbox.ts';
import { SECCOMP_DENIED, seccompProgram, seccompSupported } from './seccomp.ts';

/** The fd bubblewrap reads a `dataFile` from (e.g. an MCP server's secrets). */
export const DATA_FD = 3;
/** The fd bubblewrap reads the seccomp program from. */
export const SECCOMP_FD = 4;

const BWRAP = '/usr/bin/bwrap';
/** util-linux's: a private mount namespace, then the org's user (see `asOrgUser`). */
const UNSHARE = '/usr/bin/unshare';
const SETPRIV = '/usr/bin/setpriv';
const CODE_DIR = fileURLToPath(new URL('../..', import.meta.url));
const CELL_MAIN = fileURLToPath(new URL('./cell-main.ts', import.meta.url));

/** The system directories a dynamically linked runtime needs, bound read-only. */
function systemMounts(): string[] {
  const args: string[] = ['--ro-bind', '/usr', '/usr'];
  // On merged-/usr systems /lib, /lib64, /bin are symlinks into /usr; recreate them as such.
  for (const dir of ['/lib', '/lib64', '/bin', '/sbin']) {
    if (!existsSync(dir)) continue;
    if (lstatSync(dir).isSymbolicLink()) args.push('--symlink', `usr${dir}`, dir);
    else args.push('--ro-bind', dir, dir);
  }
  // TLS roots for the cell's own HTTPS (through the proxy), nothing else of /etc.
  if (existsSync('/etc/ssl/certs')) args.push('--ro-bind', '/etc/ssl/certs', '/etc/ssl/certs');
  return args;
}

/** The sandbox itself: bubblewrap's arguments for a cell spec. */
export function bubblewrapArgs(spec: CellSpec): string[] {
  const args = [
    '--unshare-all', // user, pid, net, ipc, uts, cgroup
    // A user namespace for sure, and none nested inside it; no capabilities even when the
    // server runs as root (root's capabilities would make read-only mounts writable).
    '--unshare-user',
    '--disable-userns',
    '--cap-drop',
    'ALL',
    '--die-with-parent',
    '--new-session',
    '--clearenv',
    '--hostname',
    'cell',
    ...systemMounts(),
    // A private /tmp first: code that lives under the host's /tmp is bound on top of it, not hidden by it.
    '--tmpfs',
    '/tmp',
  ];
  for (const p of spec.readOnly) args.push('--ro-bind', p, p);
  for (const p of spec.masked) if (existsSync(p)) args.push('--tmpfs', p);
  args.push('--bind', spec.workDir, CELL_WORKDIR, '--proc', '/proc', '--dev', '/dev');
  if (spec.packageDir) args.push('--ro-bind', spec.packageDir.host, spec.packageDir.inside);
  if (spec.egressSocket) args.push('--ro-bind', spec.egressSocket, CELL_EGRESS_SOCKET);
  if (spec.dataFile) args.push('--ro-bind-data', String(DATA_FD), spec.dataFile.path);
  if (spec.seccomp) args.push('--seccomp', String(SECCOMP_FD));
  for (const [k, v] of Object.entries(spec.env)) args.push('--setenv', k, v);
  args.push('--chdir', CELL_WORKDIR, '--', spec.command, ...spec.args);
  return args;
}

/**
 * Root's part before the sandbox, when each org runs as its own user. bubblewrap resolves its
 * bind sources as the user it runs as, and that user must not pass through $PADDOCK_HOME, which
 * stays closed (the database and the master key are there). So, as root: a private mount
 * namespace in which $PADDOCK_HOME (or the highest directory above it others cannot pass
 * through) is an empty tmpfs holding only the path to this sandbox's folder and socket (bound
 * from descriptors opened before it was hidden); then the org's user; then the sandbox. Each
 * step execs the next in one process, so bubblewrap's --die-with-parent still answers to
 * Paddock (a root parent without capabilities could not signal the org's user).
 */
const STAGE = [
  'umask 022; H=$1 W=$2 WD=$3 SD=$4 SN=$5 U=$6 G=$7 P=$8; shift 8',
  'exec 7<"$W" || exit 96',
  '[ -z "$SD" ] || exec 8<"$SD" || exit 96',
  '[ -z "$P" ] || exec 9<"$P" || exit 96',
  'mount -t tmpfs -o mode=0755,size=64k paddock "$H" || exit 96',
  'mkdir -p "$WD" && mkdir "$W" && mount -c --bind /proc/self/fd/7 "$W" || exit 96',
  '[ -z "$SD" ] || { mkdir -p "$SD" && : > "$SD/$SN" && mount -c --bind "/proc/self/fd/8/$SN" "$SD/$SN"; } || exit 96',
  '[ -z "$P" ] || { mkdir -p "$P" && mount -c --bind /proc/self/fd/9 "$P"; } || exit 96',
  'exec 7<&- 8<&- 9<&-',
  `exec ${SETPRIV} --reuid="$U" --regid="$G" --clear-groups -- "$@"`,
].join('\n');

/** The directory the tmpfs goes on: the first on the way to `home` that others cannot pass through. */
function hiddenRoot(home: string): string {
  let dir: string = sep;
  for (const part of resolve(home).split(sep).filter(Boolean)) {
    dir = join(dir, part);
    if ((statSync(dir).mode & 0o001) === 0) return dir;
  }
  return home;
}

function asOrgUser(
  spec: Pick<CellSpec, 'home' | 'workDir' | 'egressSocket' | 'packageDir'>,
  user: HostUser,
  sandbox: string[],
): { command: string; args: string[] } {
  const hidden = hiddenRoot(spec.home);
  const rel = spec.egressSocket ? relative(hidden, spec.egressSocket) : '';
  const socket = rel && !rel.startsWith('..') && !isAbsolute(rel) ? spec.egressSocket! : undefined;
  return {
    command: UNSHARE,
    args: [
      ...['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', STAGE, 'stage'],
      ...[hidden, spec.workDir, dirname(spec.workDir)],
      ...(socket ? [dirname(socket), basename(socket)] : ['', '']),
      ...[String(user.uid), String(user.gid), spec.packageDir?.host ?? '', BWRAP],
      ...sandbox,
    ],
  };
}

let orgUsers: { problem: string | null } | undefined;

/**
 * Why each org cannot run as its own host user here, or null when it does: Paddock must be root
 * (to hand out uids), the range free, util-linux's setpriv and unshare present, Paddock's code
 * and Node.js readable by others, and the whole start working as such a user (probed once).
 */
export function orgUsersProblem(): string | null {
  orgUsers ??= { problem: probeOrgUsers() };
  return orgUsers.problem;
}

function probeOrgUsers(): string | null {
  const me = process.getuid?.();
  if (me !== 0)
    return `Paddock does not run as root, so sandboxed code runs as Paddock's own user (uid ${me})`;
  const range = uidRangeProblem();
  if (range) return range;
  for (const tool of [SETPRIV, UNSHARE, '/usr/bin/mount'])
    if (!existsSync(tool))
      return `${tool} is not installed (Debian/Ubuntu: apt-get install util-linux mount)`;
  const probe = { uid: uidRange().base, gid: uidRange().base };
  const readable = spawnSync(
    '/bin/sh',
    ['-c', 'test -r "$1" && test -x "$2"', 'sh', CELL_MAIN, process.execPath],
    { ...probe, timeout: 5000 },
  );
  if (readable.status !== 0)
    return `Paddock's code (${CODE_DIR}) or Node.js (${process.execPath}) is not readable by other users; install them where they are (e.g. /opt/paddock)`;
  const home = mkdtempSync(join(tmpdir(), 'paddock-users-probe-'));
  try {
    const spec = { home, workDir: join(home, 'cells', 'probe', 'cell') };
    makeFolder(home, spec.workDir, probe);
    const sandbox = [
      '--unshare-all',
      '--unshare-user',
      '--disable-userns',
      '--cap-drop',
      'ALL',
      ...systemMounts(),
    ];
    const l = asOrgUser(spec, probe, [...sandbox, '--bind', spec.workDir, CELL_WORKDIR, '--', '/bin/true']);
    const r = spawnSync(l.command, l.args, { encoding: 'utf8', timeout: 5000 });
    if (r.status !== 0)
      return `a sandbox does not start as an unprivileged user here: ${(r.stderr || r.error?.message || 'unknown error').trim()}`;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  return null;
}

/** Never root, never the owner of $PADDOCK_HOME: checked at every start, whatever the store says. */
function checkedUser(spec: CellSpec): HostUser | undefined {
  if (orgUsersProblem() !== null) return undefined;
  const user = spec.user;
  if (!user) throw new Error(`cell of ${spec.orgId}: no host user given, and cells never run as root`);
  const owner = statSync(spec.home, { throwIfNoEntry: false })?.uid;
  if (user.uid === 0 || user.gid === 0 || user.uid === owner)
    throw new Error(`cell of ${spec.orgId}: host user ${user.uid} is root or owns ${spec.home}`);
  return user;
}

export const bubblewrap: SandboxProvider = {
  name: 'bubblewrap',
  get runsAsOrgUsers() {
    return orgUsersProblem() === null;
  },
  get guarantees() {
    const users = orgUsersProblem();
    return [
      'own user, pid, network, ipc, uts and cgroup namespaces',
      'empty environment; read-only runtime and code; a private writable /cell (one folder per cell and per MCP server session); fresh /proc',
      users === null
        ? `own unprivileged host user per org (uid = gid, from ${uidRange().base}): never root, never the owner of $PADDOCK_HOME`
        : `not enforced here: a host user per org (${users})`,
      'no network interfaces but loopback: egress only through the proxy socket',
      'killed with its supervisor (--die-with-parent)',
      seccompSupported()
        ? `seccomp filter: EPERM for ${SECCOMP_DENIED.length} system calls (ptrace, mount, unshare, bpf, perf, io_uring, kernel keys and modules, clock and host changes, …)`
        : `not enforced here: a seccomp filter (only x86-64 is supported; this is ${process.arch})`,
      limitsDescription(),
    ];
  },
  async check(): Promise<SandboxCheck> {
    if (!existsSync(BWRAP)) {
      return {
        ok: false,
        reason: 'bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap).',
      };
    }
    const r = spawnSync(BWRAP, ['--unshare-all', '--ro-bind', '/', '/', '--', '/bin/true'], {
      encoding: 'utf8',
      timeout: 5000,
    });
    if (r.status !== 0) {
      return {
        ok: false,
        reason: `bubblewrap cannot create namespaces here: ${(r.stderr || r.error?.message || 'unknown error').trim()}. Allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) or run where they are permitted.`,
      };
    }
    return { ok: true };
  },
  spawn(spec: CellSpec): ChildProcess {
    const user = checkedUser(spec);
    makeFolder(spec.home, spec.workDir, user);
    const sandbox = bubblewrapArgs(spec);
    // In the org's cgroups first (as root), then, where it applies, the org's user.
    const start = user ? asOrgUser(spec, user, sandbox) : { command: BWRAP, args: sandbox };
    const l = inCgroups(spec.cgroupProcs ?? [], start.command, start.args);
    const proc = spawn(l.command, l.args, {
      stdio: ['pipe', 'pipe', 'pipe', spec.dataFile ? 'pipe' : 'ignore', spec.seccomp ? 'pipe' : 'ignore'],
      env: l.env,
    });
    // bwrap gone before reading these: its exit tells whoever started it.
    for (const [fd, content] of [
      [DATA_FD, spec.dataFile?.content],
      [SECCOMP_FD, spec.seccomp ? seccompProgram() : undefined],
    ] as const) {
      const pipe = proc.stdio[fd] as NodeJS.WritableStream | null;
      pipe?.on('error', () => undefined);
      if (content !== undefined) pipe?.end(content);
    }
    return proc;
  },
};
