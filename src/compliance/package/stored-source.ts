/**
 * The compliance center's stored evidence as a package's source: the catalog's criteria and
 * controls, the evidence records collected in the period and the control tests evaluated in it
 * (both by their time in [from, to)), read within the org only. A record's figure may count
 * entries from before `from` (a collection covers the log since the previous one): it is proven
 * and recomputed over exactly the range it names.
 */
import type { Db } from '../../store/index.ts';
import { CRITERIA } from '../catalog.ts';
import { CONTROLS } from '../controls/index.ts';
import { listEvidence, toResult } from '../evidence-store.ts';
import type { EvidenceSource } from './source.ts';

/** Far more records than a period holds (a collection writes a few dozen). */
const ALL = 10_000_000;

export function storedEvidence(db: Db): EvidenceSource {
  return {
    criteria: async () => CRITERIA,
    controls: async () =>
      CONTROLS.map((c) => ({ id: c.id, title: c.title, description: c.description, criteria: c.criteria })),
    records: (orgId, period) => listEvidence(db, orgId, { from: period.from, to: period.to, limit: ALL }),
    results: async (orgId, period) => {
      const rows = await db
        .selectFrom('compliance_results')
        .selectAll()
        .where('org_id', '=', orgId)
        .where('evaluated_at', '>=', period.from)
        .where('evaluated_at', '<', period.to)
        .orderBy('evaluated_at')
        .orderBy('control_id')
        .execute();
      // The package's results are the shape's fields only (no store ids): reproducible.
      return rows.map(toResult).map(({ id: _, collectionId: __, ...r }) => r);
    },
  };
}
