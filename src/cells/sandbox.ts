/**
 * Where an org's cell runs. A SandboxProvider turns a cell spec into a running, isolated
 * process: `bubblewrap` on Linux (default), `none` only when explicitly and loudly chosen.
 * Kubernetes renders manifests for a pod per org (see kubernetes.ts).
 */
import type { ChildProcess } from 'node:child_process';
import type { HostUser } from './host-users.ts';

export interface CellSpec {
  orgId: string;
  /** Executable and arguments, as seen inside the sandbox. */
  command: string;
  args: string[];
  /** The only environment the cell gets (the sandbox starts from an empty one). */
  env: Record<string, string>;
  /** `$PADDOCK_HOME`: Paddock's own directory, hidden from the cell but for its folder and socket. */
  home: string;
  /** The cell's (or MCP server's) own writable folder on the host, under `home` (/cell inside). */
  workDir: string;
  /** The org's host user, where the provider runs each org as its own (see `runsAsOrgUsers`). */
  user?: HostUser | undefined;
  /** Host paths the cell may read (its code and runtime); nothing else of the host is visible. */
  readOnly: string[];
  /** Host paths under `readOnly` that must stay hidden (e.g. $PADDOCK_HOME inside the code dir). */
  masked: string[];
  /** The org's egress proxy socket on the host, mounted at /run/paddock/egress.sock. */
  egressSocket?: string | undefined;
  /** Run under Paddock's seccomp filter (its program is read from fd `SECCOMP_FD` at start). */
  seccomp?: boolean | undefined;
  /** The org's cgroup `cgroup.procs` files (memory and process limits), where the host allows. */
  cgroupProcs?: string[] | undefined;
  /** An installed package's folder on the host (under `home`), shown read-only at `inside` (an MCP server's code). */
  packageDir?: { host: string; inside: string } | undefined;
  /** A file handed over a pipe at start and shown read-only at `path` (e.g. secrets: never on disk). */
  dataFile?: { content: string; path: string } | undefined;
}

export interface SandboxCheck {
  ok: boolean;
  /** Why not, in words an operator can act on. */
  reason?: string;
}

export interface SandboxProvider {
  readonly name: 'bubblewrap' | 'none';
  /** Whether this host can run the sandbox (binary present, user namespaces allowed). */
  check(): Promise<SandboxCheck>;
  /** Starts the cell with stdio pipes (fd 0/1 carry the IPC channel; fd 2 is its log). */
  spawn(spec: CellSpec): ChildProcess;
  /**
   * Whether each org's code runs as its own unprivileged host user here (`spec.user` is then
   * required); where not, `guarantees` says why.
   */
  readonly runsAsOrgUsers: boolean;
  /** What is enforced, for `paddock cells` and the docs. */
  readonly guarantees: string[];
}

/** Path of the egress socket as the cell sees it. */
export const CELL_EGRESS_SOCKET = '/run/paddock/egress.sock';
/** Node flags of the cell program: a small heap, and a 1 MB young generation (10 MB less resident). */
export const CELL_NODE_FLAGS = ['--max-old-space-size=64', '--max-semi-space-size=1'];
export const CELL_WORKDIR = '/cell';
