/**
 * The journal of records written before they are placed (embedded store, a started writer). The
 * gate's decisions are appended here and `fdatasync`'d (one sync serves every record written
 * before it started: group commit) — durable — and a tool call's result is appended before the
 * agent gets its answer — one write, no sync of its own: in the kernel's page cache it survives the
 * process being killed, and the next decision's sync, or one within `SYNC_LATER_MS`, makes it
 * durable. Both are placed in their log's tree in batches later, by commits that need no sync of
 * their own: a record leaves the journal only once a sync of the database covers its placement.
 * That is one small append and one sync per decision instead of a transaction writing a dozen
 * pages, synced.
 *
 * Two files take turns: records are appended to the current one; once it has grown past
 * `EMPTY_PAST` the other (emptied) takes over, and the first is emptied once everything in it is
 * placed and that placement synced — no record is ever written to a file being emptied. At start
 * both are read back, and what a killed process left unplaced is placed.
 */
import {
  appendFileSync,
  chmodSync,
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { basename, dirname } from 'node:path';
import { FileSync, type FileSyncOptions } from '../store/file-sync.ts';
import { canonicalHeader, detailsDigest, PLATFORM_LOG, type PreparedEntry } from './entry.ts';
import { hashLeaf } from './merkle.ts';

/** Bytes a file may hold before the other takes over and it is emptied (a few hundred calls). */
const EMPTY_PAST = 1024 * 1024;

/** How far ahead of this machine's clock a journaled record's time may be (clocks step). */
const FUTURE_SKEW_MS = 5 * 60_000;

const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const ACTORS = new Set(['person', 'token', 'agent', 'system']);
const OUTCOMES = new Set(['success', 'failure', 'denied']);

/** A line of the file that is not a record this journal wrote: left out, and why (never its content). */
export interface RefusedLine {
  /** The journal file's name. */
  file: string;
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

/** The journal's two files: `audit-journal.jsonl` and `audit-journal-2.jsonl`. */
export function journalFiles(path: string): [string, string] {
  return [path, path.endsWith('.jsonl') ? `${path.slice(0, -'.jsonl'.length)}-2.jsonl` : `${path}.2`];
}

/** An entry read back at start, with the file (0 or 1) it is in. */
export interface LeftEntry {
  entry: PreparedEntry;
  file: number;
}

/** One of the two files. */
class JournalFile {
  readonly path: string;
  readonly synced: FileSync;
  fd: number | undefined;
  /** Entries in the file not yet placed (the file is emptied only when none are). */
  unplaced = 0;
  /** Bytes written since the file was last emptied. */
  size = 0;
  /** The file ends in a torn line: the next write starts a line of its own. */
  torn = false;
  /** Made by this process: its folder's entry is synced with its first sync (`EntryJournal.sync`). */
  made = false;
  /** That sync of the folder, once asked for. */
  folderSynced: Promise<void> | undefined;

  constructor(path: string, opts: FileSyncOptions) {
    this.path = path;
    this.synced = new FileSync(path, 'the audit journal', opts);
  }

  /** Appending (every write lands at the end, after an emptying too); readable by its owner only. */
  open(): number {
    if (this.fd !== undefined) return this.fd;
    if (!existsSync(this.path)) this.made = true;
    const fd = openSync(this.path, 'a', 0o600);
    chmodSync(this.path, 0o600);
    // Glued to a torn line, a record would be lost with it at the next start.
    if (this.torn) writeSync(fd, '\n');
    this.torn = false;
    this.fd = fd;
    return fd;
  }

  empty(): void {
    ftruncateSync(this.open(), 0);
    this.size = 0;
  }
}

export class EntryJournal {
  readonly #files: [JournalFile, JournalFile];
  readonly #emptyPast: number;
  /** The journal's folder: a file made in it is there after a power cut once the folder is synced. */
  readonly #folder: FileSync;
  /** The file records are appended to. */
  #current = 0;
  /** The emptying under way (`emptyPlaced`), if any: the next waits for it. */
  #emptying: Promise<void> = Promise.resolve();
  /** The first failed sync of either file (see `sync`). */
  #failed: Error | undefined;
  /** Lines read back at start that were not records (see `notAnEntry`). */
  refused: RefusedLine[] = [];

  constructor(path: string, opts: FileSyncOptions = {}, emptyPast = EMPTY_PAST) {
    const [a, b] = journalFiles(path);
    // Told once, whichever of the files (or their folder) fails first.
    let told = false;
    const onFatal = opts.onFatal;
    const once: FileSyncOptions = {
      ...opts,
      ...(onFatal && {
        onFatal: (err: Error) => {
          if (!told) onFatal(err);
          told = true;
        },
      }),
    };
    this.#files = [new JournalFile(a, once), new JournalFile(b, once)];
    this.#folder = new FileSync(dirname(a), 'the audit journal', once);
    this.#emptyPast = emptyPast;
  }

  /**
   * What a previous process left in the files, each line checked (`notAnEntry`): a torn last line
   * is cut off the file (its call was never answered); anything else that is not a record is left
   * out, noted in `refused` for the caller to report. Each entry found counts as unplaced until
   * `placed` says otherwise (the caller looks up which are).
   */
  left(): LeftEntry[] {
    const inFile: [LeftEntry[], LeftEntry[]] = [[], []];
    const seen = new Set<string>();
    const now = Date.now();
    this.#files.forEach((file, k) => {
      let bytes: Buffer;
      let text: string;
      try {
        bytes = readFileSync(file.path);
        text = bytes.subarray(0, bytes.lastIndexOf(0x0a) + 1).toString('utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        // Taken for an empty file, it would be written to and emptied with the records it holds.
        throw new Error(`the audit journal ${file.path} could not be read: ${(err as Error).message}`);
      }
      // Left readable by others by an older version (or a hand): its owner's only from now on.
      chmodSync(file.path, 0o600);
      // A torn last line (a process killed mid-write, before its caller went on) is cut off: kept,
      // it would sit between records once the next is written, be refused at a later start as
      // damage, and its details (a call's arguments) copied aside, out of a deletion's reach.
      const whole = bytes.lastIndexOf(0x0a) + 1;
      if (whole < bytes.length) truncateSync(file.path, whole);
      file.size = whole;
      const lines = text.split('\n');
      const kept: string[] = [];
      lines.forEach((line, i) => {
        if (!line) return;
        let why: string | undefined;
        try {
          why = notAnEntry(JSON.parse(line), now);
        } catch {
          why = 'not JSON';
        }
        const entry = why ? undefined : (JSON.parse(line) as PreparedEntry);
        // Placed twice, a record would fail its batch (the id is unique) at every start.
        if (entry && seen.has(entry.header.id)) why = 'a second copy of a record';
        if (entry && !why) {
          seen.add(entry.header.id);
          inFile[k]!.push({ entry, file: k });
          file.unplaced += 1;
        } else {
          this.refused.push({ file: basename(file.path), line: i + 1, why: why ?? 'not a record' });
          kept.push(line);
        }
      });
      // Kept aside for whoever looks into it (the journal itself is emptied once its records are placed).
      if (kept.length > 0)
        appendFileSync(`${this.#files[0].path}.refused`, `${kept.join('\n')}\n`, { mode: 0o600 });
    });
    // The files take turns, so one's records are all older than the other's: placed first, as
    // they were written (a decision before its result), and new records follow the newer file.
    const first = (k: number) =>
      Date.parse(inFile[k]![0]?.entry.header.time ?? '') || Number.POSITIVE_INFINITY;
    const older = first(1) < first(0) ? 1 : 0;
    // Whatever a file holds now is emptied once placed: new records go to an empty one if there is one.
    if (this.#files[0].size > 0 && this.#files[1].size === 0) this.#current = 1;
    else if (this.#files[0].size > 0 && this.#files[1].size > 0) this.#current = 1 - older;
    return [...inFile[older]!, ...inFile[1 - older]!];
  }

  /** Appends an entry; once this returns it survives the process being killed. Returns its file. */
  write(entry: PreparedEntry): number {
    let file = this.#files[this.#current]!;
    const other = this.#files[1 - this.#current]!;
    if (file.size >= this.#emptyPast && other.size === 0 && other.unplaced === 0) {
      this.#current = 1 - this.#current;
      file = other;
    }
    const line = `${JSON.stringify(entry)}\n`;
    const written = writeSync(file.open(), line);
    file.size += written;
    if (written < Buffer.byteLength(line)) {
      // Only part of it taken (the disk full, a file size limit): not a record. The part is cut
      // off (left, it would be refused as damage at a later start and its details copied aside);
      // if that fails, what follows starts a line of its own (`open`), else it would be lost glued to it.
      try {
        ftruncateSync(file.fd!, fstatSync(file.fd!).size - written);
        file.size -= written;
      } catch {
        file.torn = true;
      }
      closeSync(file.fd!);
      file.fd = undefined;
      throw new Error(
        `the audit journal could not be written: ${written} of ${Buffer.byteLength(line)} bytes`,
      );
    }
    file.unplaced += 1;
    return this.#current;
  }

  /** Resolves once everything written to `file` so far is on disk. */
  sync(file: number): Promise<void> {
    // A failed sync of either file: nothing is acknowledged as durable again, in the other file neither.
    if (this.#failed) return Promise.reject(this.#failed);
    const f = this.#files[file]!;
    if (f.made) f.folderSynced ??= this.#folder.sync();
    return Promise.all([f.synced.sync(), f.folderSynced]).then(
      () => undefined,
      (err: Error) => {
        this.#failed ??= err;
        throw err;
      },
    );
  }

  /** Makes what is written to `file` durable within `SYNC_LATER_MS`, unless a sync covers it first. */
  syncSoon(file: number): void {
    const f = this.#files[file]!;
    // A file made here is durable only once its folder is too (as `sync` does): asked for with the lazy sync.
    f.synced.syncSoon(
      f.made
        ? () => {
            f.folderSynced ??= this.#folder.sync();
            f.folderSynced.catch(() => undefined);
          }
        : undefined,
    );
  }

  /** fdatasync calls made on the journal (benchmarks). */
  get syncs(): number {
    return this.#files[0].synced.made + this.#files[1].synced.made;
  }

  /** Of those, made on the event loop (`FileSync`'s `inline`). */
  get syncsInline(): number {
    return this.#files[0].synced.madeInline + this.#files[1].synced.madeInline;
  }

  /** Entries of these files are placed (committed, perhaps not yet synced). */
  placed(files: number[]): void {
    for (const k of files) this.#files[k]!.unplaced -= 1;
  }

  /** Whether the file no longer written to holds records not yet placed (it is emptied once they are). */
  get heldBack(): boolean {
    return this.#files[1 - this.#current]!.unplaced > 0;
  }

  /** Whether a file no longer written to has everything in it placed: `emptyPlaced` would empty it. */
  get retired(): boolean {
    const other = this.#files[1 - this.#current]!;
    return other.size > 0 && other.unplaced === 0;
  }

  /**
   * Empties the files whose records are all placed, once `syncPlaced` has made those placements
   * durable; with `all`, the current file too (it hands over to the other first), so that after a
   * flush no copy of a placed record's details is left here (a deletion on request erases them
   * from the log next). Records written meanwhile go to the current file, never one being emptied.
   */
  emptyPlaced(syncPlaced: () => Promise<void>, all = false): Promise<void> {
    // One at a time: another's hand-over while this one waits for its sync would make the file it
    // retired current again, written to and placed since that sync started.
    const run = this.#emptying.then(() => this.#emptyPlaced(syncPlaced, all));
    this.#emptying = run.catch(() => undefined);
    return run;
  }

  async #emptyPlaced(syncPlaced: () => Promise<void>, all: boolean): Promise<void> {
    for (let round = 0; round < 2; round++) {
      const current = this.#files[this.#current]!;
      const other = this.#files[1 - this.#current]!;
      // Handed over even with records not yet placed (written since the flush, under load): else
      // the placed ones beside them would stay; those are placed by the next flush (`heldBack`).
      if (all && current.size > 0 && other.size === 0) this.#current = 1 - this.#current;
      const retired = this.#files[1 - this.#current]!;
      if (retired.size === 0 || retired.unplaced > 0) return;
      await syncPlaced();
      // Nothing is written to a retired file: what was placed before the sync is all it holds.
      if (retired.unplaced === 0 && retired !== this.#files[this.#current]) {
        retired.empty();
        // The emptying made durable too: else a power cut could bring the records back (the details
        // a deletion on request, which flushes first, has erased since).
        await this.sync(this.#files.indexOf(retired));
      }
      if (!all) return;
    }
  }

  /** Syncs what is left unplaced and closes the files (the caller empties them first: `emptyPlaced`, all). */
  async close(): Promise<void> {
    for (const file of this.#files) {
      // Records still here (written after the last flush) get the sync their lazy one would have
      // made: closing clears its timer. A failure is told by `onFatal`.
      if (file.fd !== undefined && file.unplaced > 0) {
        if (file.made) file.folderSynced ??= this.#folder.sync();
        await Promise.all([file.synced.sync(), file.folderSynced]).catch(() => undefined);
      }
      await file.synced.close();
      if (file.fd !== undefined) closeSync(file.fd);
      file.fd = undefined;
    }
    await this.#folder.close();
  }
}
