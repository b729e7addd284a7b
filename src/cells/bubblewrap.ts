/**
 * The bubblewrap sandbox: a cell gets its own user, pid, network, ipc, uts and cgroup
 * namespaces, an empty environment, a read-only view of only its runtime and code, a private
 * writable /cell, a fresh /proc showing only its own processes, no network at all (the egress
 * proxy's Unix socket is the one way out), and it dies with its supervisor.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync } from 'node:fs';
import { inCgroups, limitsDescription } from './limits.ts';
import { SECCOMP_DENIED, seccompProgram, seccompSupported } from './seccomp.ts';

/** The fd bubblewrap reads the seccomp program from. */
export const SECCOMP_FD = 4;

import {
  CELL_EGRESS_SOCKET,
  CELL_WORKDIR,
  type CellSpec,
  type SandboxCheck,
  type SandboxProvider,
} from './sandbox.ts';

const BWRAP = '/usr/bin/bwrap';

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

export function bubblewrapArgs(spec: CellSpec): string[] {
  mkdirSync(spec.workDir, { recursive: true, mode: 0o700 });
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
  if (spec.egressSocket) args.push('--ro-bind', spec.egressSocket, CELL_EGRESS_SOCKET);
  if (spec.dataFile) args.push('--ro-bind-data', String(spec.dataFile.fd), spec.dataFile.path);
  if (spec.seccomp) args.push('--seccomp', String(SECCOMP_FD));
  for (const [k, v] of Object.entries(spec.env)) args.push('--setenv', k, v);
  args.push('--chdir', CELL_WORKDIR, '--', spec.command, ...spec.args);
  return args;
}

export const bubblewrap: SandboxProvider = {
  name: 'bubblewrap',
  get guarantees() {
    return [
      'own user, pid, network, ipc, uts and cgroup namespaces',
      'empty environment; read-only runtime and code; private writable /cell; fresh /proc',
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
    const l = inCgroups(spec.cgroupProcs ?? [], BWRAP, bubblewrapArgs(spec));
    const proc = spawn(l.command, l.args, {
      stdio: ['pipe', 'pipe', 'pipe', 'ignore', spec.seccomp ? 'pipe' : 'ignore'],
      env: l.env,
    });
    const fd = proc.stdio[SECCOMP_FD] as NodeJS.WritableStream | null;
    fd?.on('error', () => undefined); // bwrap gone before reading it: its exit tells the supervisor
    if (spec.seccomp) fd?.end(seccompProgram());
    return proc;
  },
};
