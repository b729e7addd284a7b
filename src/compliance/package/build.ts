/**
 * Builds an org's evidence package for a period as a streamed ZIP: the evidence as JSON and CSV,
 * OCSF findings, OSCAL assessment results, the report (HTML, PDF) and data-flow diagram, the
 * audit entries the figures were computed from with their proofs, and the signed manifest last.
 * Small parts are made first (a bad record fails before a byte is sent); the entries stream from
 * the log a page at a time as the reader takes the archive. Once the archive has been read to
 * its end, the package is remembered (the next one proves the log grew from this one).
 */
import type { Readable } from 'node:stream';
import { exportLeaves } from '../../audit/index.ts';
import type { Db } from '../../store/index.ts';
import { dataFlowSvg } from './dataflow-svg.ts';
import { evidenceFiles, sortControls, sortRecords, sortResults } from './evidence-files.ts';
import { previousPackage, rememberPackage } from './history.ts';
import { FORMAT, MANIFEST, MANIFEST_KIND, PATHS, SIGNATURE } from './layout.ts';
import { entryLine, type LogPlan, type ProofsFile, planLog } from './log-evidence.ts';
import { type Manifest, manifestBytes, manifestStatementBody, sha256Hex } from './manifest.ts';
import { controlFindings } from './ocsf-finding.ts';
import { assessmentResults } from './oscal.ts';
import { type PdfOutcome, renderPdf } from './pdf.ts';
import { reportHtml } from './report-html.ts';
import type { DataFlow, EvidenceSource, Period } from './source.ts';
import { stableJson } from './stable-json.ts';
import { PackageZip } from './zip-writer.ts';

/** What the package needs of the org's audit log (the `AuditTrail` gives it; the key never leaves it). */
export interface PackageLog {
  verifierKey(logId: string): Promise<{ origin: string; verifierKey: string }>;
  rangeProof(logId: string, a: number, b: number, size: number): Promise<string[]>;
  consistencyProof(logId: string, from: number, to: number): Promise<{ hashes: string[] }>;
  signStatement(logId: string, kind: string, body: string[]): Promise<string>;
}

export interface PackageInput {
  db: Db;
  log: PackageLog;
  source: EvidenceSource;
  dataFlow: DataFlow;
  org: { id: string; slug: string };
  period: Period;
  productVersion: string;
  /** Prints the report; Chromium by default. */
  pdf?: (html: string) => Promise<PdfOutcome>;
  now?: () => Date;
}

export interface PackageSummary {
  id: string;
  manifestSha256: string;
  files: number;
  treeSize: number | null;
  entries: number;
  /** Why the PDF was left out, if it was. */
  pdfSkipped: string | null;
}

export interface BuiltPackage {
  /** The ZIP's bytes: pipe it to a file or a response. */
  stream: Readable;
  /** Resolves once the whole archive was read and the package remembered; rejects if it was not. */
  done: Promise<PackageSummary>;
}

