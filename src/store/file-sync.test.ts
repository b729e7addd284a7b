/**
 * The group sync's choice of where to sync: on the thread pool, or on the event loop when its
 * owner says nothing else would run meanwhile and the file's syncs are fast; one slow sync sends
 * the next ones back to the pool. A failed inline sync is as fatal as a failed pool sync.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FileSync, type FileSyncOptions, INLINE_SYNC_MAX_MS } from './file-sync.ts';

const dir = mkdtempSync(join(tmpdir(), 'paddock-file-sync-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A FileSync on a real file whose syncs take `costMs` on a fake clock; counts where each ran. */
function harness(opts: FileSyncOptions & { costMs: { pool: number; inline: number } }) {
  const file = join(dir, `f-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, 'x');
  let now = 0;
  const ran = { pool: 0, inline: 0 };
  const { costMs, ...rest } = opts;
  const sync = new FileSync(file, 'the test file', {
    now: () => now,
    fdatasync: (_fd, cb) => {
      ran.pool += 1;
      now += costMs.pool;
      setImmediate(() => cb(null));
    },
    fdatasyncSync: () => {
      ran.inline += 1;
      now += costMs.inline;
    },
    ...rest,
  });
  return { sync, ran };
}

test('with nothing else to run and a fast disk, syncs are made on the event loop; otherwise on the pool', async () => {
  let quiet = true;
  const { sync, ran } = harness({ inline: () => quiet, costMs: { pool: 0.2, inline: 0.08 } });
  // The first goes to the pool (nothing is known of the disk yet), then they are inline.
  for (let i = 0; i < 10; i++) await sync.sync();
  assert.ok(ran.pool >= 1 && ran.pool <= 3, `pool ${ran.pool}`);
  assert.equal(ran.inline, 10 - ran.pool);
  assert.equal(sync.madeInline, ran.inline);
  assert.equal(sync.made, 10);
  // The owner says other work would wait: the pool, however fast the disk.
  quiet = false;
  const before = ran.inline;
  for (let i = 0; i < 5; i++) await sync.sync();
  assert.equal(ran.inline, before);
  await sync.close();
});

test('one slow sync sends the next ones to the pool until the disk is fast again', async () => {
  const cost = { pool: 0.1, inline: 0.05 };
  const { sync, ran } = harness({ inline: () => true, costMs: cost });
  for (let i = 0; i < 5; i++) await sync.sync();
  assert.ok(ran.inline >= 3);
  // A stall: one inline sync takes 10 ms.
  cost.inline = 10;
  await sync.sync();
  cost.inline = 0.05;
  const { pool, inline } = ran;
  await sync.sync();
  assert.equal(ran.pool, pool + 1, 'after a slow sync, the next goes to the pool');
  assert.equal(ran.inline, inline);
  // Fast pool syncs bring the average down: inline again, within a few dozen syncs.
  for (let i = 0; i < 40; i++) await sync.sync();
  assert.ok(ran.inline > inline, 'inline again once the disk is fast');
  assert.ok(INLINE_SYNC_MAX_MS <= 1, 'a sync may block the event loop for well under a millisecond');
  await sync.close();
});

test('a failed inline sync is fatal, as a failed pool sync is: nothing is acknowledged after it', async () => {
  const file = join(dir, 'failing');
  writeFileSync(file, 'x');
  const fatal: Error[] = [];
  let fail = false;
  let now = 0;
  const sync = new FileSync(file, 'the test file', {
    inline: () => true,
    now: () => now,
    fdatasync: (_fd, cb) => setImmediate(() => cb(null)),
    fdatasyncSync: () => {
      now += 0.01;
      if (fail) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    },
    onFatal: (err) => fatal.push(err),
  });
  for (let i = 0; i < 3; i++) await sync.sync();
  assert.ok(sync.madeInline >= 1);
  fail = true;
  await assert.rejects(sync.sync(), /the test file could not be made durable: EIO/);
  assert.equal(fatal.length, 1);
  fail = false;
  await assert.rejects(sync.sync(), /could not be made durable/);
  await sync.close();
});

test('a test that injects only the pool sync (fault injection) never gets an inline one', async () => {
  const file = join(dir, 'injected');
  writeFileSync(file, 'x');
  let pool = 0;
  const sync = new FileSync(file, 'the test file', {
    inline: () => true,
    fdatasync: (_fd, cb) => {
      pool += 1;
      setImmediate(() => cb(null));
    },
  });
  for (let i = 0; i < 10; i++) await sync.sync();
  assert.equal(pool, 10);
  assert.equal(sync.madeInline, 0);
  await sync.close();
});
