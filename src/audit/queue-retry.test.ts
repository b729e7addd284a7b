/**
 * A failed batch's journaled records (acknowledged) wait out RETRY_MS between tries, whatever
 * appends arrive meanwhile: with 128 or more waiting, each append used to start a batch at once
 * and spend their TRIES within milliseconds, leaving them unplaced though the database was back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '../log/index.ts';
import { until } from '../testing/until.ts';
import type { PreparedEntry } from './entry.ts';
import type { Integrated } from './integrate.ts';
import { EntryJournal } from './journal.ts';
import { AppendQueue } from './queue.ts';

const actor = { type: 'system' as const, id: 'test' };
const event = (i: number) => ({ orgId: 'org_q', actor, action: 'test.queued', details: { i } });

test('a failed batch of >= 128 journaled records waits RETRY_MS between tries, whatever appends arrive meanwhile', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-review-queue-'));
  try {
    let down = true;
    let tries = 0;
    let size = 0;
    const placed = new Set<string>();
    const queue = new AppendQueue({
      async integrate(batch: PreparedEntry[]): Promise<Integrated> {
        tries += 1;
        await Promise.resolve();
        if (down) throw new Error('database is locked');
        for (const e of batch) placed.add(e.header.id);
        return { indexes: batch.map(() => size++), grown: ['org_q'], more: false };
      },
      async onIntegrated() {},
      async syncPlaced() {},
      log: silentLogger,
    });
    const journal = new EntryJournal(join(dir, 'audit-journal.jsonl'));
    queue.journalTo(journal);
    // 128 results written (acknowledged) while the database is briefly locked.
    const first: string[] = [];
    for (let i = 0; i < 128; i++) first.push((await queue.appendWritten(event(i))).id);
    await until(() => tries >= 1, { what: 'the first (failed) batch' });
    // A handful of calls' results, one after another, within a few milliseconds (< RETRY_MS,
    // < JOURNALED_MS as well): the failed batch should not be tried again yet.
    for (let i = 0; i < 6; i++) {
      await queue.appendWritten(event(1000 + i));
      await new Promise((r) => setImmediate(r));
    }
    const burst = tries;
    // The database is back: well within RETRY_MS * TRIES (2.5 s) of the first failure.
    down = false;
    await sleep(30);
    await queue.flush();
    const lost = first.filter((id) => !placed.has(id)).length;
    assert.equal(
      lost,
      0,
      `${lost} acknowledged records abandoned: ${burst} tries within a few ms (RETRY_MS not honoured)`,
    );
    await queue.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
