/**
 * The compliance center's shapes: controls (each mapped to criteria, with a collector and a test),
 * evidence records (timestamped, hashed, and — when computed from the audit log — tied to the
 * signed checkpoint they were computed at), and control results (pass, warning, fail, with a
 * reason). Everything the package carries and `evidence verify` recomputes is one of these.
 */
import type { FigureSpec } from './figures.ts';

/**
 * `not_applicable`: the control cannot be tested yet (what it needs is not built), said with a
 * reason rather than a made-up pass. Added after the first three; readers that know only those
 * should show it as "not tested".
 */
export type ControlStatus = 'pass' | 'warning' | 'fail' | 'not_applicable';

/** What a collector hands back, before it is stored (and hashed). */
export interface EvidenceDraft {
  /** What it shows: `people.roles`, `agents.permissions`, `audit.verification`, `tool_calls.by_outcome`… */
  kind: string;
  /** The evidence: rows or figures, JSON. Never a secret's value. */
  data: unknown;
  /** Set for a figure computed from the audit log: how to recompute it from the entries. */
  figure?: FigureSpec;
}

export interface EvidenceRecord extends EvidenceDraft {
  id: string;
  orgId: string;
  controlId: string;
  collectedAt: string;
  /** The period it covers: [from, to). */
  period: { from: string; to: string };
  /** SHA-256 (hex) of the canonical JSON (RFC 8785) of `{ kind, data, figure }`. */
  hash: string;
  /**
   * For evidence computed from audit entries: the log it was computed at — the tree size, the
   * signed checkpoint of that size, and the index range of the entries the figure counts:
   * half-open, `[first, end)`, so `[0, treeSize)` is the whole log. A record with a `figure` has
   * `data.value` = `computeFigure(figure, the entries whose index is in range)`.
   */
  log: { treeSize: number; checkpoint: string; range: [number, number] } | null;
}

export interface ControlResult {
  controlId: string;
  status: ControlStatus;
  /** In words an auditor reads: "3 model keys not rotated in 90 days", "audit log verified to size 18,204". */
  reason: string;
  evaluatedAt: string;
  /** The evidence records the result was drawn from. */
  evidence: string[];
}

/** What a collector may read: the org's state, its audit log at a checkpoint, the period asked for. */
export interface CollectContext {
  orgId: string;
  period: { from: string; to: string };
}

export interface Control<Ctx extends CollectContext = CollectContext> {
  /** Stable id, e.g. `PAD-GATE-01`. */
  id: string;
  title: string;
  /** What the control is, plainly. */
  description: string;
  /** The criteria it supports (ids from the catalog). */
  criteria: string[];
  /** Gathers its evidence now. */
  collect(ctx: Ctx): Promise<EvidenceDraft[]>;
  /** Turns its evidence into a result (pure: the same evidence, the same result). */
  test(evidence: EvidenceDraft[]): { status: ControlStatus; reason: string };
}
