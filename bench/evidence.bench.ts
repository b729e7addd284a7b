/**
 * The evidence package over a large log (embedded SQLite on the real disk): building the package
 * for an org whose period holds BENCH_EVIDENCE_N audit entries (default 1,000,000), and
 * `paddock evidence verify` of it, each in a process of its own so its peak resident memory is
 * its own (targets: each under 30 s; the build under 1 GB). Baselines in the same run: writing
 * the same entries' headers to a plain file (no ZIP, no proofs, no report), and reading the
 * package's files and hashing them (no proofs, no figures). The log is built as the audit bench
 * builds it: durable group-committed appends, 2,000 in flight.
 *   BENCH_EVIDENCE_N shrinks it (e.g. 20000 for a quick run).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { AuditTrail, exportLeaves } from '../src/audit/index.ts';
import { buildPackage } from '../src/compliance/package/build.ts';
import { openArchive } from '../src/compliance/package/read-zip.ts';
import { figureRecord, plainRecord, staticSource } from '../src/compliance/package/testing.ts';
import { verifyPackage } from '../src/compliance/package/verify.ts';
import type { ControlResult, EvidenceRecord } from '../src/compliance/types.ts';
import { initOrg, operatorCaller, requireOrgBySlug } from '../src/identity/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { openStore } from '../src/store/index.ts';
import { localKeyring, Vault, vaultLogKeys } from '../src/vault/index.ts';
import { agentsAtWork, appendActivity } from './activity-log.ts';

const N = Number(process.env.BENCH_EVIDENCE_N ?? 1_000_000);
const SELF = fileURLToPath(import.meta.url);
const CONTROLS = [
  {
    id: 'PAD-GATE-01',
    title: 'Default-deny tool permissions',
    description: 'Calls need a grant.',
    criteria: ['CC6.1', 'CC6.3'],
  },
  {
    id: 'PAD-LOG-01',
    title: 'Tamper-evident audit log',
    description: 'Every action is in a Merkle log.',
    criteria: ['CC7.2'],
  },
  {
    id: 'PAD-ACC-01',
    title: 'Roles and access removal',
    description: 'People hold roles.',
    criteria: ['CC6.2'],
  },
];

const trailOf = (store: Awaited<ReturnType<typeof openStore>>, home: string) =>
  new AuditTrail({
    store,
    keys: vaultLogKeys(new Vault(localKeyring(home, {}))),
    originHost: 'bench.local',
    log: silentLogger,
  });

const peak = () => Math.round(process.resourceUsage().maxRSS / 1024);

/** Child: builds the package (or the baseline export) and prints its time and peak RSS as JSON. */
async function child(mode: string, home: string, input: string, out: string): Promise<void> {
  const store = await openStore({ home });
  const trail = trailOf(store, home);
  const org = await requireOrgBySlug(store.db, 'acme');
  const { records, results, period } = JSON.parse(readFileSync(input, 'utf8')) as {
    records: EvidenceRecord[];
    results: ControlResult[];
    period: { from: string; to: string };
  };
  const t0 = performance.now();
  if (mode === 'baseline') {
    const [a, b] = records.find((r) => r.log)!.log!.range;
    const sink = createWriteStream(out);
    for await (const page of exportLeaves(store.db, org.id, { a, b })) {
      const text = page.map((e) => `${e.leaf}\n`).join('');
      if (!sink.write(text)) await once(sink, 'drain');
    }
    sink.end();
    await once(sink, 'finish');
  } else {
    const pkg = await buildPackage({
      db: store.db,
      log: trail,
      source: staticSource({ controls: CONTROLS, records, results }),
      dataFlow: {
        org: 'acme',
        people: [{ role: 'owner', count: 1 }],
        channels: ['dashboard'],
        agents: [],
        providers: [],
        connections: [],
        keys: 'vault',
        logs: 'database',
      },
      org: { id: org.id, slug: 'acme' },
      period,
      productVersion: 'bench',
    });
    await pipeline(pkg.stream, createWriteStream(out));
    const s = await pkg.done;
    if (s.pdfSkipped) console.error(`PDF skipped: ${s.pdfSkipped}`);
  }
  console.log(JSON.stringify({ ms: performance.now() - t0, rssMb: peak() }));
  await trail.close();
  await store.close();
}