/** Builds the package; the returned stream must be read for it to finish. */
export async function buildPackage(input: PackageInput): Promise<BuiltPackage> {
  const { db, log, source, org, period } = input;
  const [criteria, controls, records, results] = await Promise.all([
    source.criteria(),
    source.controls(org.id).then(sortControls),
    source.records(org.id, period).then(sortRecords),
    source.results(org.id, period).then(sortResults),
  ]);
  const plan = planLog(records);
  const { origin } = await log.verifierKey(org.id);
  const previous = plan ? await previousPackage(db, org.id, plan.anchor.size) : null;
  const svg = dataFlowSvg(input.dataFlow);
  const html = reportHtml({
    org,
    period,
    criteria,
    controls,
    records,
    results,
    anchor: plan ? { origin, size: plan.anchor.size } : null,
    dataFlowSvg: svg,
  });
  const pdf = await (input.pdf ?? renderPdf)(html);
  // Every entry carries the period's end as its time: no clock in the archive.
  const zip = new PackageZip(new Date(period.to));
  let entries = 0;

  const write = async (): Promise<{ bytes: Buffer; files: number }> => {
    for (const f of evidenceFiles(controls, records, results)) await zip.add(f.path, f.content);
    const byId = new Map(controls.map((c) => [c.id, c]));
    for (const id of [...new Set(results.map((r) => r.controlId))].sort()) {
      const findings = controlFindings(
        org,
        byId.get(id),
        results.filter((r) => r.controlId === id),
        input.productVersion,
      );
      await zip.add(PATHS.findings(id), stableJson(findings));
    }
    await zip.add(
      PATHS.oscal,
      stableJson(
        assessmentResults({ org, period, controls, records, results, productVersion: input.productVersion }),
      ),
    );
    await zip.add(PATHS.dataFlow, svg);
    await zip.add(PATHS.reportHtml, html);
    if ('pdf' in pdf) await zip.add(PATHS.reportPdf, pdf.pdf);
    else await zip.add(PATHS.pdfSkipped, `The PDF of the report was skipped: ${pdf.skipped}\n`);
    if (plan) entries = await writeLog(zip, plan, previous);
    const files = zip.files();
    const manifest: Manifest = {
      format: FORMAT,
      org,
      period,
      log: { origin, treeSize: plan?.anchor.size ?? null },
      generatedAt: (input.now?.() ?? new Date()).toISOString(),
      files,
    };
    const bytes = manifestBytes(manifest);
    await zip.addUnlisted(MANIFEST, bytes);
    await zip.addUnlisted(
      SIGNATURE,
      await log.signStatement(org.id, MANIFEST_KIND, manifestStatementBody(bytes)),
    );
    zip.end();
    return { bytes, files: files.length };
  };

  const writeLog = async (
    z: PackageZip,
    p: LogPlan,
    prev: Awaited<ReturnType<typeof previousPackage>>,
  ): Promise<number> => {
    const n = p.anchor.size;
    const notes = new Map(p.checkpoints);
    if (prev) notes.set(prev.treeSize, prev.checkpoint);
    for (const [size, note] of [...notes].sort(([a], [b]) => a - b))
      await z.add(PATHS.checkpoint(size), note);
    const ranges: ProofsFile['ranges'] = [];
    let count = 0;
    for (const [a, b] of p.ranges) {
      const file = PATHS.entries(a, b);
      await z.add(file, leafText(db, org.id, a, b), { fast: true });
      ranges.push({ from: a, to: b, file, proof: await log.rangeProof(org.id, a, b, n) });
      count += b - a;
    }
    const consistency: ProofsFile['consistency'] = [];
    for (const size of [...p.checkpoints.keys()].sort((a, b) => a - b)) {
      if (size === n) continue;
      const { hashes } = await log.consistencyProof(org.id, size, n);
      consistency.push({ from: size, to: n, checkpoint: PATHS.checkpoint(size), proof: hashes });
    }
    const proofs: ProofsFile = {
      origin,
      anchor: { size: n, checkpoint: PATHS.checkpoint(n) },
      ranges,
      consistency,
      previous: prev
        ? {
            from: prev.treeSize,
            to: n,
            checkpoint: PATHS.checkpoint(prev.treeSize),
            proof: (await log.consistencyProof(org.id, prev.treeSize, n)).hashes,
            package: prev.id,
          }
        : null,
    };
    await z.add(PATHS.proofs, stableJson(proofs));
    return count;
  };

  const finished = new Promise<void>((resolve, reject) => {
    zip.stream.once('end', resolve);
    zip.stream.once('close', () => reject(new Error('the package stream was closed before it ended')));
    zip.stream.once('error', reject);
  });
  const written = write().catch((err: unknown) => {
    zip.stream.destroy(err as Error);
    throw err;
  });
  const done = (async (): Promise<PackageSummary> => {
    const { bytes, files } = await written;
    await finished;
    const manifestSha256 = sha256Hex(bytes);
    const id = await rememberPackage(db, {
      orgId: org.id,
      period,
      anchor: plan?.anchor ?? null,
      manifestSha256,
    });
    return {
      id,
      manifestSha256,
      files,
      treeSize: plan?.anchor.size ?? null,
      entries,
      pdfSkipped: 'skipped' in pdf ? pdf.skipped : null,
    };
  })();
  done.catch(() => undefined);
  return { stream: zip.stream, done };
}

/** The entries [a, b) as their hashed headers, one per line, read a page at a time. */
async function* leafText(db: Db, logId: string, a: number, b: number): AsyncGenerator<string> {
  let next = a;
  for await (const page of exportLeaves(db, logId, { a, b })) {
    let chunk = '';
    for (const e of page) {
      if (e.index !== next) throw new Error(`audit entry ${next} is missing from the log`);
      chunk += entryLine(e.leaf, e.leafHash);
      next++;
    }
    yield chunk;
  }
  if (next !== b) throw new Error(`audit entries ${next}–${b - 1} are missing from the log`);
}
