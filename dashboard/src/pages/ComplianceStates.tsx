/** How the compliance page names and colours a test state, a criterion's or a control's. */
import type { ControlStatus, CriterionState } from '../api/index.ts';

export const STATE_LABEL: Record<CriterionState, string> = {
  pass: 'Pass',
  warning: 'Warning',
  fail: 'Fail',
  not_applicable: 'Not applicable',
  not_tested: 'Not tested',
  customer: 'Customer responsibility',
};

/** The grid's legend, worst first. */
export const LEGEND: readonly CriterionState[] = ['fail', 'warning', 'pass', 'not_tested', 'customer'];

export function StateBadge({ state }: { state: CriterionState | ControlStatus | null }) {
  const s = state ?? 'not_tested';
  return <span className={`status state-${s}`}>{STATE_LABEL[s]}</span>;
}

/** Worst first: fail, then warning; the order of the gaps list. */
export const SEVERITY: Record<ControlStatus, number> = { fail: 0, warning: 1, pass: 2, not_applicable: 3 };
