/**
 * The journal of records written before they are placed (embedded store, a started writer): a
 * tool call's result is appended here — one write, no sync: in the kernel's page cache it
 * survives the process being killed — before the agent gets its answer, and placed in its log's
 * tree with the next batch, usually the next decision's transaction, whose sync makes it durable.
 * It saves a transaction per call. The file is emptied once everything written to it is placed
 * and it has grown past `EMPTY_PAST` (emptying it after every batch cost as much as it saved), and
 * on close; at start it is read back, and what a killed process left unplaced is placed.
 */
import {
  appendFileSync,
  chmodSync,
  closeSync,
  ftruncateSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { canonicalHeader, detailsDigest, PLATFORM_LOG, type PreparedEntry } from './entry.ts';
import { hashLeaf } from './merkle.ts';

/** Bytes of placed records the file may hold before it is emptied (a few hundred results). */
const EMPTY_PAST = 256 * 1024;

/** How far ahead of this machine's clock a journaled record's time may be (clocks step). */
const FUTURE_SKEW_MS = 5 * 60_000;

const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const ACTORS = new Set(['person', 'token', 'agent', 'system']);
const OUTCOMES = new Set(['success', 'failure', 'denied']);

/** A line of the file that is not a record this journal wrote: left out, and why (never its content). */
export interface RefusedLine {
  line: number;
  why: string;
}

/**
 * Why a line read back is not a record as `prepareEntry` makes it, or undefined when it is: the
 * file is outside the log's tamper evidence, so what it holds is checked before it is placed —
 * its leaf is its header's canonical JSON, its leaf hash and details digest match, its time is
 * not ahead. (A consistent forgery by someone who can write the file is not caught here.)
 */
export function notAnEntry(value: unknown, now = Date.now()): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a record';
  const e = value as Partial<Record<keyof PreparedEntry, unknown>>;
  const h = e.header as PreparedEntry['header'] | undefined;
  if (typeof h !== 'object' || h === null || h.v !== 2) return 'no header of format 2';
  const text = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 2000;
  if (!text(h.id) || !text(h.action) || !ACTION.test(h.action)) return 'its id or action is malformed';
  if (typeof h.actor !== 'object' || h.actor === null || !ACTORS.has(h.actor.type) || !text(h.actor.id))
    return 'its actor is malformed';
  if (!OUTCOMES.has(h.outcome)) return 'its outcome is malformed';
  if (h.log !== (h.org ?? PLATFORM_LOG)) return 'its log is not its org’s';
  const at = typeof h.time === 'string' ? Date.parse(h.time) : Number.NaN;
  if (!Number.isFinite(at) || at > now + FUTURE_SKEW_MS) return 'its time is malformed or ahead';
  if (typeof e.leaf !== 'string' || e.leaf !== canonicalHeader(h)) return 'its leaf is not its header';
  if (typeof e.leafHash !== 'string' || e.leafHash !== hashLeaf(e.leaf).toString('base64'))
    return 'its leaf hash does not match';
  if (typeof e.details !== 'string' || typeof e.salt !== 'string') return 'its details are missing';
  if (h.detailsDigest !== detailsDigest(e.salt, e.details)) return 'its details do not match their digest';
  try {
    const d = JSON.parse(e.details) as unknown;
    if (typeof d !== 'object' || d === null || Array.isArray(d)) return 'its details are not an object';
  } catch {
    return 'its details are not JSON';
  }
  return undefined;
}

export class EntryJournal {
  readonly #path: string;
  #fd: number | undefined;
  /** Entries in the file not yet placed (the file is emptied only when none are). */
  #unplaced = 0;
  /** Bytes written since the file was last emptied. */
  #size = 0;
  /** The file ends in a torn line: the next write starts a line of its own. */
  #torn = false;
  /** Lines read back at start that were not records (see `notAnEntry`). */
  refused: RefusedLine[] = [];

  constructor(path: string) {
    this.#path = path;
  }

  /**
   * What a previous process left in the file, each line checked (`notAnEntry`): a torn last line
   * is left out (its call was never answered), and so is anything else that is not a record,
   * noted in `refused` for the caller to report.
   */
  left(): PreparedEntry[] {
    let text: string;
    try {
      text = readFileSync(this.#path, 'utf8');
    } catch {
      return [];
    }
    // Left readable by others by an older version (or a hand): its owner's only from now on.
    chmodSync(this.#path, 0o600);
    this.#torn = text.length > 0 && !text.endsWith('\n');
    const lines = text.split('\n');
    const entries: PreparedEntry[] = [];
    const kept: string[] = [];
    const seen = new Set<string>();
    const now = Date.now();
    lines.forEach((line, i) => {
      if (!line) return;
      let why: string | undefined;
      try {
        why = notAnEntry(JSON.parse(line), now);
      } catch {
        // A torn last line: written by a process killed mid-write, before its caller went on.
        if (i === lines.length - 1) return;
        why = 'not JSON';
      }
      const entry = why ? undefined : (JSON.parse(line) as PreparedEntry);
      // Placed twice, a record would fail its batch (the id is unique) at every start.
      if (entry && seen.has(entry.header.id)) why = 'a second copy of a record';
      if (entry && !why) {
        seen.add(entry.header.id);
        entries.push(entry);
      } else {
        this.refused.push({ line: i + 1, why: why ?? 'not a record' });
        kept.push(line);
      }
    });
    // Kept aside for whoever looks into it (the journal itself is emptied once its records are placed).
    if (kept.length > 0) appendFileSync(`${this.#path}.refused`, `${kept.join('\n')}\n`, { mode: 0o600 });
    return entries;
  }

  /** Counts entries found in the file that are being placed again. */
  replaying(n: number): void {
    this.#unplaced += n;
    if (this.#unplaced === 0) this.#empty();
    else this.#size = EMPTY_PAST;
  }

  /** Appends an entry; once this returns it survives the process being killed. */
  write(entry: PreparedEntry): void {
    this.#fd ??= this.#open();
    this.#size += writeSync(this.#fd, `${JSON.stringify(entry)}\n`);
    this.#unplaced += 1;
  }

  /** `n` entries of the file are placed (committed): the file is emptied once all are and it is large. */
  placed(n: number): void {
    if (n === 0) return;
    this.#unplaced -= n;
    if (this.#unplaced === 0 && this.#size >= EMPTY_PAST) this.#empty();
  }

  /**
   * Emptied now if everything in it is placed: after a flush, no copy of a placed record's
   * details is left here (a deletion on request erases them from the log next).
   */
  emptyIfPlaced(): void {
    if (this.#unplaced === 0 && this.#size > 0) this.#empty();
  }

  /** Emptied if everything in it is placed (a clean stop leaves nothing to replay). */
  close(): void {
    this.emptyIfPlaced();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #empty(): void {
    this.#fd ??= this.#open();
    ftruncateSync(this.#fd, 0);
    this.#size = 0;
  }

  /** Appending (every write lands at the end, after an emptying too); readable by its owner only. */
  #open(): number {
    const fd = openSync(this.#path, 'a', 0o600);
    chmodSync(this.#path, 0o600);
    // Glued to a torn line, a record would be lost with it at the next start.
    if (this.#torn) writeSync(fd, '\n');
    this.#torn = false;
    return fd;
  }
}
