/**
 * The one way a package is made, for the CLI, the API and (later) the dashboard: reads the org's
 * data flows, then builds the streamed package from the evidence source and the org's log. Also
 * how a period is read from what a person typed, and where keys and logs live, in words.
 */
import type { Config } from '../../config/index.ts';
import { BadRequestError } from '../../errors/index.ts';
import type { Db } from '../../store/index.ts';
import { type BuiltPackage, buildPackage, type PackageLog } from './build.ts';
import { readDataFlow } from './dataflow-source.ts';
import type { PdfOutcome } from './pdf.ts';
import type { EvidenceSource, Period } from './source.ts';

export interface PackageDeps {
  db: Db;
  audit: PackageLog;
  evidence: EvidenceSource;
  config: Pick<Config, 'databaseUrl' | 'home' | 'checkpointDir' | 'checkpointWebhook'>;
  productVersion: string;
  pdf?: (html: string) => Promise<PdfOutcome>;
}

/**
 * The period [from, to) from dates or times as typed; a bare date means midnight UTC.
 *
 * @example
 *   parsePeriod('2026-11-01', '2026-12-01'); // { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' }
 */
export function parsePeriod(from: string, to: string): Period {
  const at = (name: string, s: string) => {
    const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s);
    if (Number.isNaN(d.getTime()))
      throw new BadRequestError('invalid_period', `"${s}" (${name}) is not a date or time.`);
    return d.toISOString();
  };
  const p = { from: at('from', from), to: at('to', to) };
  if (p.from >= p.to) throw new BadRequestError('invalid_period', 'The period must end after it starts.');
  return p;
}

const DAY_MS = 86_400_000;

/** The period asked for, or by default the 90 days before the start of today (UTC). */
export function periodOf(from: string | undefined, to: string | undefined, now = new Date()): Period {
  const end = parsePeriod(
    '1970-01-01',
    to ?? new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS).toISOString(),
  ).to;
  return parsePeriod(from ?? new Date(Date.parse(end) - 90 * DAY_MS).toISOString(), end);
}

/** Where the org's keys and logs live, as the data-flow diagram says it. */
export function storageWhere(config: PackageDeps['config']) {
  const database = config.databaseUrl ? 'PostgreSQL' : 'embedded SQLite';
  const published = [
    `files in ${config.checkpointDir}`,
    ...(config.checkpointWebhook ? [`a webhook at ${new URL(config.checkpointWebhook).host}`] : []),
  ];
  return {
    keys: `Model keys and credentials sealed (AES-256-GCM) in ${database} under the org's data key, itself wrapped by the keyring; the audit log key sealed the same way`,
    logs: `Audit log (Merkle tree, signed checkpoints) in ${database}; checkpoints also published to ${published.join(' and ')}`,
  };
}

export async function evidencePackage(
  deps: PackageDeps,
  org: { id: string; slug: string },
  period: Period,
): Promise<BuiltPackage> {
  const dataFlow = await readDataFlow(deps.db, org, storageWhere(deps.config));
  return buildPackage({
    db: deps.db,
    log: deps.audit,
    source: deps.evidence,
    dataFlow,
    org,
    period,
    productVersion: deps.productVersion,
    ...(deps.pdf ? { pdf: deps.pdf } : {}),
  });
}
