/** The queue alone, over a stand-in for integration: acknowledgments, group commit, failures. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../log/index.ts';
import { journalRecords } from '../testing/journal-files.ts';
import { until } from '../testing/until.ts';
import type { PreparedEntry } from './entry.ts';
import type { Integrated } from './integrate.ts';
import { EntryJournal, journalFiles } from './journal.ts';
import { AppendQueue } from './queue.ts';

const actor = { type: 'system' as const, id: 'test' };
const event = (i: number) => ({ orgId: 'org_q', actor, action: 'test.queued', details: { i } });

/** Integration that commits only when the test lets it, numbering entries per log as the tree would. */
function standIn() {
  const batches: PreparedEntry[][] = [];
  /** Whether each batch was to be durable when integrated (or only written). */
  const durable: boolean[] = [];
  let syncs = 0;
  const grown: string[][] = [];
  let size = 0;
  let gate = Promise.withResolvers<void>();
  let fail: Error | undefined;
  /** Batches still to fail after the next (`failFor`). */
  let failMore = 0;
  const queue = new AppendQueue({
    async integrate(batch, sync): Promise<Integrated> {
      batches.push(batch);
      durable.push(sync === 'now');
      await gate.promise;
      if (fail) {
        const err = fail;
        if (failMore > 0) failMore -= 1;
        else fail = undefined;
        throw err;
      }
      const indexes = batch.map(() => size++);
      return { indexes, grown: batch.length > 0 ? ['org_q'] : [], more: false };
    },
    async onIntegrated(logIds) {
      grown.push(logIds);
    },
    async syncPlaced() {
      syncs += 1;
    },
    log: silentLogger,
  });
  return {
    queue,
    batches,
    durable,
    grown,
    syncs: () => syncs,
    /** Lets every integration through from now on. */
    open: () => gate.resolve(),
    close: () => {
      gate = Promise.withResolvers<void>();
    },
    failNext: (err: Error) => {
      fail = err;
    },
    /** The next `n` batches fail. */
    failFor: (n: number, err: Error) => {
      fail = n > 0 ? err : undefined;
      failMore = n - 1;
    },
  };
}

test('an append resolves only once its batch is integrated; those arriving meanwhile share the next batch', async () => {
  const s = standIn();
  let acked = false;
  const first = s.queue.append(event(0)).then((r) => {
    acked = true;
    return r;
  });
  await until(() => s.batches.length === 1, { what: 'the first batch' });
  const rest = Array.from({ length: 10 }, (_, i) => s.queue.append(event(i + 1)));
  await new Promise((r) => setImmediate(r));
  assert.equal(acked, false, 'not acknowledged before its commit');
  s.open();
  const receipts = await Promise.all([first, ...rest]);
  assert.deepEqual(
    receipts.map((r) => r.index),
    Array.from({ length: 11 }, (_, i) => i),
  );
  assert.deepEqual(
    s.batches.map((b) => b.length),
    [1, 10],
    'one commit for everything that waited',
  );
  assert.deepEqual(s.grown, [['org_q'], ['org_q']], 'told which logs grew after each commit');
});

test('a failed batch rejects its appends, and the queue goes on with the next', async () => {
  const s = standIn();
  s.failNext(new Error('disk full'));
  s.open();
  await assert.rejects(s.queue.append(event(0)), /disk full/);
  const r = await s.queue.append(event(1));
  assert.equal(r.index, 0);
});

test('an event no one waits on rides along with the next append, or is committed alone soon', async () => {
  const s = standIn();
  s.open();
  const lazy = [s.queue.appendSoon(event(0)), s.queue.appendSoon(event(1))];
  await s.queue.append(event(2));
  await Promise.all(lazy);
  assert.deepEqual(
    s.batches.map((b) => b.length),
    [3],
  );
  await s.queue.appendSoon(event(3));
  assert.deepEqual(
    s.batches.map((b) => b.length),
    [3, 1],
  );
});

test('results written without a sync of their own: a batch of them alone is not made durable, one with an append is', async () => {
  const s = standIn();
  s.open();
  await Promise.all([s.queue.appendWritten(event(0)), s.queue.appendWritten(event(1))]);
  await Promise.all([s.queue.appendWritten(event(2)), s.queue.append(event(3))]);
  assert.deepEqual(
    s.batches.map((b) => b.length),
    [1, 1, 2],
    'each is committed at once; those arriving meanwhile share the next batch',
  );
  assert.deepEqual(s.durable, [false, false, true]);
});

test('flush waits for everything queued; after close appends are refused', async () => {
  const s = standIn();
  const pending = Array.from({ length: 5 }, (_, i) => s.queue.appendSoon(event(i)));
  const flushed = s.queue.flush();
  s.open();
  await flushed;
  assert.equal((await Promise.all(pending)).length, 5);
  await s.queue.close();
  await assert.rejects(s.queue.append(event(9)), /closed/);
});

test('a failed batch of journaled records: they are placed by a later batch, and the journal is emptied once they are', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-queue-'));
  try {
    const s = standIn();
    const journal = new EntryJournal(join(dir, 'audit-journal.jsonl'));
    s.queue.journalTo(journal);
    s.failNext(new Error('database is locked'));
    s.open();
    const { id } = await s.queue.appendDurable(event(0));
    await until(() => s.batches.length >= 1, { what: 'its batch' });
    await until(() => s.batches.slice(1).some((b) => b.some((e) => e.header.id === id)), {
      what: 'placed by a later batch (else it waits for a restart, and its file is never emptied)',
    });
    await s.queue.flush();
    await s.queue.emptyJournal();
    assert.equal(
      journalRecords(journalFiles(join(dir, 'audit-journal.jsonl'))[0]),
      '',
      'emptied once placed',
    );
    await s.queue.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a flush empties the journal of what it placed even when a record arrives just after (a deletion on request flushes first: no copy of an erased record stays)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-queue-'));
  try {
    const s = standIn();
    const path = join(dir, 'audit-journal.jsonl');
    const journal = new EntryJournal(path);
    s.queue.journalTo(journal);
    s.open();
    const placed = await s.queue.appendWritten(event(0));
    await s.queue.flush();
    // A call's result, written between the flush and the emptying, under load.
    await s.queue.appendWritten(event(1));
    await s.queue.emptyJournal();
    for (const file of journalFiles(path).filter((f) => existsSync(f)))
      assert.ok(!journalRecords(file).includes(placed.id), 'the placed record is gone from the journal');
    await s.queue.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a flush resolves only once journaled records are placed: a failed batch is waited for, not left to its retry; records that cannot be placed make it fail (a deletion on request flushes, then erases what is placed)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-queue-'));
  try {
    const s = standIn();
    const journal = new EntryJournal(join(dir, 'audit-journal.jsonl'));
    s.queue.journalTo(journal);
    s.open();
    const placedBy = (id: string) => s.batches.findLastIndex((b) => b.some((e) => e.header.id === id));
    // The database busy once: the flush's own batch fails.
    const once = await s.queue.appendWritten(event(0));
    s.failNext(new Error('database is locked'));
    await s.queue.flush();
    assert.ok(
      placedBy(once.id) >= 1,
      'placed by the time the flush resolves (by the batch after the failed one)',
    );
    // Busy for longer than the retries last: the flush fails rather than say all is placed.
    const stuck = await s.queue.appendWritten(event(1));
    s.failFor(100, new Error('database is locked'));
    await assert.rejects(s.queue.flush(), /could not be placed/);
    s.failFor(0, new Error('none'));
    await s.queue.close();
    assert.ok(stuck.id);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
