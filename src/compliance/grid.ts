/**
 * The criteria grid: each of the 61 criteria with the controls that support it and their latest
 * results, coloured by the worst of them; a criterion no control supports is the customer's
 * responsibility (board oversight, physical access, HR…), shown with the documents they attached.
 */
import type { Db } from '../store/index.ts';
import { CRITERIA, type CriterionGroup } from './catalog.ts';
import { CONTROLS } from './controls/index.ts';
import { type DocumentInfo, listDocuments } from './documents.ts';
import { latestResults } from './evidence-store.ts';
import type { ControlStatus } from './types.ts';

export type CriterionState = ControlStatus | 'not_tested' | 'customer';

export interface CriterionRow {
  id: string;
  group: CriterionGroup;
  title: string;
  responsibility: 'paddock' | 'customer';
  state: CriterionState;
  controls: Array<{ id: string; title: string; status: ControlStatus | null; reason: string | null }>;
  documents: DocumentInfo[];
}

const RANK: Record<CriterionState, number> = {
  fail: 5,
  warning: 4,
  not_tested: 3,
  pass: 2,
  not_applicable: 1,
  customer: 0,
};

/** The criteria Paddock's controls support, and those left to the customer. */
export function coverage(): { paddock: string[]; customer: string[] } {
  const covered = new Set(CONTROLS.flatMap((c) => c.criteria));
  return {
    paddock: CRITERIA.filter((c) => covered.has(c.id)).map((c) => c.id),
    customer: CRITERIA.filter((c) => !covered.has(c.id)).map((c) => c.id),
  };
}

export async function criteriaGrid(db: Db, orgId: string): Promise<CriterionRow[]> {
  const results = await latestResults(db, orgId);
  const documents = await listDocuments(db, orgId);
  return CRITERIA.map((c) => {
    const controls = CONTROLS.filter((k) => k.criteria.includes(c.id)).map((k) => {
      const r = results.get(k.id);
      return { id: k.id, title: k.title, status: r?.status ?? null, reason: r?.reason ?? null };
    });
    let state: CriterionState = 'customer';
    if (controls.length) {
      const states = controls.map((k): CriterionState => k.status ?? 'not_tested');
      state = states.reduce((worst, s) => (RANK[s] > RANK[worst] ? s : worst), 'not_applicable');
    }
    return {
      id: c.id,
      group: c.group,
      title: c.title,
      responsibility: controls.length ? 'paddock' : 'customer',
      state,
      controls,
      documents: documents.filter((d) => d.criterion === c.id),
    };
  });
}
