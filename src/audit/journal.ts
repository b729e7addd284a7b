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
 *
 * Each file is written ahead with zeros (twice `EMPTY_PAST`), and records are written over them:
 * a sync then flushes the record alone, where an append also writes the file's size to disk — a
 * second write per sync, a sixth of a governed call's kernel time. The records end at the first
 * zero byte (JSON text has none); emptying writes zeros over them.
 */

import { hash } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  closeSync,
  constants,
  existsSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  statSync,
  write,
  writeSync,
} from 'node:fs';
import { basename, dirname } from 'node:path';
import { promisify } from 'node:util';
import { FileSync, type FileSyncOptions } from '../store/file-sync.ts';
import { canonicalHeader, detailsDigest, PLATFORM_LOG, type PreparedEntry } from './entry.ts';
import { leafHashBase64 } from './merkle.ts';

/** Bytes a file may hold before the other takes over and it is emptied (a few hundred calls). */
const EMPTY_PAST = 1024 * 1024;

const writeAt = promisify(write);

/**
 * How far ahead of this machine's clock (or of its file's last write, for a clock stepped back
 * since) a journaled record's time may be.
 */
const FUTURE_SKEW_MS = 5 * 60_000;

const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const ACTORS = new Set(['person', 'token', 'agent', 'system']);
const OUTCOMES = new Set(['success', 'failure', 'denied']);

