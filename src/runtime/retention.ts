/**
 * Retention of run records, conversations and agents' memory, under each org's policy: runs that
 * ended more than `runRetentionDays` ago are deleted (with the flags on them), conversations
 * untouched for more than `conversationRetentionDays` (with their runs) — never one with a run
 * still running or waiting — and memory entries unchanged for more than `memoryRetentionDays`.
 * Deleted in small batches by indexed key (migration 026, which also indexes the cascades: without
 * it each deleted conversation scanned every run), each its own short transaction, with a turn of
 * the event loop between batches: `node:sqlite` is synchronous, so a batch holds the whole
 * process, and short batches with turns between them are what let the server answer requests
 * while a large backlog goes (bench/retention.bench.ts). Each org's deletion is on record with its
 * cutoffs and counts, never content.
 * The audit trail keeps its own policy (`auditRetentionDays`, which erases payloads, not entries).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/index.ts';
import type { Database } from '../store/index.ts';

/** Rows per transaction: a few milliseconds of work (bench/retention.bench.ts: 200 kept p99 near baseline, 500 did not). */
const BATCH = 200;
const DAY_MS = 86_400_000;

export interface RecordsDeleted {
  runs: number;
  conversations: number;
  memory: number;
}

interface Policy {
  runRetentionDays?: number | null;
  conversationRetentionDays?: number | null;
  memoryRetentionDays?: number | null;
}

export interface RetentionOptions {
  /** Rows per batch (tests use small ones to cross batch boundaries). */
  batch?: number;
}

/** Deletes the rows `pick` selects, a batch per transaction, until none is left; the count. */
async function inBatches(
  db: Kysely<Database>,
  table: 'runs' | 'conversations' | 'memories',
  pick: (db: Kysely<Database>, limit: number) => Promise<string[]>,
  batch: number,
  signal?: AbortSignal,
): Promise<number> {
  let deleted = 0;
  for (;;) {
    if (signal?.aborted) return deleted;
    const ids = await pick(db, batch);
    if (ids.length === 0) return deleted;
    const r = await db.deleteFrom(table).where('id', 'in', ids).executeTakeFirst();
    deleted += Number(r.numDeletedRows);
    if (ids.length < batch) return deleted;
    await nextTurn(); // let waiting requests run before the next batch (a lazily synced commit would not)
  }
}

/** Applies every org's policy at `now`; the counts deleted, all orgs together. */
export async function applyRecordRetention(
  db: Kysely<Database>,
  now = new Date(),
  signal?: AbortSignal,
  options: RetentionOptions = {},
): Promise<RecordsDeleted> {
  const batch = options.batch ?? BATCH;
  const total: RecordsDeleted = { runs: 0, conversations: 0, memory: 0 };
  const orgs = await db.selectFrom('orgs').select(['id', 'settings']).execute();
  for (const org of orgs) {
    const policy = JSON.parse(org.settings) as Policy;
    const cutoff = (days: number) => new Date(now.getTime() - days * DAY_MS).toISOString();
    const runsBefore = policy.runRetentionDays ? cutoff(policy.runRetentionDays) : null;
    const talksBefore = policy.conversationRetentionDays ? cutoff(policy.conversationRetentionDays) : null;
    const memoryBefore = policy.memoryRetentionDays ? cutoff(policy.memoryRetentionDays) : null;
    if (!runsBefore && !talksBefore && !memoryBefore) continue;
    const done: RecordsDeleted = { runs: 0, conversations: 0, memory: 0 };
    if (runsBefore) {
      done.runs = await inBatches(
        db,
        'runs',
        async (q, limit) =>
          (
            await q
              .selectFrom('runs')
              .select('id')
              .where('org_id', '=', org.id)
              .where('ended_at', 'is not', null)
              .where('ended_at', '<', runsBefore)
              .limit(limit)
              .execute()
          ).map((r) => r.id),
        batch,
        signal,
      );
    }
    if (talksBefore) {
      done.conversations = await inBatches(
        db,
        'conversations',
        async (q, limit) =>
          (
            await q
              .selectFrom('conversations as c')
              .select('c.id')
              .where('c.org_id', '=', org.id)
              .where('c.updated_at', '<', talksBefore)
              .where(({ not, exists, selectFrom }) =>
                not(
                  exists(
                    selectFrom('runs as r')
                      .select('r.id')
                      .whereRef('r.conversation_id', '=', 'c.id')
                      .where('r.status', 'in', ['running', 'waiting_approval']),
                  ),
                ),
              )
              .limit(limit)
              .execute()
          ).map((r) => r.id),
        batch,
        signal,
      );
    }
    if (memoryBefore) {
      done.memory = await inBatches(
        db,
        'memories',
        async (q, limit) =>
          (
            await q
              .selectFrom('memories')
              .select('id')
              .where('org_id', '=', org.id)
              .where('updated_at', '<', memoryBefore)
              .limit(limit)
              .execute()
          ).map((r) => r.id),
        batch,
        signal,
      );
    }
    if (done.runs + done.conversations + done.memory === 0) continue;
    await recordAudit(db, {
      orgId: org.id,
      actor: { type: 'system', id: 'retention' },
      action: 'retention.records.deleted',
      details: {
        rule: {
          runRetentionDays: policy.runRetentionDays ?? null,
          conversationRetentionDays: policy.conversationRetentionDays ?? null,
          memoryRetentionDays: policy.memoryRetentionDays ?? null,
        },
        cutoffs: { runs: runsBefore, conversations: talksBefore, memory: memoryBefore },
        deleted: done,
      },
    });
    total.runs += done.runs;
    total.conversations += done.conversations;
    total.memory += done.memory;
  }
  return total;
}