/** Child: verifies the package (or the baseline: read and hash every file) and prints time and peak RSS. */
async function verifyChild(mode: string, zip: string, key: string): Promise<void> {
  const t0 = performance.now();
  if (mode === 'baseline') {
    const a = await openArchive(zip);
    for (const n of a.names) {
      const h = createHash('sha256');
      for await (const c of await a.open(n)) h.update(c as Buffer);
      h.digest();
    }
    a.close();
  } else {
    const v = await verifyPackage(zip, key);
    if (!v.ok) throw new Error(`verify failed: ${v.problems.join('; ')}`);
    if (v.entries !== N) throw new Error(`verified ${v.entries} entries, not ${N}`);
  }
  console.log(JSON.stringify({ ms: performance.now() - t0, rssMb: peak() }));
}

function run(args: string[]): { ms: number; rssMb: number } {
  const r = spawnSync(process.execPath, [SELF, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${args[0]} ${args[1]} failed: ${r.stderr}`);
  if (r.stderr) process.stderr.write(r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ms: number; rssMb: number };
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'paddock-bench-evidence-'));
  try {
    const store = await openStore({ home });
    const { org } = await initOrg(store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
    const trail = trailOf(store, home);
    await trail.flush();
    const from = new Date(Date.now() + 2).toISOString();
    await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    await appendActivity(trail, N, agentsAtWork(org.id));
    const buildS = (performance.now() - t0) / 1000;
    const cp = await trail.checkpoint(org.id);
    const period = { from, to: new Date(Date.now() + 1000).toISOString() };
    const at = period.to;
    const records = [
      await figureRecord(
        store.db,
        cp,
        org.id,
        'PAD-GATE-01',
        { name: 'tool calls by outcome', where: { prefix: 'tool.call.' }, by: 'outcome' },
        period,
        at,
      ),
      await figureRecord(
        store.db,
        cp,
        org.id,
        'PAD-GATE-01',
        { name: 'denials by agent', where: { actions: ['tool.call.denied'] }, by: 'actor' },
        period,
        at,
      ),
      await figureRecord(
        store.db,
        cp,
        org.id,
        'PAD-LOG-01',
        { name: 'entries by day', where: {}, by: 'day' },
        period,
        at,
      ),
      plainRecord(
        org.id,
        'PAD-ACC-01',
        'people.roles',
        [{ email: 'o@acme.test', role: 'owner' }],
        period,
        at,
      ),
    ];
    const entries = records[0]!.log!.range[1] - records[0]!.log!.range[0];
    if (entries !== N) throw new Error(`the period holds ${entries} entries, not ${N}`);
    const results: ControlResult[] = records.map((r) => ({
      controlId: r.controlId,
      status: 'pass',
      reason: r.kind,
      evaluatedAt: at,
      evidence: [r.id],
    }));
    const { verifierKey } = await trail.verifierKey(org.id);
    await trail.close();
    await store.close();
    const input = join(home, 'records.json');
    writeFileSync(input, JSON.stringify({ records, results, period }));

    const zip = join(home, 'package.zip');
    const base = run(['--child', 'baseline', home, input, join(home, 'baseline.jsonl')]);
    const built = run(['--child', 'package', home, input, zip]);
    const vBase = run(['--verify', 'baseline', zip, verifierKey]);
    const verified = run(['--verify', 'package', zip, verifierKey]);
    const mb = (p: string) => (statSync(p).size / 2 ** 20).toFixed(0);
    const s = (x: { ms: number }) => `${(x.ms / 1000).toFixed(1)} s`;
    console.log(`built a ${N.toLocaleString('en')}-entry log in ${buildS.toFixed(1)} s`);
    console.log(
      `evidence report (${N.toLocaleString('en')} entries in the period, ${mb(zip)} MB ZIP): ${s(built)}, peak RSS ${built.rssMb} MB (baseline: the same headers to a plain ${mb(join(home, 'baseline.jsonl'))} MB file: ${s(base)}, ${base.rssMb} MB; ratio ×${(built.ms / base.ms).toFixed(1)})`,
    );
    console.log(
      `evidence verify: ${s(verified)}, peak RSS ${verified.rssMb} MB (baseline: read and hash every file of the package: ${s(vBase)}, ${vBase.rssMb} MB; ratio ×${(verified.ms / vBase.ms).toFixed(1)})`,
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const [flag, mode, a, b, c] = process.argv.slice(2);
if (flag === '--child') await child(mode!, a!, b!, c!);
else if (flag === '--verify') await verifyChild(mode!, a!, b!);
else await main();
