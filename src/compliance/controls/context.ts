/**
 * What every collector is given and what it hands back. A collector reads the org's state
 * (tenant-scoped, through `db` and `orgId`) and the collection's slice of the log (`log`); a
 * draft marked `fromLog` (or carrying a figure) is stored with the tree size, the signed
 * checkpoint and the index range it was computed at. Tests are pure: they read only drafts.
 */
import type { Org } from '../../identity/index.ts';
import type { Logger } from '../../log/index.ts';
import type { Db } from '../../store/index.ts';
import type { FigureSpec } from '../figures.ts';
import type { LogWindow } from '../log-window.ts';
import type { CollectContext, Control, ControlStatus, EvidenceDraft } from '../types.ts';

/** What the platform says about itself (the sandbox, the cells, checkpoints), given by the server. */
export interface Platform {
  sandbox: {
    name: string;
    guarantees: string[];
    runsAsOrgUsers: boolean;
    check(): Promise<{ ok: boolean; reason?: string }>;
  } | null;
  /** Why there is no sandbox, when there is none. */
  sandboxProblem: string | null;
  /** The sandbox's self-test from inside a sandbox made as the org's cell is (`src/cells/self-test.ts`). */
  selfTest?:
    | ((orgId: string) => Promise<{
        ok: boolean;
        reason: string | null;
        checks: Array<{ attempt: string; expected: string; result: string; ok: boolean }>;
      }>)
    | undefined;
  /** The org's cell as its supervisor sees it now, when cells run in this process. */
  cell?:
    | ((orgId: string) => { state: string; restarts: number; startedAt: string | null } | undefined)
    | undefined;
  /** Signs (if the log grew) and returns the checkpoint covering the whole log now. */
  sign?: ((orgId: string) => Promise<{ size: number; note: string }>) | undefined;
  /** Where checkpoints are published outside the database (verify reads them too). */
  checkpointDir?: string | undefined;
  /** Whether published checkpoints leave the database's disk (see `checkpointCustody`). */
  custody?: { offHost: boolean; description: string } | undefined;
  /** The whole audit log is verified again when its last full verification is this old (7 by default). */
  fullVerificationDays?: number | undefined;
  /** Where a scheduled collection that failed for one org is reported. */
  log?: Logger | undefined;
}

export interface CollectorContext extends CollectContext {
  db: Db;
  org: Org;
  now: Date;
  log: LogWindow;
  platform: Platform;
  /** `full`: verify the whole audit log now, whatever the last full verification's age. */
  verify?: 'full' | 'auto' | undefined;
}

/**
 * A draft as collectors make it: `fromLog` when it was computed from audit entries — those of
 * the collection's range, or of `range` when it read others (the whole log up to the checkpoint).
 */
export interface Draft extends EvidenceDraft {
  fromLog?: boolean;
  range?: [number, number];
}

/** The range of the whole log under the collection's checkpoint. */
export function wholeLog(ctx: CollectorContext): [number, number] {
  return [0, ctx.log.snapshot.treeSize];
}

export type PaddockControl = Control<CollectorContext> & {
  collect(ctx: CollectorContext): Promise<Draft[]>;
  test(evidence: EvidenceDraft[]): { status: ControlStatus; reason: string };
};

/** A figure over the collection's log slice: `data.value` is `computeFigure(figure, entries in range)`. */
export function figureDraft(
  ctx: CollectorContext,
  kind: string,
  figure: FigureSpec,
  extra: Record<string, unknown> = {},
): Draft {
  return { kind, data: { value: ctx.log.figure(figure), ...extra }, figure, fromLog: true };
}

/** Evidence read from the org's state (tables), not from the log. */
export function stateDraft(kind: string, data: unknown): Draft {
  return { kind, data };
}

/** The data of the first draft of this kind (tests read evidence by kind). */
export function dataOf<T = Record<string, unknown>>(evidence: EvidenceDraft[], kind: string): T | undefined {
  return evidence.find((e) => e.kind === kind)?.data as T | undefined;
}

/** "3 model keys", "1 model key". */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** "a, b and 3 more". */
export function some(names: string[], max = 3): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

export const DAY_MS = 86_400_000;

export function daysBetween(from: string, to: Date): number {
  return Math.floor((to.getTime() - new Date(from).getTime()) / DAY_MS);
}
