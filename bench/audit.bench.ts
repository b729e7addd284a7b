/**
 * The audit log on embedded SQLite (WAL fdatasync'd before each acknowledgment, so every one is durable):
 * group-commit throughput, acknowledgment latency at a steady 1,000 events/s, full verification
 * speed, and inclusion-proof time in a 1,000,000-entry log. Baselines in the same run: plain
 * batched inserts of the same rows with no tree, one indexed lookup, and reading + hashing rows.
 *   BENCH_AUDIT_N (default 100000) events for throughput/verify; BENCH_AUDIT_BIG (default 1000000).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { entryRow } from '../src/audit/entry.ts';
import { AuditTrail, prepareEntry, recordAudit, verifyLog } from '../src/audit/index.ts';
import { initOrg, operatorCaller } from '../src/identity/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { openStore, type Store } from '../src/store/index.ts';
import { localKeyring, Vault, vaultLogKeys } from '../src/vault/index.ts';
import { figures, report } from './stats.ts';

const N = Number(process.env.BENCH_AUDIT_N ?? 100_000);
const BIG = Number(process.env.BENCH_AUDIT_BIG ?? 1_000_000);
const WAKE = Number(process.env.BENCH_AUDIT_WAKE ?? 100);
const actor = { type: 'agent' as const, id: 'agt_bench' };
const details = {
  tool: 'github.create_issue',
  args: { repo: 'acme/api', title: 'Flaky test in CI' },
  durationMs: 42,
};

async function setup(databaseUrl?: string, onCommitted?: (logIds: string[]) => void) {
  const home = mkdtempSync(join(tmpdir(), 'paddock-bench-audit-'));
  const store = await openStore({ home, databaseUrl });
  const { org } = await initOrg(store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
  const trail = new AuditTrail({
    store,
    keys: vaultLogKeys(new Vault(localKeyring(home, {}))),
    originHost: 'bench.local',
    log: silentLogger,
    ...(onCommitted ? { onCommitted } : {}),
  });
  await trail.flush();
  return { home, store, orgId: org.id, trail };
}

/** Appends `n` events with up to `inFlight` waiting at once; returns events per second. */
async function throughput(trail: AuditTrail, orgId: string, n: number, inFlight: number): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      await trail.append({ orgId, actor, action: 'tool.call.allowed', details });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return n / ((performance.now() - t0) / 1000);
}

async function baselineInserts(store: Store, n: number): Promise<number> {
  const t0 = performance.now();
  for (let at = 0; at < n; at += 5000) {
    await store.db.transaction().execute(async (trx) => {
      const rows = [];
      for (let i = 0; i < Math.min(5000, n - at); i++) {
        const e = prepareEntry({ orgId: 'baseline', actor, action: 'tool.call.allowed', details });
        rows.push({ ...entryRow(e), idx: at + i, erased_at: null, erased_by: null });
      }
      for (let i = 0; i < rows.length; i += 500)
        await trx
          .insertInto('audit_entries')
          .values(rows.slice(i, i + 500))
          .execute();
    });
  }
  return n / ((performance.now() - t0) / 1000);
}

