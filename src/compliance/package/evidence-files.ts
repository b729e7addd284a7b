/**
 * The evidence as files an auditor samples: every record (with its data) in one JSON file and as
 * a CSV index, the control results of the period likewise, the controls with their criteria, and
 * each population (a record whose data is rows: people, agents, grants…) as its own JSON and CSV.
 * Sorted by id and time, so the same evidence gives the same bytes.
 */
import type { ControlResult, EvidenceRecord } from '../types.ts';
import { rowsToCsv, toCsv } from './csv.ts';
import { PATHS } from './layout.ts';
import type { ControlInfo } from './source.ts';
import { stableJson } from './stable-json.ts';

const by =
  <T>(...keys: Array<(x: T) => string>) =>
  (a: T, b: T) => {
    for (const k of keys) {
      const x = k(a);
      const y = k(b);
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  };

export function sortRecords(records: EvidenceRecord[]): EvidenceRecord[] {
  return [...records].sort(
    by(
      (r) => r.controlId,
      (r) => r.kind,
      (r) => r.collectedAt,
      (r) => r.id,
    ),
  );
}

export function sortResults(results: ControlResult[]): ControlResult[] {
  return [...results].sort(
    by(
      (r) => r.controlId,
      (r) => r.evaluatedAt,
    ),
  );
}

export function sortControls(controls: ControlInfo[]): ControlInfo[] {
  return [...controls].sort(by((c) => c.id));
}

/** Where a record's data is best read: its population file, or the records file. */
export function recordLink(r: EvidenceRecord): string {
  return rowsToCsv(r.data) === null ? PATHS.records : PATHS.populationCsv(r.id);
}

export function evidenceFiles(
  controls: ControlInfo[],
  records: EvidenceRecord[],
  results: ControlResult[],
): Array<{ path: string; content: string }> {
  const files: Array<{ path: string; content: string }> = [
    { path: PATHS.controls, content: stableJson(controls) },
    { path: PATHS.records, content: stableJson(records) },
    {
      path: PATHS.recordsCsv,
      content: toCsv(
        [
          'id',
          'controlId',
          'kind',
          'collectedAt',
          'periodFrom',
          'periodTo',
          'hash',
          'figure',
          'treeSize',
          'rangeFrom',
          'rangeTo',
          'file',
        ],
        records.map((r) => ({
          ...r,
          periodFrom: r.period.from,
          periodTo: r.period.to,
          figure: r.figure ? r.figure.name : '',
          treeSize: r.log?.treeSize,
          rangeFrom: r.log?.range[0],
          rangeTo: r.log?.range[1],
          file: recordLink(r),
        })),
      ),
    },
    { path: PATHS.results, content: stableJson(results) },
    {
      path: PATHS.resultsCsv,
      content: toCsv(
        ['controlId', 'evaluatedAt', 'status', 'reason', 'evidence'],
        results.map((r) => ({ ...r, evidence: r.evidence.join(' ') })),
      ),
    },
  ];
  for (const r of records) {
    const csv = rowsToCsv(r.data);
    if (csv === null) continue;
    files.push({ path: PATHS.populationJson(r.id), content: stableJson(r.data) });
    files.push({ path: PATHS.populationCsv(r.id), content: csv });
  }
  return files;
}
