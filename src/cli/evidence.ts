/** `paddock evidence report|verify`: build an org's evidence package for a period, or check one offline. */
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { evidencePackage, parsePeriod, verifyPackage } from '../compliance/package/index.ts';
import { requireOrgBySlug } from '../identity/index.ts';
import { silentLogger } from '../log/index.ts';
import { buildDeps } from '../server/deps.ts';
import { openStore } from '../store/index.ts';
import type { Command } from './commands.ts';
import { need, parse, storeOptions } from './options.ts';
import { UsageError } from './output.ts';

const out = (s: string) => process.stdout.write(`${s}\n`);
const VERSION = '0.1.0';

async function reportCommand(args: string[]): Promise<void> {
  const v = parse(args, {
    org: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    out: { type: 'string' },
  });
  const file = need(v, 'out');
  let period: ReturnType<typeof parsePeriod>;
  try {
    period = parsePeriod(need(v, 'from'), need(v, 'to'));
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (--from, --to)`);
  }
  const { config, opts } = storeOptions(v);
  const store = await openStore(opts);
  try {
    const org = await requireOrgBySlug(store.db, need(v, 'org'));
    const deps = buildDeps(config, silentLogger, store);
    const pkg = await evidencePackage(
      { db: store.db, audit: deps.audit, evidence: deps.evidence, config, productVersion: VERSION },
      { id: org.id, slug: org.slug },
      period,
    );
    await pipeline(pkg.stream, createWriteStream(file, { mode: 0o600 }));
    const s = await pkg.done;
    out(`Wrote the evidence package of ${org.slug} for ${period.from} to ${period.to} to ${file}:`);
    out(
      `  ${s.files} files, ${s.entries} audit entries${s.treeSize === null ? '' : ` proven against the checkpoint at tree size ${s.treeSize}`}; manifest SHA-256 ${s.manifestSha256}.`,
    );
    if (s.pdfSkipped) out(`  The PDF of the report was skipped: ${s.pdfSkipped}`);
    const { verifierKey } = await deps.audit.verifierKey(org.id);
    out(`Verify it anywhere: paddock evidence verify ${file} --key '${verifierKey}'`);
  } finally {
    await store.close();
  }
}

async function verifyCommand(args: string[]): Promise<void> {
  const file = args[0]?.startsWith('-') ? undefined : args[0];
  const v = parse(file === undefined ? args : args.slice(1), { key: { type: 'string' } });
  if (!file)
    throw new UsageError('Name the package: paddock evidence verify <file.zip> --key <verifier key>.');
  if (!existsSync(file)) throw new UsageError(`No package ${file}.`);
  const keyArg = need(v, 'key');
  const key = existsSync(keyArg) ? readFileSync(keyArg, 'utf8').trim() : keyArg;
  const r = await verifyPackage(file, key);
  const what = `evidence package ${file}${r.org ? ` (${r.org.slug}, ${r.period?.from} to ${r.period?.to})` : ''}`;
  if (r.ok) {
    out(`${what}: OK`);
    for (const p of r.passed) out(`  ✓ ${p}`);
    return;
  }
  out(`${what}: FAILED`);
  for (const p of r.passed) out(`  ✓ ${p}`);
  for (const p of r.problems) out(`  ✗ ${p}`);
  process.exitCode = 1;
}

export const evidence: Command = {
  summary: "Build an org's SOC 2 evidence package for a period, or verify one offline",
  usage: `paddock evidence report --org <slug> --from <date> --to <date> --out <file.zip>
paddock evidence verify <file.zip> --key <verifier key or file>

  report writes a ZIP: the report (HTML and PDF), the data-flow diagram, evidence records and
  populations (JSON, CSV), OCSF findings, OSCAL assessment results, the audit entries every
  figure was computed from with their proofs, and a manifest of every file's SHA-256 signed with
  the org's audit log key. --to is excluded; a bare date is midnight UTC.
  verify checks it with no database: the signature (against the org's published verifier key,
  GET /api/v1/orgs/<org>/audit/key), every file's hash, every proof, and recomputes each figure
  from the entries. It exits 1 naming each thing that failed.`,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === 'report') return reportCommand(rest);
    if (sub === 'verify') return verifyCommand(rest);
    throw new UsageError(
      'Use "paddock evidence report" or "paddock evidence verify". See paddock evidence --help.',
    );
  },
};
