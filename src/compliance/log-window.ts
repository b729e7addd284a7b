/**
 * The slice of an org's audit log one collection reads: entries `[from, end)` under the signed
 * checkpoint of size `end`, held as their header fields in compact columns, so that every figure
 * and check of a collection reads the log once (a million entries are a few tens of MB here,
 * not a million objects). Header fields only, which retention never erases: a figure computed
 * here is the one `computeFigure` gives over the same entries' hashed headers.
 *
 * The header fields are read from the entries' indexed columns, which `verifyLog` checks against
 * each hashed header (the audit-log control runs it in the same collection).
 */
import type { Db } from '../store/index.ts';
import { computeFigure, type FigureEntry, type FigureSpec, type FigureValue } from './figures.ts';

const PAGE = 20_000;

/** The log as a collection saw it: a signed checkpoint and the index range read under it. */
export interface LogSnapshot {
  treeSize: number;
  /** The C2SP signed note of that size ('' when the log has no checkpoint yet). */
  checkpoint: string;
  range: [number, number];
}

class Interned<T> {
  readonly #ids = new Map<string, number>();
  readonly values: T[] = [];
  id(key: string, make: () => T): number {
    let id = this.#ids.get(key);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(make());
      this.#ids.set(key, id);
    }
    return id;
  }
}

export class LogWindow {
  readonly snapshot: LogSnapshot;
  readonly #index: number[] = [];
  readonly #time: string[] = [];
  readonly #action: number[] = [];
  readonly #actor: number[] = [];
  readonly #target: number[] = [];
  readonly #outcome: number[] = [];
  readonly #run: number[] = [];
  readonly #actions = new Interned<string>();
  readonly #actors = new Interned<{ type: string; id: string }>();
  readonly #targets = new Interned<{ type: string; id: string } | null>();
  readonly #outcomes = new Interned<string>();
  readonly #runs = new Interned<string | null>();

  private constructor(snapshot: LogSnapshot) {
    this.snapshot = snapshot;
    this.#targets.id('', () => null);
    this.#runs.id('', () => null);
  }

  /** Reads entries `[range[0], range[1])` of the org's log, in index order. */
  static async read(db: Db, logId: string, snapshot: LogSnapshot, signal?: AbortSignal): Promise<LogWindow> {
    const w = new LogWindow(snapshot);
    let next = snapshot.range[0];
    const end = snapshot.range[1];
    while (next < end) {
      signal?.throwIfAborted();
      const rows = await db
        .selectFrom('audit_entries')
        .select([
          'idx',
          'time',
          'actor_type',
          'actor_id',
          'action',
          'target_type',
          'target_id',
          'outcome',
          'run_id',
        ])
        .where('log_id', '=', logId)
        .where('idx', '>=', next)
        .where('idx', '<', Math.min(end, next + PAGE))
        .orderBy('idx')
        .execute();
      for (const r of rows) w.#push(r);
      next = Math.min(end, next + PAGE);
    }
    return w;
  }

  #push(r: {
    idx: number;
    time: string;
    actor_type: string;
    actor_id: string;
    action: string;
    target_type: string | null;
    target_id: string | null;
    outcome: string;
    run_id: string | null;
  }): void {
    this.#index.push(Number(r.idx));
    this.#time.push(r.time);
    this.#action.push(this.#actions.id(r.action, () => r.action));
    const actor = `${r.actor_type}:${r.actor_id}`;
    this.#actor.push(this.#actors.id(actor, () => ({ type: r.actor_type, id: r.actor_id })));
    const target = r.target_type && r.target_id ? `${r.target_type}:${r.target_id}` : '';
    this.#target.push(
      this.#targets.id(target, () => (target ? { type: r.target_type!, id: r.target_id! } : null)),
    );
    this.#outcome.push(this.#outcomes.id(r.outcome, () => r.outcome));
    this.#run.push(this.#runs.id(r.run_id ?? '', () => r.run_id));
  }

  /** How many entries the window holds (fewer than the range only if the log lost some). */
  get length(): number {
    return this.#index.length;
  }

  /** The entries' headers, in index order (a fresh object each; actor and target are shared). */
  *entries(): Generator<FigureEntry> {
    for (let i = 0; i < this.#index.length; i++) {
      yield {
        index: this.#index[i]!,
        time: this.#time[i]!,
        actor: this.#actors.values[this.#actor[i]!]!,
        action: this.#actions.values[this.#action[i]!]!,
        target: this.#targets.values[this.#target[i]!]!,
        outcome: this.#outcomes.values[this.#outcome[i]!]!,
        run: this.#runs.values[this.#run[i]!]!,
      };
    }
  }

  /** The figure over the window's entries, exactly as `computeFigure` gives it. */
  figure(spec: FigureSpec): FigureValue {
    return computeFigure(spec, this.entries());
  }
}
