/**
 * Org cells under bubblewrap: cold start to ready, idle memory of a ready cell, and 50 org
 * cells at once on this machine. Baseline for the start: a bare `node -e 0` in the same run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditTrail } from '../src/audit/index.ts';
import { bubblewrap } from '../src/cells/bubblewrap.ts';
import { CellSupervisor } from '../src/cells/supervisor.ts';
import { initOrg, operatorCaller } from '../src/identity/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { openStore } from '../src/store/index.ts';
import { localKeyring, Vault, vaultLogKeys } from '../src/vault/index.ts';
import { figures, report } from './stats.ts';

const COUNT = Number(process.env.BENCH_CELLS ?? 50);
const check = await bubblewrap.check();
if (!check.ok) throw new Error(`bubblewrap is needed: ${check.reason}`);
const home = mkdtempSync(join(tmpdir(), 'paddock-bench-cells-'));
const store = await openStore({ home });
const vault = new Vault(localKeyring(home, {}));
const trail = new AuditTrail({ store, keys: vaultLogKeys(vault), originHost: 'bench', log: silentLogger });
const supervisor = new CellSupervisor({
  store,
  vault,
  audit: trail,
  provider: bubblewrap,
  log: silentLogger,
  home,
});

/** RSS of a process and all its descendants (bwrap + the cell), from /proc. */
function treeRss(pid: number): number {
  const kids = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .filter(Boolean)
    .map(Number);
  const own = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  return own + kids.reduce((s, k) => s + treeRss(k), 0);
}

try {
  const orgs: string[] = [];
  for (let i = 0; i < COUNT; i++)
    orgs.push(
      (await initOrg(store.db, operatorCaller(), { slug: `org-${i}`, ownerEmail: `o@org${i}.test` })).org.id,
    );
  const base: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0']);
    base.push(Number(process.hrtime.bigint() - t0));
  }
  const cold: number[] = [];
  for (const org of orgs) {
    const t0 = process.hrtime.bigint();
    await supervisor.ensure(org);
    cold.push(Number(process.hrtime.bigint() - t0));
  }
  await new Promise((r) => setTimeout(r, 3000)); // let them settle idle
  const all = supervisor.list();
  const ready = all.filter((c) => c.state === 'ready').length;
  const rss = all.map((c) => treeRss(c.pid!) / 2 ** 20).sort((a, b) => a - b);
  const b = figures('baseline: bare `node -e 0` start to exit', base);
  report([b, figures('cell cold start to ready (bubblewrap, one at a time)', cold)], b);
  const at = (q: number) => rss[Math.min(rss.length - 1, Math.floor(q * rss.length))]!.toFixed(1);
  console.log(
    `${ready} of ${COUNT} org cells ready at once; idle RSS per cell (bwrap + node): median ${at(0.5)} MB, p99 ${at(0.99)} MB`,
  );
  const self = process.memoryUsage.rss() / 2 ** 20;
  console.log(`supervisor process RSS with ${COUNT} cells: ${self.toFixed(0)} MB`);
} finally {
  await supervisor.close();
  await trail.close();
  await store.close();
  rmSync(home, { recursive: true, force: true });
}