/** When a file was last written (its modification time), or 0 when there is none. */
function lastWrite(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

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
 * not ahead of `now` (the later of the clock and its file's last write: a record acknowledged
 * before the clock was stepped back is no less a record). (A consistent forgery by someone who
 * can write the file is not caught here.)
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
  if (typeof e.leafHash !== 'string' || e.leafHash !== leafHashBase64(e.leaf))
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

/**
 * A record as a line of the journal: its leaf (the header's canonical JSON), details and salt.
 * The header and leaf hash follow from the leaf; lines an older version wrote carry them too.
 */
export function journalLine(e: PreparedEntry): string {
  return `${JSON.stringify({ leaf: e.leaf, details: e.details, salt: e.salt })}\n`;
}

/** A line's value as a record (header and leaf hash from its leaf, where the line has only that), for `notAnEntry` to check. */
function asRecord(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const e = value as Record<string, unknown>;
  if ('header' in e || typeof e.leaf !== 'string') return value;
  try {
    return { ...e, header: JSON.parse(e.leaf), leafHash: leafHashBase64(e.leaf) };
  } catch {
    return value;
  }
}

const HEADER_FIELDS = [
  'v',
  'id',
  'time',
  'log',
  'org',
  'action',
  'outcome',
  'requestId',
  'run',
  'detailsDigest',
] as const;

/** A header's fields as kept aside: the whitelisted ones only, each text (at most 200 characters), a number or null. */
function narrowHeader(h: object): Record<string, unknown> {
  const field = (v: unknown) => (typeof v === 'string' ? v.slice(0, 200) : typeof v === 'number' ? v : null);
  const header: Record<string, unknown> = {};
  for (const k of HEADER_FIELDS) header[k] = field((h as Record<string, unknown>)[k]);
  const who = (h as { actor?: { type?: unknown; id?: unknown } }).actor;
  header.actor = { type: field(who?.type), id: field(who?.id) };
  const on = (h as { target?: { type?: unknown; id?: unknown } | null }).target;
  header.target = on ? { type: field(on.type), id: field(on.id) } : null;
  return header;
}

/** What `keptAside` writes for a line of this length and hash, with this header (if it read as a record). */
const asideLine = (why: string, bytes: number, sha256: string, header: object | undefined) =>
  JSON.stringify({ why, bytes, sha256, ...(header && { header: narrowHeader(header) }) });

/**
 * What is kept aside of a line refused at start: its length and SHA-256, of its bytes as they were
 * (enough to match it with a copy), and, where it reads as a record, its header's fields — who,
 * what, when, on what — never its details or salt. A refused line may be a call's arguments, and
 * no deletion on request reaches the file it is kept in.
 */
export function keptAside(line: Buffer, why: string): string {
  const sha256 = hash('sha256', line, 'hex');
  let value: unknown;
  try {
    value = asRecord(JSON.parse(line.toString('utf8')));
  } catch {
    return asideLine(why, line.length, sha256, undefined);
  }
  const h = (value as { header?: unknown } | null)?.header;
  return asideLine(why, line.length, sha256, typeof h === 'object' && h !== null ? h : undefined);
}

/** A line exactly as `keptAside` writes it (an earlier version kept refused lines whole). */
function isKeptAside(line: string): boolean {
  try {
    const v = JSON.parse(line) as Record<string, unknown> | null;
    if (typeof v?.why !== 'string' || typeof v.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(v.sha256))
      return false;
    if (!Number.isSafeInteger(v.bytes)) return false;
    const h = v.header;
    if (h !== undefined && (typeof h !== 'object' || h === null)) return false;
    return line === asideLine(v.why, v.bytes as number, v.sha256, h as object | undefined);
  } catch {
    return false;
  }
}

/** The lines of `bytes` that are not empty (each without its newline, as its bytes are), with their numbers. */
function linesOf(bytes: Buffer): Array<{ bytes: Buffer; line: number }> {
  const lines: Array<{ bytes: Buffer; line: number }> = [];
  for (let at = 0, line = 1; at < bytes.length; line++) {
    const nl = bytes.indexOf(0x0a, at);
    const end = nl < 0 ? bytes.length : nl;
    if (end > at) lines.push({ bytes: bytes.subarray(at, end), line });
    at = end + 1;
  }
  return lines;
}

/** Writes `length` zeros at `at`; returns how many the disk took. */
function writeZeros(fd: number, at: number, length: number): number {
  return writeSync(fd, Buffer.alloc(length), 0, length, at);
}

/** Above this the kept-aside file is left as it is (and said so): it is read whole to be narrowed. */
const NARROW_AT_MOST = 64 * 1024 * 1024;

/**
 * Lines an earlier version kept aside whole (a call's arguments with them) rewritten as
 * `keptAside` keeps them now, over the old bytes in place — zeros over what the shorter text no
 * longer covers before the file is cut short: a copy renamed over it, or a cut alone, would leave
 * them in freed blocks. Only a regular file (not a link or a pipe); a failure is a warning, not a
 * failed start.
 */
function narrowKeptAside(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      process.emitWarning(`${path} could not be opened to narrow it: ${(err as Error).message}`);
    return;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > NARROW_AT_MOST) {
      process.emitWarning(`${path} is not a file of at most 64 MB: left as it is`);
      return;
    }
    const bytes = readFileSync(fd);
    const lines = linesOf(bytes).map((l) => ({ raw: l.bytes, text: l.bytes.toString('utf8') }));
    const done = lines.map((l) => isKeptAside(l.text));
    if (done.every(Boolean)) return;
    const narrowed = Buffer.from(
      `${lines.map((l, i) => (done[i] ? l.text : keptAside(l.raw, 'kept aside whole by an earlier version'))).join('\n')}\n`,
    );
    writeSync(fd, narrowed, 0, narrowed.length, 0);
    if (bytes.length > narrowed.length) writeZeros(fd, narrowed.length, bytes.length - narrowed.length);
    fdatasyncSync(fd);
    ftruncateSync(fd, narrowed.length);
    fdatasyncSync(fd);
  } catch (err) {
    process.emitWarning(`${path} could not be narrowed: ${(err as Error).message}`);
  } finally {
    closeSync(fd);
  }
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

/** Where the records of a file's bytes end: the last whole line before its first zero byte. */
function recordsEnd(bytes: Buffer): number {
  const nul = bytes.indexOf(0);
  const end = nul < 0 ? bytes.length : nul;
  return end === 0 ? 0 : bytes.lastIndexOf(0x0a, end - 1) + 1;
}

/**
 * Where the records of a file read back end, with whatever follows them zeroed and synced: a
 * torn line (a process killed mid-write, before its caller went on) or what an emptying cut
 * short left of placed records. Kept, a torn line would sit between records once the next is
 * written and be refused at a later start as damage; the zeros are synced, or a power cut could
 * bring back details a deletion on request has since been told are gone.
 */
