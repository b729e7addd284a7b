/** A process's CPU time, read from /proc: to the nanosecond (schedstat), or split user / kernel (stat, in ticks). */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_NS = 1e9 / 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

/** CPU time of a process (user and kernel, every thread, exited ones too), in ns, from /proc/<pid>/stat: 10 ms steps. */
export function statSplitNs(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]) * TICK_NS, system: Number(f[12]) * TICK_NS }; // utime, stime (fields 14 and 15)
}

export function statNs(pid: number): number {
  const { user, system } = statSplitNs(pid);
  return user + system;
}

/** One thread's time on a CPU, in ns (its schedstat's first field). */
const threadNs = (pid: number, tid: string) =>
  Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);

/** The same to the nanosecond: each live thread's time on a CPU, from /proc/<pid>/task/<tid>/schedstat. */
export function schedNs(pid: number): number {
  let ns = 0;
  for (const [, t] of schedNsByThread(pid, false)) ns += t;
  return ns;
}

/**
 * The same by thread kind (its name: `MainThread`, `V8Worker` — compiler and collector helpers —,
 * `libuv-worker`…), or all under one key when `named` is false (no name read).
 */
export function schedNsByThread(pid: number, named = true): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = named ? readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() : '';
      out.set(name, (out.get(name) ?? 0) + threadNs(pid, tid));
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return out;
}
