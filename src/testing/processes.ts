/** Test helpers that look at sandboxed processes from the host, in /proc (the host's view). */
import { readFileSync } from 'node:fs';

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Node.js names its main thread, so its process shows as this (`node` before that). */
export const NODE = ['node', 'MainThread'];

/**
 * The first process under `pid` with one of `names` (the program a sandbox runs, below the
 * launcher and the bubblewrap layers), polled for until it is there.
 */
export async function descendantNamed(pid: number, names: string[], timeoutMs = 5000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const queue = [...children(pid)];
    while (queue.length) {
      const p = queue.shift()!;
      if (names.includes(comm(p))) return p;
      queue.push(...children(p));
    }
    if (Date.now() > deadline) throw new Error(`no ${names.join(' or ')} process under ${pid}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A process's real, effective, saved and filesystem uids and gids, as the host sees them. */
export function hostIds(pid: number): { uids: number[]; gids: number[] } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const ids = (key: string) =>
    new RegExp(`^${key}:\\s+(.*)$`, 'm').exec(status)![1]!.trim().split(/\s+/).map(Number);
  return { uids: ids('Uid'), gids: ids('Gid') };
}