/** Open loop: one append every 1 ms for `seconds`; returns each acknowledgment's latency in ns. */
async function steadyLatency(trail: AuditTrail, orgId: string, seconds: number): Promise<number[]> {
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < seconds * 1000) {
    const due = Math.floor(performance.now() - start);
    while (sent < due) {
      sent++;
      const t0 = process.hrtime.bigint();
      pending.push(
        trail.append({ orgId, actor, action: 'tool.call.allowed', details }).then(() => {
          latencies.push(Number(process.hrtime.bigint() - t0));
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  return latencies;
}

/**
 * Commits `n` changes one at a time, each recording its entry in its transaction, at random
 * moments (0–250 ms apart, so no poll period can line up with them); returns, for each, the
 * time from its commit to the writer's commit that placed it, in ns.
 */
async function wakeUp(databaseUrl: string | undefined, n: number): Promise<number[]> {
  let placed: (() => void) | undefined;
  let orgId = '';
  const { home, store, trail, ...made } = await setup(databaseUrl, (logs) => {
    if (logs.includes(orgId)) placed?.();
  });
  orgId = made.orgId;
  trail.start();
  await trail.flush();
  const out: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      await sleep(Math.random() * 250);
      const seen = new Promise<void>((r) => {
        placed = r;
      });
      await store.db
        .transaction()
        .execute((trx) => recordAudit(trx, { orgId, actor, action: 'team.created', details }));
      const t0 = process.hrtime.bigint();
      await seen;
      out.push(Number(process.hrtime.bigint() - t0));
    }
  } finally {
    await trail.close();
    await store.close();
    rmSync(home, { recursive: true, force: true });
  }
  return out;
}

const out: string[] = [];
if (WAKE > 0) {
  const rows = [
    figures('wake-up: change commit → entry in the tree (SQLite)', await wakeUp(undefined, WAKE)),
  ];
  const pg = process.env.BENCH_AUDIT_DATABASE_URL;
  if (pg)
    rows.push(figures('wake-up: change commit → entry in the tree (PostgreSQL)', await wakeUp(pg, WAKE)));
  report(rows);
}
{
  const { home, store, orgId, trail } = await setup();
  try {
    const rate = await throughput(trail, orgId, N, 2000);
    const base = await baselineInserts(store, N);
    out.push(
      `durable appends, group commit, 2000 in flight: ${Math.round(rate).toLocaleString('en')} events/s over ${N.toLocaleString('en')} (baseline: plain batched inserts, no tree: ${Math.round(base).toLocaleString('en')} rows/s; ratio ${(rate / base).toFixed(2)})`,
    );

    const lat = await steadyLatency(trail, orgId, 5);
    report([figures('ack latency at 1,000 events/s (5 s, open loop)', lat)]);

    await trail.checkpoint(orgId);
    const size = (await trail.checkpoint(orgId)).size;
    const t0 = performance.now();
    const r = await verifyLog(store.db, orgId);
    const verifyRate = size / ((performance.now() - t0) / 1000);
    if (!r.ok) throw new Error(`verify failed: ${r.problem?.message}`);
    const t1 = performance.now();
    let count = 0;
    for (let at = 0; at < size; at += 5000) {
      const rows = await store.db
        .selectFrom('audit_entries')
        .select(['leaf', 'leaf_hash'])
        .where('log_id', '=', orgId)
        .where('idx', '>=', at)
        .where('idx', '<', at + 5000)
        .execute();
      for (const row of rows)
        if (createHash('sha256').update(Buffer.of(0)).update(row.leaf!).digest('base64') === row.leaf_hash)
          count++;
    }
    const readRate = count / ((performance.now() - t1) / 1000);
    out.push(
      `verify: ${Math.round(verifyRate).toLocaleString('en')} entries/s over ${size.toLocaleString('en')} (every leaf and its tree position, ${r.checkpoints} signed checkpoints; baseline read+hash only: ${Math.round(readRate).toLocaleString('en')}/s; ratio ${(verifyRate / readRate).toFixed(2)})`,
    );
    const t2 = performance.now();
    const deep = await verifyLog(store.db, orgId, { deep: true });
    if (!deep.ok) throw new Error(`deep verify failed: ${deep.problem?.message}`);
    out.push(
      `verify --deep (also every inner tree node): ${Math.round(size / ((performance.now() - t2) / 1000)).toLocaleString('en')} entries/s`,
    );
  } finally {
    await trail.close();
    await store.close();
    rmSync(home, { recursive: true, force: true });
  }
}
if (BIG > 0) {
  const { home, store, orgId, trail } = await setup();
  try {
    const t0 = performance.now();
    for (let done = 0; done < BIG; done += 50_000)
      await throughput(trail, orgId, Math.min(50_000, BIG - done), 2000);
    const buildS = (performance.now() - t0) / 1000;
    const size = (await trail.checkpoint(orgId)).size;
    const proofs: number[] = [];
    const lookups: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const index = Math.floor(Math.random() * size);
      let t = process.hrtime.bigint();
      await trail.inclusionProof(orgId, index);
      proofs.push(Number(process.hrtime.bigint() - t));
      t = process.hrtime.bigint();
      await store.db
        .selectFrom('audit_nodes')
        .select('hash')
        .where('log_id', '=', orgId)
        .where('last_idx', '=', index)
        .where('level', '=', 0)
        .executeTakeFirst();
      lookups.push(Number(process.hrtime.bigint() - t));
    }
    out.push(
      `built a ${size.toLocaleString('en')}-entry log in ${buildS.toFixed(1)} s (${Math.round(size / buildS).toLocaleString('en')} events/s)`,
    );
    const base = figures('baseline: one indexed node lookup', lookups);
    report(
      [base, figures(`inclusion proof in a ${size.toLocaleString('en')}-entry log (random index)`, proofs)],
      base,
    );
  } finally {
    await trail.close();
    await store.close();
    rmSync(home, { recursive: true, force: true });
  }
}
for (const line of out) console.log(line);
