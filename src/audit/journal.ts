/**
 * The journal of records written before they are placed (embedded store, a started writer): a
 * tool call's result is appended here — one write, no sync: in the kernel's page cache it
 * survives the process being killed — before the agent gets its answer, and placed in its log's
 * tree with the next batch, usually the next decision's transaction, whose sync makes it durable.
 * It saves a transaction per call. The file is emptied once everything written to it is placed
 * and it has grown past `EMPTY_PAST` (emptying it after every batch cost as much as it saved), and
 * on close; at start it is read back, and what a killed process left unplaced is placed.
 */
import { chmodSync, closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { PreparedEntry } from './entry.ts';

/** Bytes of placed records the file may hold before it is emptied (a few hundred results). */
const EMPTY_PAST = 256 * 1024;

export class EntryJournal {
  readonly #path: string;
  #fd: number | undefined;
  /** Entries in the file not yet placed (the file is emptied only when none are). */
  #unplaced = 0;
  /** Bytes written since the file was last emptied. */
  #size = 0;

  constructor(path: string) {
    this.#path = path;
  }

  /** What a previous process left in the file (a line torn by a kill is left out: its call was never answered). */
  left(): PreparedEntry[] {
    let text: string;
    try {
      text = readFileSync(this.#path, 'utf8');
    } catch {
      return [];
    }
    const entries: PreparedEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        entries.push(JSON.parse(line) as PreparedEntry);
      } catch {
        // A torn last line: written by a process killed mid-write, before its caller went on.
      }
    }
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
    return fd;
  }
}
