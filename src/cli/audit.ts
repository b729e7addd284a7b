/** `paddock audit verify|export`: check a log end to end, or export it with its proof, offline. */
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import {
  EXPORT_FORMATS,
  type ExportFormat,
  exportBounds,
  exportLines,
  exportProofText,
  PLATFORM_LOG,
  verifyExport,
  verifyLog,
} from '../audit/index.ts';
import { requireOrgBySlug } from '../identity/index.ts';
import { silentLogger } from '../log/index.ts';
import { buildDeps } from '../server/deps.ts';
import { openStore } from '../store/index.ts';
import type { Command } from './commands.ts';
import { need, parse, storeOptions } from './options.ts';
import { UsageError } from './output.ts';

const out = (s: string) => process.stdout.write(`${s}\n`);

async function verifyCommand(args: string[]): Promise<void> {
  const v = parse(args, {
    org: { type: 'string' },
    platform: { type: 'boolean' },
    deep: { type: 'boolean' },
    checkpoints: { type: 'string' },
    export: { type: 'string' },
    proof: { type: 'string' },
    key: { type: 'string' },
  });
  if (typeof v.export === 'string') {
    const proofFile = (v.proof as string | undefined) ?? `${v.export}.proof`;
    if (!existsSync(v.export)) throw new UsageError(`No export file ${v.export}.`);
    if (!existsSync(proofFile)) throw new UsageError(`No proof file ${proofFile} (give it with --proof).`);
    const keyArg = need(v, 'key');
    const key = existsSync(keyArg) ? readFileSync(keyArg, 'utf8').trim() : keyArg;
    const r = verifyExport(readFileSync(v.export, 'utf8'), readFileSync(proofFile, 'utf8'), key);
    const what = `export ${v.export} (${r.origin ?? 'unknown log'}, entries ${r.range?.[0] ?? '?'}–${(r.range?.[1] ?? 1) - 1})`;
    if (!r.ok) {
      out(`${what}: FAILED — ${r.problem?.message}`);
      process.exitCode = 1;
      return;
    }
    out(
      `${what}: OK — ${r.entries} entries (${r.erased} erased payloads) lead to the root signed at tree size ${r.treeSize}`,
    );
    return;
  }
  const { config, opts } = storeOptions(v);
  const store = await openStore(opts);
  try {
    let logs: Array<{ id: string; label: string }>;
    if (typeof v.org === 'string') {
      const org = await requireOrgBySlug(store.db, v.org);
      logs = [{ id: org.id, label: org.slug }];
    } else if (v.platform) logs = [{ id: PLATFORM_LOG, label: 'platform' }];
    else {
      const rows = await store.db
        .selectFrom('audit_logs')
        .leftJoin('orgs', 'orgs.id', 'audit_logs.org_id')
        .select(['audit_logs.id', 'orgs.slug'])
        .orderBy('audit_logs.id')
        .execute();
      logs = rows.map((r) => ({ id: r.id, label: r.slug ?? r.id }));
    }
    const dir =
      (v.checkpoints as string | undefined) ??
      (existsSync(config.checkpointDir) ? config.checkpointDir : undefined);
    let failed = 0;
    for (const log of logs) {
      const r = await verifyLog(store.db, log.id, { publishedDir: dir, deep: v.deep === true });
      const head = `audit log ${log.label} (${log.id})`;
      if (r.ok) {
        const pending = r.pending
          ? `; ${r.pending} pending entries not yet placed (start the server to place them)`
          : '';
        out(`${head}: OK — ${r.entries} entries, ${r.checkpoints} signed checkpoints verified${pending}`);
      } else {
        failed++;
        out(`${head}: FAILED — ${r.problem?.message}`);
      }
    }
    if (logs.length === 0) out('No audit logs yet.');
    if (failed) process.exitCode = 1;
  } finally {
    await store.close();
  }
}

async function exportCommand(args: string[]): Promise<void> {
  const v = parse(args, {
    org: { type: 'string' },
    format: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    out: { type: 'string' },
  });
  const format = ((v.format as string | undefined) ?? 'jsonl') as ExportFormat;
  if (!EXPORT_FORMATS.includes(format))
    throw new UsageError(`--format is one of ${EXPORT_FORMATS.join(', ')}.`);
  const file = need(v, 'out');
  const time = (name: 'from' | 'to') => {
    const t = v[name] as string | undefined;
    if (t === undefined) return undefined;
    const d = new Date(t);
    if (Number.isNaN(d.getTime())) throw new UsageError(`--${name} is not a date or time: "${t}".`);
    return d.toISOString();
  };
  const window = { from: time('from'), to: time('to') };
  const { config, opts } = storeOptions(v);
  const store = await openStore(opts);
  try {
    const org = await requireOrgBySlug(store.db, need(v, 'org'));
    const deps = buildDeps(config, silentLogger, store);
    const cp = await deps.audit.checkpointAsIs(org.id);
    const range = await exportBounds(store.db, org.id, cp.size, window);
    const sink = createWriteStream(file, { mode: 0o600 });
    for await (const line of exportLines(store.db, org.id, format, range)) {
      if (!sink.write(line)) await new Promise<void>((r) => sink.once('drain', () => r()));
    }
    sink.end();
    await finished(sink);
    out(`Wrote entries ${range.a}–${range.b - 1} of ${org.slug}'s audit log to ${file} (${format}).`);
    if (format === 'jsonl') {
      const { origin, verifierKey } = await deps.audit.verifierKey(org.id);
      const hashes = await deps.audit.rangeProof(org.id, range.a, range.b, cp.size);
      writeFileSync(`${file}.proof`, exportProofText(origin, range.a, range.b, hashes, cp.note));
      out(`Wrote its proof to ${file}.proof (against the checkpoint at tree size ${cp.size}).`);
      out(`Verify it anywhere: paddock audit verify --export ${file} --key '${verifierKey}'`);
    }
  } finally {
    await store.close();
  }
}

export const audit: Command = {
  summary: 'Verify the audit trail end to end, or export it (JSONL with proof, CSV, OCSF)',
  usage: `paddock audit verify [--org <slug> | --platform] [--checkpoints DIR] [--deep]
paddock audit verify --export FILE [--proof FILE.proof] --key <verifier key or file>
paddock audit export --org <slug> --out FILE [--format jsonl|csv|ocsf] [--from TIME] [--to TIME]

  verify (live) checks every entry against its hash, every tree node, every signed checkpoint
  (and those published to DIR, default $PADDOCK_HOME/checkpoints), and exits 1 naming the
  first bad entry. --deep also checks every stored inner tree node (what proofs are built
  from). verify --export does the same offline on an exported file and its proof,
  against the log's verifier key (GET /api/v1/orgs/<org>/audit/key), with no database.`,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === 'verify') return verifyCommand(rest);
    if (sub === 'export') return exportCommand(rest);
    throw new UsageError(`Use "paddock audit verify" or "paddock audit export". See paddock audit --help.`);
  },
};
