/**
 * An evidence source for tests and the benchmark, until the collectors' own store is wired in:
 * fixed controls, records and results, and figure records computed from a real audit log the way
 * a collector does (at a signed checkpoint, over the period's index range).
 */
import { exportBounds, exportLeaves } from '../../audit/index.ts';
import type { Db } from '../../store/index.ts';
import { CRITERIA } from '../catalog.ts';
import { computeFigure, type FigureEntry, type FigureSpec } from '../figures.ts';
import type { ControlResult, EvidenceRecord } from '../types.ts';
import { evidenceHash } from './evidence-hash.ts';
import type { ControlInfo, EvidenceSource, Period } from './source.ts';

export function staticSource(data: {
  controls: ControlInfo[];
  records: EvidenceRecord[];
  results: ControlResult[];
}): EvidenceSource {
  return {
    criteria: async () => CRITERIA,
    controls: async () => data.controls,
    records: async () => data.records,
    results: async () => data.results,
  };
}

/** A record that is not from the log (a population, a setting). */
export function plainRecord(
  orgId: string,
  controlId: string,
  kind: string,
  data: unknown,
  period: Period,
  collectedAt: string,
): EvidenceRecord {
  const draft = { kind, data };
  return {
    ...draft,
    id: `evd_${controlId}_${kind}`.replace(/[^A-Za-z0-9_]/g, '_'),
    orgId,
    controlId,
    collectedAt,
    period,
    hash: evidenceHash(draft),
    log: null,
  };
}

/** A figure computed from the org's log at the checkpoint `cp`, over the period's entries, as a collector would. */
export async function figureRecord(
  db: Db,
  cp: { size: number; note: string },
  orgId: string,
  controlId: string,
  figure: FigureSpec,
  period: Period,
  collectedAt: string,
): Promise<EvidenceRecord> {
  const { a, b } = await exportBounds(db, orgId, cp.size, period);
  const headers: FigureEntry[] = [];
  for await (const page of exportLeaves(db, orgId, { a, b })) {
    for (const e of page) {
      if (!e.leaf) continue;
      const h = JSON.parse(e.leaf) as Omit<FigureEntry, 'index'>;
      headers.push({
        index: e.index,
        time: h.time,
        actor: h.actor,
        action: h.action,
        target: h.target,
        outcome: h.outcome,
        run: h.run ?? null,
      });
    }
  }
  const draft = {
    kind: `figure.${figure.name.replace(/\W+/g, '_')}`,
    data: { value: computeFigure(figure, headers) },
    figure,
  };
  return {
    ...draft,
    id: `evd_${controlId}_${draft.kind}`.replace(/[^A-Za-z0-9_]/g, '_'),
    orgId,
    controlId,
    collectedAt,
    period,
    hash: evidenceHash(draft),
    log: { treeSize: cp.size, checkpoint: cp.note, range: [a, b] },
  };
}
