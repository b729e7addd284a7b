/**
 * One server per SQLite data folder: the database, its WAL and the audit journal are written by
 * one process (several replicas need PostgreSQL). The lock is an exclusive SQLite transaction on
 * a file of its own, held while the server runs: the operating system lets go of it when the
 * process ends, however it ends, so a kill -9 leaves no stale lock behind.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export class DataFolderInUseError extends Error {
  constructor(home: string) {
    super(
      `Another Paddock server is running on the data folder ${home}: on SQLite one server owns the database. Stop that one first, or run several replicas on PostgreSQL (PADDOCK_DATABASE_URL).`,
    );
    this.name = 'DataFolderInUseError';
  }
}

/** Takes the data folder for this process, or throws `DataFolderInUseError`; returns the release. */
export function holdDataFolder(home: string): () => void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const lock = new DatabaseSync(join(home, 'server.lock'));
  try {
    lock.exec('PRAGMA locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    lock.close();
    if (/locked|busy/i.test((err as Error).message)) throw new DataFolderInUseError(home);
    throw err;
  }
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    lock.close();
  };
}
