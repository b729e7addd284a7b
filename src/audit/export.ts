/**
 * Exports of a log: JSON lines (one entry per line, verifiable offline with its proof file),
 * CSV, and OCSF JSON lines. An export always covers a contiguous run of indexes, so a range
 * proof ties it to a signed checkpoint.
 */
import type { Selectable } from 'kysely';
import type { Db } from '../store/index.ts';
import type { AuditEntryTable } from '../store/schema.ts';
import { toOcsf } from './ocsf.ts';
import { type AuditEvent, toAuditEvent } from './query.ts';

export const EXPORT_FORMATS = ['jsonl', 'csv', 'ocsf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  jsonl: 'application/x-ndjson',
  csv: 'text/csv; charset=utf-8',
  ocsf: 'application/x-ndjson',
};

/** The index range [a, b) of the entries whose time is in [from, to), within the first `size`. */
export async function exportBounds(
  db: Db,
  logId: string,
  size: number,
  window: { from?: string | undefined; to?: string | undefined },
): Promise<{ a: number; b: number }> {
  let q = db.selectFrom('audit_entries').where('log_id', '=', logId).where('idx', '<', size);
  if (window.from) q = q.where('time', '>=', window.from);
  if (window.to) q = q.where('time', '<', window.to);
  const r = await q.select((eb) => [eb.fn.min('idx').as('lo'), eb.fn.max('idx').as('hi')]).executeTakeFirst();
  if (r?.lo === null || r?.lo === undefined || r.hi === null) return { a: 0, b: 0 };
  return { a: Number(r.lo), b: Number(r.hi) + 1 };
}

/** The export's lines, read in pages by index. */
export async function* exportLines(
  db: Db,
  logId: string,
  format: ExportFormat,
  range: { a: number; b: number },
): AsyncGenerator<string> {
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\n`;
  for (let at = range.a; at < range.b; at += 1000) {
    const rows = await db
      .selectFrom('audit_entries')
      .selectAll()
      .where('log_id', '=', logId)
      .where('idx', '>=', at)
      .where('idx', '<', Math.min(range.b, at + 1000))
      .orderBy('idx')
      .execute();
    for (const row of rows) {
      const e = toAuditEvent(row);
      if (format === 'jsonl') {
        yield `${JSON.stringify(exportLine(row, e))}\n`;
      } else if (format === 'ocsf') yield `${JSON.stringify(toOcsf(e, logId))}\n`;
      else yield `${csvRow(e)}\n`;
    }
  }
}

/**
 * The hashed leaves of [a, b) in index order, a page at a time: the headers exactly as hashed
 * (never the details), each with its leaf hash; `leaf` is null for a v1 entry erased whole.
 * What an evidence package carries, so figures can be recomputed and the range proven.
 */
export async function* exportLeaves(
  db: Db,
  logId: string,
  range: { a: number; b: number },
  page = 5000,
): AsyncGenerator<Array<{ index: number; leaf: string | null; leafHash: string }>> {
  for (let at = range.a; at < range.b; at += page) {
    const rows = await db
      .selectFrom('audit_entries')
      .select(['idx', 'leaf', 'leaf_hash'])
      .where('log_id', '=', logId)
      .where('idx', '>=', at)
      .where('idx', '<', Math.min(range.b, at + page))
      .orderBy('idx')
      .execute();
    yield rows.map((r) => ({ index: Number(r.idx), leaf: r.leaf, leafHash: r.leaf_hash }));
  }
}

/**
 * One JSON line: the hashed leaf as it is (`entry`: the v2 header, or a whole v1 entry), and for
 * v2 the details with the salt of their digest, so both can be checked offline.
 */
function exportLine(row: Selectable<AuditEntryTable>, e: AuditEvent) {
  return {
    index: e.index,
    leafHash: e.leafHash,
    format: e.format,
    entry: row.leaf ? (JSON.parse(row.leaf) as unknown) : null,
    details: e.format === 2 ? e.details : null,
    salt: e.format === 2 ? row.salt : null,
    erased: e.erased,
    erasedBy: e.erasedBy,
  };
}

const CSV_COLUMNS = [
  'index',
  'time',
  'actor_type',
  'actor_id',
  'action',
  'target_type',
  'target_id',
  'outcome',
  'request_id',
  'run_id',
  'details',
  'leaf_hash',
];

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  // Quote always; neutralise spreadsheet formulas (a cell starting with = + - @).
  const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
  return `"${safe.replaceAll('"', '""')}"`;
}

function csvRow(e: AuditEvent): string {
  return [
    e.index,
    e.time,
    e.actor.type,
    e.actor.id,
    e.action,
    e.target?.type,
    e.target?.id,
    e.outcome,
    e.requestId,
    e.runId,
    e.erased ? 'erased' : e.details,
    e.leafHash,
  ]
    .map(csvCell)
    .join(',');
}

/** The proof file that goes with a JSON-lines export. */
export function exportProofText(
  origin: string,
  a: number,
  b: number,
  hashes: string[],
  checkpoint: string,
): string {
  return `paddock.audit.export@v1\nlog ${origin}\nrange ${a} ${b}\n${hashes.map((h) => `${h}\n`).join('')}\n${checkpoint}`;
}
