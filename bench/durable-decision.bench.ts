/**
 * What the gate's decision record costs, one at a time (the MCP endpoint at concurrency 1): CPU
 * time per record, in user space and in the kernel, of the embedded store's durable `append`
 * (one transaction, its WAL pages written and fdatasync'd), against, in the same run and
 * interleaved in rounds: the same record journaled without a sync and placed in batches
 * (`appendWritten`, as result records go), and the floor of any durable design at concurrency 1 —
 * the record's line written to a preallocated file and fdatasync'd (what a journal with group
 * commit would pay per decision before placing it). On the real disk (a folder of the working
 * tree): syncs cost what they cost.
 *
 *   npm run -s bench -- durable-decision      (BENCH_DECISION_N=… records per way, default 3000)
 */
import { fdatasync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AuditTrail, prepareEntry } from '../src/audit/index.ts';
import { initOrg, operatorCaller } from '../src/identity/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { openStore } from '../src/store/index.ts';
import { localKeyring, Vault, vaultLogKeys } from '../src/vault/index.ts';
import { figures, report } from './stats.ts';

const N = Number(process.env.BENCH_DECISION_N ?? 3000);
const ROUND = 100;

const home = mkdtempSync(join(process.cwd(), '.bench-decision-'));
const store = await openStore({ home });
try {
  const { org } = await initOrg(store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
  const trail = new AuditTrail({
    store,
    keys: vaultLogKeys(new Vault(localKeyring(home, {}))),
    originHost: 'bench.local',
    log: silentLogger,
  });
  trail.start();
  // A decision as the gate records it for an `echo` call.
  const decision = (n: number) => ({
    orgId: org.id,
    actor: { type: 'agent' as const, id: 'agt_bench' },
    action: 'tool.call.allowed',
    target: { type: 'tool', id: 'con_bench/echo' },
    requestId: `req_${n}`,
    details: {
      calledAs: 'everything__echo',
      grants: ['grt_bench'],
      policyVersion: 'pv_bench',
      approvalId: null,
      args: { message: 'status: ok' },
      onBehalfOf: null,
    },
  });
  // The floor: a file written ahead of time (no size change, so a sync carries no metadata).
  const floorFd = openSync(join(home, 'floor'), 'w+', 0o600);
  writeSync(floorFd, Buffer.alloc(Math.max(16 << 20, N * 4096))); // a line is about 1.1 kB
  await new Promise((r) => fdatasync(floorFd, r));
  let floorAt = 0;
  const ways: Array<[string, (n: number) => Promise<unknown>]> = [
    [
      'journal line + fdatasync (floor)',
      (n) => {
        floorAt += writeSync(floorFd, `${JSON.stringify(prepareEntry(decision(n)))}\n`, floorAt);
        return new Promise((r) => fdatasync(floorFd, r));
      },
    ],
    ['append: transaction + WAL sync (today)', (n) => trail.append(decision(n))],
    ['appendWritten: journaled, batched, no sync', (n) => trail.appendWritten(decision(n))],
  ];
  const cpu = ways.map(() => ({ user: 0, system: 0 }));
  const samples = ways.map(() => [] as number[]);
  for (let i = 0; i < 300; i++) await trail.append(decision(i)); // warm-up
  for (let done = 0; done < N; done += ROUND) {
    for (const [w, [, fn]] of ways.entries()) {
      const c0 = process.cpuUsage();
      for (let i = 0; i < ROUND; i++) {
        const t0 = process.hrtime.bigint();
        await fn(done + i);
        samples[w]!.push(Number(process.hrtime.bigint() - t0));
      }
      // Batched work (placing journaled records) is the round's too.
      await trail.flush();
      const c = process.cpuUsage(c0);
      cpu[w]!.user += c.user / 1000;
      cpu[w]!.system += c.system / 1000;
    }
  }
  const rows = ways.map(([name], w) => figures(name, samples[w]!));
  report(rows, rows[0]);
  const floor = cpu[0]!.user + cpu[0]!.system;
  for (const [w, [name]] of ways.entries()) {
    const { user, system } = cpu[w]!;
    console.log(
      `  CPU per record, ${name}: ${((user + system) / N).toFixed(3)} ms (user ${(user / N).toFixed(3)}, kernel ${(system / N).toFixed(3)}; ×${((user + system) / floor).toFixed(2)} of the floor)`,
    );
  }
  const { fdatasyncs } = store.syncStats!();
  console.log(`  WAL fdatasyncs in all: ${fdatasyncs}`);
  await trail.close();
} finally {
  await store.close();
  rmSync(home, { recursive: true, force: true });
}
