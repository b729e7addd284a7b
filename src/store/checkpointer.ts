/**
 * Worker thread that checkpoints the SQLite WAL into the database file, with full syncs, on
 * its own connection: the copy and its fsyncs never stall the server's event loop, and WAL-mode
 * writers go on meanwhile. The main thread asks; the worker answers with what it copied.
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

// Opened on the first request: a store closed before it ever checkpoints opens nothing here.
let db: DatabaseSync | undefined;
const open = () => {
  db = new DatabaseSync((workerData as { path: string }).path);
  db.exec('PRAGMA synchronous = FULL');
  db.exec('PRAGMA busy_timeout = 5000');
  return db;
};

parentPort!.on('message', (m: 'checkpoint' | 'close') => {
  if (m === 'close') {
    db?.close();
    parentPort!.close();
    return;
  }
  try {
    const r = (db ?? open()).prepare('PRAGMA wal_checkpoint(PASSIVE)').get() as {
      busy: number;
      log: number;
      checkpointed: number;
    };
    parentPort!.postMessage({ ok: true, ...r });
  } catch (err) {
    parentPort!.postMessage({ ok: false, error: (err as Error).message });
  }
});
