/**
 * Memory and process limits per organization, where the host lets Paddock manage cgroups
 * (v2 unified, or v1 `memory` and `pids` hierarchies; typically when run as root or with a
 * delegated cgroup). An org's cell and every MCP server it runs share one group, so one org
 * cannot exhaust the machine's memory or process table. Where no cgroup is writable, nothing
 * is enforced and the cells page says so.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface OrgLimits {
  memoryBytes: number;
  pids: number;
}

/** Defaults, or `PADDOCK_ORG_MEMORY_MB` / `PADDOCK_ORG_PIDS`. */
export function orgLimits(env: NodeJS.ProcessEnv = process.env): OrgLimits {
  const mb = Number(env.PADDOCK_ORG_MEMORY_MB ?? 4096);
  const pids = Number(env.PADDOCK_ORG_PIDS ?? 1024);
  return {
    memoryBytes: Math.max(64, Number.isFinite(mb) ? mb : 4096) * 2 ** 20,
    pids: Math.max(8, Number.isFinite(pids) ? pids : 1024),
  };
}

type Layout =
  | { kind: 'v2'; root: string }
  | { kind: 'v1'; memory: string; pids: string }
  | { kind: 'none'; why: string };

function writable(dir: string): boolean {
  try {
    const probe = join(dir, 'paddock');
    mkdirSync(probe, { recursive: true });
    return true;
  } catch {
    return false;
  }
}

function detect(root: string): Layout {
  const controllers = join(root, 'cgroup.controllers');
  if (existsSync(controllers)) {
    const have = readFileSync(controllers, 'utf8').split(/\s+/);
    if (have.includes('memory') && have.includes('pids') && writable(root)) return { kind: 'v2', root };
    return { kind: 'none', why: 'the cgroup v2 hierarchy is not writable here, or lacks memory/pids' };
  }
  const memory = join(root, 'memory');
  const pids = join(root, 'pids');
  // (The root of a v1 `pids` hierarchy has no pids.max of its own; its children do.)
  if (existsSync(join(memory, 'memory.limit_in_bytes')) && existsSync(join(pids, 'cgroup.procs'))) {
    if (writable(memory) && writable(pids)) return { kind: 'v1', memory, pids };
  }
  return { kind: 'none', why: 'no writable memory and pids cgroups here' };
}

let layout: Layout | undefined;
const made = new Map<string, string[]>();
/** The last failure to set up an org's group (limits are then not enforced for it). */
let setupError: string | undefined;

/** What is enforced, in words (for the sandbox's guarantees). */
export function limitsDescription(root = '/sys/fs/cgroup'): string {
  layout ??= detect(root);
  const l = orgLimits();
  if (layout.kind === 'none') return `not enforced here (${layout.why}): memory and process limits`;
  if (setupError) return `not enforced: setting up an org's cgroup failed (${setupError})`;
  return `per-org cgroup (${layout.kind}): ${Math.round(l.memoryBytes / 2 ** 20)} MiB of memory, ${l.pids} processes for the cell and its MCP servers together`;
}

/**
 * The `cgroup.procs` files an org's processes must be placed in (the group is made on first
 * use, with the current limits), or [] where limits cannot be enforced.
 */
export function orgCgroupProcs(orgId: string, root = '/sys/fs/cgroup'): string[] {
  layout ??= detect(root);
  const l = orgLimits();
  const key = `${orgId}:${l.memoryBytes}:${l.pids}`;
  const known = made.get(key);
  if (known) return known;
  const name = orgId.replace(/[^A-Za-z0-9_-]/g, '_');
  let procs: string[] = [];
  try {
    if (layout.kind === 'v2') {
      const parent = join(layout.root, 'paddock');
      writeFileSync(join(layout.root, 'cgroup.subtree_control'), '+memory +pids');
      writeFileSync(join(parent, 'cgroup.subtree_control'), '+memory +pids');
      const dir = join(parent, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'memory.max'), String(l.memoryBytes));
      // No swap beyond the limit (where the host has swap accounting).
      if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
      writeFileSync(join(dir, 'pids.max'), String(l.pids));
      procs = [join(dir, 'cgroup.procs')];
    } else if (layout.kind === 'v1') {
      const mem = join(layout.memory, 'paddock', name);
      const pid = join(layout.pids, 'paddock', name);
      mkdirSync(mem, { recursive: true });
      mkdirSync(pid, { recursive: true });
      // Memory plus swap capped at the same figure, where the host has swap accounting (v1 wants
      // memsw ≥ memory at every step: lifted first, then set).
      const memsw = join(mem, 'memory.memsw.limit_in_bytes');
      if (existsSync(memsw)) writeFileSync(memsw, '-1');
      writeFileSync(join(mem, 'memory.limit_in_bytes'), String(l.memoryBytes));
      if (existsSync(memsw)) writeFileSync(memsw, String(l.memoryBytes));
      writeFileSync(join(pid, 'pids.max'), String(l.pids));
      procs = [join(mem, 'cgroup.procs'), join(pid, 'cgroup.procs')];
    }
  } catch (err) {
    // Said where the guarantees are shown, and tried again next time (no cached failure).
    setupError = (err as Error).message;
    return [];
  }
  setupError = undefined;
  made.set(key, procs);
  return procs;
}

/**
 * Starts `command` inside the org's cgroups: a shell puts itself in them, then execs the
 * command, so not even the sandbox's first process runs outside the limits.
 */
export function inCgroups(
  procs: string[],
  command: string,
  args: string[],
): { command: string; args: string[]; env: Record<string, string> } {
  if (procs.length === 0) return { command, args, env: {} };
  const script =
    'IFS=:; for f in $PADDOCK_CGROUP_PROCS; do echo $$ > "$f" || exit 97; done; unset IFS PADDOCK_CGROUP_PROCS; exec "$0" "$@"';
  return {
    command: '/bin/sh',
    args: ['-c', script, command, ...args],
    env: { PADDOCK_CGROUP_PROCS: procs.join(':') },
  };
}
