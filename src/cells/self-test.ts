/**
 * The sandbox's self-test from the inside: the probe (`probe.ts`) run in a sandbox made exactly
 * as the org's cell is made (its spec, its host user, its seccomp filter), trying what a
 * compromised cell would try — read Paddock's database and master key and the host's files,
 * write outside its folder, reach the host's loopback — and each result held against what the
 * sandbox promises. The capability check (`SandboxProvider.check`) says the sandbox can start;
 * this says what it refuses once started. Evidence of PAD-CELL-01 at every collection.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CellSpec, SandboxProvider } from './sandbox.ts';

const PROBE = fileURLToPath(new URL('./probe.ts', import.meta.url));
/** A probe that has not answered in this long failed. */
const PROBE_TIMEOUT_MS = 15_000;

export interface SelfTestCheck {
  attempt: string;
  expected: 'refused' | 'allowed';
  /** What the probe saw: `refused ENOENT`, `ALLOWED …`. */
  result: string;
  ok: boolean;
}

export interface SelfTest {
  ok: boolean;
  checks: SelfTestCheck[];
  /** Why it could not run, or the first check that did not hold. */
  reason: string | null;
}

/**
 * Runs the probe in a sandbox built from `spec` (the org's cell spec, whose program and
 * arguments are replaced by the probe's).
 *
 * @example
 *   const t = await sandboxSelfTest(bubblewrap, { ...cellSpec(orgId, home, ''), user });
 *   t.ok; // true: every attempt refused but writing its own /cell
 */
export async function sandboxSelfTest(provider: SandboxProvider, spec: CellSpec): Promise<SelfTest> {
  // A listener on the host's loopback: a cell must not reach it (no network but the proxy).
  const host = createServer((s) => s.end()).listen(0, '127.0.0.1');
  await once(host, 'listening');
  const port = (host.address() as { port: number }).port;
  const reads = [join(spec.home, 'paddock.db'), join(spec.home, 'master.key'), '/etc/passwd'];
  try {
    const nodeFlags = spec.args.filter((a) => a.startsWith('--'));
    const proc = provider.spawn({
      ...spec,
      args: [...nodeFlags, PROBE, ...reads, '--connect', `127.0.0.1:${port}`],
    });
    let out = '';
    let err = '';
    proc.stdout?.on('data', (d) => (out += d));
    proc.stderr?.on('data', (d) => (err += d));
    proc.stdin?.end();
    const timer = setTimeout(() => proc.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    const [code] = (await once(proc, 'exit')) as [number | null];
    clearTimeout(timer);
    let seen: Record<string, string>;
    try {
      seen = JSON.parse(out.trim().split('\n').at(-1) ?? '') as Record<string, string>;
    } catch {
      const why = (err.trim().split('\n').at(-1) ?? '').slice(0, 200) || `exit ${code}`;
      return { ok: false, checks: [], reason: `the probe did not run in the sandbox: ${why}` };
    }
    const checks: SelfTestCheck[] = [];
    const expect = (attempt: string, expected: 'refused' | 'allowed') => {
      // What a read returned is never kept: it could be the master key.
      const said = seen[attempt] ?? 'no answer';
      const result = said.startsWith('ALLOWED') ? 'ALLOWED' : said;
      const ok = expected === 'refused' ? result.startsWith('refused') : result.startsWith('ALLOWED');
      checks.push({ attempt, expected, result, ok });
    };
    for (const path of reads) expect(`read ${path}`, 'refused');
    expect('write /usr', 'refused');
    expect(`connect 127.0.0.1:${port}`, 'refused');
    expect('write own /cell', 'allowed');
    // Its own pid namespace: only its own few processes; its environment: only what the spec gives.
    const pids = (seen.processes ?? '').split(',').filter(Boolean);
    checks.push({
      attempt: 'see other processes',
      expected: 'refused',
      result: `${pids.length} processes visible`,
      ok: pids.every((p) => Number(p) < 10),
    });
    const env = (seen.env ?? '').split(',').filter((k) => k && k !== 'PWD');
    const given = new Set(Object.keys(spec.env));
    const extra = env.filter((k) => !given.has(k));
    checks.push({
      attempt: 'read the host environment',
      expected: 'refused',
      result: extra.length ? `ALLOWED ${extra.slice(0, 5).join(',')}` : 'refused: only its own variables',
      ok: extra.length === 0,
    });
    const failed = checks.find((c) => !c.ok);
    return {
      ok: !failed,
      checks,
      reason: failed ? `${failed.attempt}: expected ${failed.expected}, got ${failed.result}` : null,
    };
  } catch (err) {
    return { ok: false, checks: [], reason: `the probe could not start: ${(err as Error).message}` };
  } finally {
    host.close();
  }
}
