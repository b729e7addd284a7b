/**
 * The audit journal's files as a test reads and writes them: records up to the zeros written
 * ahead of them (`src/audit/journal.ts`), and records added where a process writing it would.
 */
import { closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';

/** The records a journal file holds: its text up to the first zero byte. */
export function journalRecords(path: string): string {
  const bytes = readFileSync(path);
  const end = bytes.indexOf(0);
  return bytes.toString('utf8', 0, end < 0 ? bytes.length : end);
}

/** Writes `text` after the records the file holds (made if missing), as a process writing the journal would. */
export function addToJournal(path: string, text: string): void {
  let at = 0;
  try {
    at = Buffer.byteLength(journalRecords(path));
  } catch {
    // No file yet: made below.
  }
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT, 0o600);
  try {
    writeSync(fd, text, at, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** The ids of the records a journal file holds, in order (a line that is not one: undefined). */
export function journalIds(path: string): Array<string | undefined> {
  return journalRecords(path)
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      try {
        const e = JSON.parse(line) as { leaf?: string; header?: { id?: string } };
        return e.header?.id ?? (JSON.parse(e.leaf ?? 'null') as { id?: string } | null)?.id;
      } catch {
        return undefined;
      }
    });
}