function settle(path: string, bytes: Buffer, syncNow: (fd: number) => void): number {
  const whole = recordsEnd(bytes);
  const rest = bytes.subarray(whole);
  if (rest.equals(Buffer.alloc(rest.length))) return whole;
  const fd = openSync(path, constants.O_WRONLY);
  try {
    writeZeros(fd, whole, rest.length);
    syncNow(fd);
  } finally {
    closeSync(fd);
  }
  return whole;
}

/** One of the two files. */
class JournalFile {
  readonly path: string;
  readonly synced: FileSync;
  /** The zeros written ahead: records written within them change nothing else in the file. */
  readonly #ahead: number;
  /** Told when the zeros written ahead could not be synced (fatal, as a failed sync of a record is). */
  readonly #fatal: (err: Error) => void;
  /** `fdatasyncSync` (tests: theirs). */
  readonly #syncNow: (fd: number) => void;
  fd: number | undefined;
  /** Entries in the file not yet placed (the file is emptied only when none are). */
  unplaced = 0;
  /** Where the next record goes: the bytes written since the file was last emptied (zeros after them). */
  size = 0;
  /** How far anything was written since the last emptying (a short write's part too): what an emptying zeroes. */
  #written = 0;
  /** `size` is read from the file (at start); else it is when the file is opened. */
  known = false;
  /** Made by this process: its folder's entry is synced with its first sync (`EntryJournal.sync`). */
  made = false;
  /** That sync of the folder, once asked for. */
  folderSynced: Promise<void> | undefined;

  constructor(path: string, opts: FileSyncOptions, ahead: number, fatal: (err: Error) => void) {
    this.path = path;
    this.synced = new FileSync(path, 'the audit journal', opts);
    this.#ahead = ahead;
    this.#fatal = fatal;
    this.#syncNow = opts.fdatasyncSync ?? fdatasyncSync;
  }

