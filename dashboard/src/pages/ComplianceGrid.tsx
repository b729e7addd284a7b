/**
 * The 61 Trust Services Criteria as a grid of tiles, grouped (CC1…CC9, A1, C1, PI1, P1…P8) and
 * coloured by the worst latest result of the controls that support each; a tile opens the
 * criterion's controls, or, where Paddock covers nothing, the customer's documents.
 */
import type { CriterionRow } from '../api/index.ts';
import { LEGEND, STATE_LABEL } from './ComplianceStates.tsx';

export function CriteriaGrid({
  criteria,
  selected,
  onSelect,
}: {
  criteria: CriterionRow[];
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  const groups: { group: string; rows: CriterionRow[] }[] = [];
  for (const c of criteria) {
    const last = groups.at(-1);
    if (last?.group === c.group) last.rows.push(c);
    else groups.push({ group: c.group, rows: [c] });
  }
  const counts = new Map<string, number>();
  for (const c of criteria) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
  return (
    <>
      <ul className="grid-legend" aria-label="Legend">
        {LEGEND.map((s) => (
          <li key={s}>
            <span className={`swatch state-${s}`} aria-hidden="true" /> {STATE_LABEL[s]} ({counts.get(s) ?? 0}
            )
          </li>
        ))}
      </ul>
      <div className="criteria-grid" data-testid="criteria-grid">
        {groups.map((g) => (
          <div key={g.group} className="criteria-group">
            <div className="criteria-group-name">{g.group}</div>
            <div className="criteria-tiles">
              {g.rows.map((c) => (
                <button
                  key={c.id}
                  type="button"
                  className={`criterion-tile state-${c.state}${selected === c.id ? ' selected' : ''}`}
                  data-state={c.state}
                  aria-pressed={selected === c.id}
                  aria-label={`${c.id} ${c.title}: ${STATE_LABEL[c.state]}`}
                  title={`${c.id} — ${c.title}: ${STATE_LABEL[c.state]}`}
                  onClick={() => onSelect(c.id)}
                >
                  {c.id}
                </button>
              ))}
            </div>
          </div>
        ))}
      </div>
    </>
  );
}