  /** The records read back at start: they end at `size`, whatever followed them zeroed. */
  readBack(bytes: Buffer): void {
    this.size = settle(this.path, bytes, this.#syncNow);
    this.#written = this.size;
    this.known = true;
  }

  /** Open for writing at `size` (not appending: the file's end is zeros written ahead); readable by its owner only. */
  open(): number {
    if (this.fd !== undefined) return this.fd;
    if (!existsSync(this.path)) this.made = true;
    const fd = openSync(this.path, constants.O_RDWR | constants.O_CREAT, 0o600);
    try {
      chmodSync(this.path, 0o600);
      // Never read back (a journal made without `left`): written after what it holds, never over it.
      if (!this.known) this.readBack(readFileSync(fd));
      this.#writeAhead(fd);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.fd = fd;
    return fd;
  }

  /** Zeros up to `#ahead`, on disk before a record relies on them; none where the disk has no room (records then grow the file). */
  #writeAhead(fd: number): void {
    const length = fstatSync(fd).size;
    if (length >= this.#ahead) return;
    let written = 0;
    try {
      written = writeZeros(fd, length, this.#ahead - length);
    } catch {
      return;
    }
    if (written === 0) return;
    try {
      this.#syncNow(fd);
    } catch (err) {
      this.#fatal(err as Error);
      throw err;
    }
  }

  /** Writes `line` at `size`; returns the bytes the disk took (all of them, or the part it had room for). */
  write(line: string): number {
    const written = writeSync(this.open(), line, this.size, 'utf8');
    this.#written = Math.max(this.#written, this.size + written);
    return written;
  }

  /**
   * Writes zeros over everything written since the last emptying (the caller syncs): nothing of
   * it can be read back, and the zeros stay written ahead for the next records. Nothing writes
   * to the file meanwhile (it is retired).
   */
  async empty(): Promise<void> {
    const fd = this.open();
    const zeros = Buffer.alloc(this.#written);
    for (let at = 0; at < zeros.length; ) {
      const { bytesWritten } = await writeAt(fd, zeros, at, zeros.length - at, at);
      if (bytesWritten === 0) throw new Error(`the audit journal ${this.path} could not be emptied`);
      at += bytesWritten;
    }
    this.size = 0;
    this.#written = 0;
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
  /** `close` was called: an emptying waiting for its sync stops there. */
  #closed = false;
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
    const fatal = (err: Error) => {
      this.#failed ??= err;
      once.onFatal?.(err);
    };
    this.#files = [
      new JournalFile(a, once, 2 * emptyPast, fatal),
      new JournalFile(b, once, 2 * emptyPast, fatal),
    ];
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
    narrowKeptAside(`${this.#files[0].path}.refused`);
    const inFile: [LeftEntry[], LeftEntry[]] = [[], []];
    const seen = new Set<string>();
    // Records were written by the clock of the files' last write, which may be ahead of this one
    // (stepped back since); the later file's, as the other may have been written before the step.
    const written = Math.max(Date.now(), ...this.#files.map((f) => lastWrite(f.path)));
    this.#files.forEach((file, k) => {
      let bytes: Buffer;
      try {
        bytes = readFileSync(file.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        // Taken for an empty file, it would be written to and emptied with the records it holds.
        throw new Error(`the audit journal ${file.path} could not be read: ${(err as Error).message}`);
      }
      // Left readable by others by an older version (or a hand): its owner's only from now on.
      chmodSync(file.path, 0o600);
      file.readBack(bytes);
      const kept: string[] = [];
      for (const { bytes: raw, line: number } of linesOf(bytes.subarray(0, file.size))) {
        const line = raw.toString('utf8');
        let why: string | undefined;
        let value: unknown;
        try {
          value = asRecord(JSON.parse(line));
          why = notAnEntry(value, written);
        } catch {
          why = 'not JSON';
        }
        const entry = why ? undefined : (value as PreparedEntry);
        // Placed twice, a record would fail its batch (the id is unique) at every start.
        if (entry && seen.has(entry.header.id)) why = 'a second copy of a record';
        if (entry && !why) {
          seen.add(entry.header.id);
          inFile[k]!.push({ entry, file: k });
          file.unplaced += 1;
        } else {
          this.refused.push({ file: basename(file.path), line: number, why: why ?? 'not a record' });
          kept.push(keptAside(raw, why ?? 'not a record'));
        }
      }
      // What a refused line was, kept aside for whoever looks into it (the journal itself is emptied once its records are placed).
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
    // Closed: a write would open a file again, and nothing would sync or close it.
    if (this.#closed) throw new Error('the audit journal is closed');
    let file = this.#files[this.#current]!;
    const other = this.#files[1 - this.#current]!;
    if (file.size >= this.#emptyPast && other.size === 0 && other.unplaced === 0) {
      this.#current = 1 - this.#current;
      file = other;
    }
    const line = journalLine(entry);
    const written = file.write(line);
    if (written < Buffer.byteLength(line)) {
      // Only part of it taken (the disk full, a file size limit): not a record. The part is zeroed
      // (left, it would be refused as damage at a later start); if
      // that fails, the next record is written over it, and the next emptying zeroes what is left.
      try {
        writeZeros(file.fd!, file.size, written);
      } catch {
        // Cut off at the next start (`settle`) if no record or emptying covers it first.
      }
      closeSync(file.fd!);
      file.fd = undefined;
      throw new Error(
        `the audit journal could not be written: ${written} of ${Buffer.byteLength(line)} bytes`,
      );
    }
    file.size += written;
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
    for (let round = 0; round < 2 && !this.#closed; round++) {
      const current = this.#files[this.#current]!;
      const other = this.#files[1 - this.#current]!;
      // Handed over even with records not yet placed (written since the flush, under load): else
      // the placed ones beside them would stay; those are placed by the next flush (`heldBack`).
      if (all && current.size > 0 && other.size === 0) this.#current = 1 - this.#current;
      const retired = this.#files[1 - this.#current]!;
      if (retired.size === 0 || retired.unplaced > 0) return;
      await syncPlaced();
      // Closed meanwhile: its files are not opened again (the next start empties what is placed).
      if (this.#closed) return;
      // Nothing is written to a retired file: what was placed before the sync is all it holds.
      if (retired.unplaced === 0 && retired !== this.#files[this.#current]) {
        await retired.empty();
        // The emptying made durable too: else a power cut could bring the records back (the details
        // a deletion on request, which flushes first, has erased since).
        await this.sync(this.#files.indexOf(retired));
      }
      if (!all) return;
    }
  }

  /**
   * Syncs what is left unplaced and closes the files (the caller empties them first:
   * `emptyPlaced`, all), once an emptying under way is done: closed under its write of zeros,
   * a file's descriptor could be reused by another file and the zeros land there.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#emptying;
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
