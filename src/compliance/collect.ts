/**
 * One evidence collection of an org: read the log once under a signed checkpoint (the entries
 * since the previous collection), run every control's collector, test each control on its own
 * evidence, and store the evidence, the results and the collection with its audit entry in one
 * transaction. Collections chain (each continues the previous one), so their ranges tile the
 * log: no entry counted twice, none missed, and figures over a longer period are sums.
 */
import type { Kysely } from 'kysely';
import { type Actor, recordAudit } from '../audit/index.ts';
import { ConflictError, NotFoundError } from '../errors/index.ts';
import { toOrg } from '../identity/index.ts';
import { newId } from '../ids/index.ts';
import { redactString } from '../redact/index.ts';
import { type Database, isUniqueViolation } from '../store/index.ts';
import { CONTROLS, type Draft, type PaddockControl, type Platform } from './controls/index.ts';
import { insertEvidence, insertResult, type StoredResult } from './evidence-store.ts';
import { type LogSnapshot, LogWindow } from './log-window.ts';
import type { ControlStatus } from './types.ts';

export interface Collection {
  id: string;
  trigger: 'schedule' | 'request';
  startedAt: string;
  period: { from: string; to: string };
  log: LogSnapshot;
  results: StoredResult[];
  /** Evidence records written. */
  evidence: number;
}

export interface CollectBy {
  trigger: 'schedule' | 'request';
  actor: Actor;
  requestId?: string | undefined;
}

/** The newest checkpoint stored for the log (when the caller cannot sign one). */
async function storedCheckpoint(
  db: Kysely<Database>,
  logId: string,
): Promise<{ size: number; note: string }> {
  const row = await db
    .selectFrom('audit_checkpoints')
    .select(['tree_size', 'note'])
    .where('log_id', '=', logId)
    .orderBy('tree_size', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { size: Number(row.tree_size), note: row.note } : { size: 0, note: '' };
}

async function run(
  control: PaddockControl,
  ctx: Parameters<PaddockControl['collect']>[0],
): Promise<{ drafts: Draft[]; status: ControlStatus; reason: string }> {
  try {
    const drafts = await control.collect(ctx);
    return { drafts, ...control.test(drafts) };
  } catch (err) {
    // A collector that cannot gather its evidence fails its control, saying why (redacted).
    return {
      drafts: [],
      status: 'fail',
      reason: `Collecting its evidence failed: ${redactString((err as Error).message)}`,
    };
  }
}

/**
 * Collects every control's evidence for one org now.
 *
 * @example
 *   const c = await collectEvidence(db, orgId, platform, { trigger: 'request', actor: ctx.actor });
 *   c.results.find((r) => r.controlId === 'PAD-LOG-01')?.reason; // 'Audit log verified to size 18,204 …'
 */
export async function collectEvidence(
  db: Kysely<Database>,
  orgId: string,
  platform: Platform,
  by: CollectBy,
  opts: { now?: Date; signal?: AbortSignal; controls?: PaddockControl[]; verify?: 'full' | 'auto' } = {},
): Promise<Collection> {
  const orgRow = await db.selectFrom('orgs').selectAll().where('id', '=', orgId).executeTakeFirst();
  if (!orgRow) throw new NotFoundError('org_not_found', 'No such organization.');
  const org = toOrg(orgRow);
  const previous = await db
    .selectFrom('compliance_collections')
    .select(['id', 'period_to', 'range_to'])
    .where('org_id', '=', orgId)
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const cp = platform.sign ? await platform.sign(orgId) : await storedCheckpoint(db, orgId);
  const now = opts.now ?? new Date();
  const start = Math.min(Number(previous?.range_to ?? 0), cp.size);
  const snapshot: LogSnapshot = { treeSize: cp.size, checkpoint: cp.note, range: [start, cp.size] };
  const period = { from: previous?.period_to ?? org.createdAt, to: now.toISOString() };
  const log = await LogWindow.read(db, orgId, snapshot, opts.signal);
  const ctx = { orgId, period, db, org, now, log, platform, verify: opts.verify };

  const outcomes: Array<{ control: PaddockControl } & Awaited<ReturnType<typeof run>>> = [];
  for (const control of opts.controls ?? CONTROLS) {
    opts.signal?.throwIfAborted();
    outcomes.push({ control, ...(await run(control, ctx)) });
  }

  const id = newId('col');
  try {
    return await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('compliance_collections')
        .values({
          id,
          org_id: orgId,
          trigger: by.trigger,
          actor_type: by.actor.type,
          actor_id: by.actor.id,
          started_at: now.toISOString(),
          period_from: period.from,
          period_to: period.to,
          tree_size: snapshot.treeSize,
          checkpoint: snapshot.checkpoint,
          range_from: snapshot.range[0],
          range_to: snapshot.range[1],
          previous_id: previous?.id ?? '',
        })
        .execute();
      const results: StoredResult[] = [];
      let evidence = 0;
      for (const o of outcomes) {
        const ids: string[] = [];
        for (const d of o.drafts) {
          const { fromLog, range, ...draft } = d;
          const record = await insertEvidence(trx, {
            orgId,
            controlId: o.control.id,
            collectionId: id,
            collectedAt: now.toISOString(),
            period,
            draft,
            log: fromLog || draft.figure ? { ...snapshot, range: range ?? snapshot.range } : null,
          });
          ids.push(record.id);
          evidence++;
        }
        results.push(
          await insertResult(trx, orgId, id, {
            controlId: o.control.id,
            status: o.status,
            reason: o.reason,
            evaluatedAt: now.toISOString(),
            evidence: ids,
          }),
        );
      }
      const byStatus: Record<string, number> = {};
      for (const r of results) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
      await recordAudit(trx, {
        orgId,
        actor: by.actor,
        action: 'compliance.evidence.collected',
        target: { type: 'collection', id },
        requestId: by.requestId,
        details: {
          trigger: by.trigger,
          period,
          treeSize: snapshot.treeSize,
          range: snapshot.range,
          evidence,
          results: byStatus,
          failing: results.filter((r) => r.status === 'fail').map((r) => r.controlId),
        },
      });
      return {
        id,
        trigger: by.trigger,
        startedAt: now.toISOString(),
        period,
        log: snapshot,
        results,
        evidence,
      };
    });
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ConflictError(
        'collection_running',
        'Another collection of this organization finished meanwhile; collect again.',
      );
    throw err;
  }
}

/**
 * The scheduled job's work: a collection for every org, one after another (stops when `signal`
 * aborts). An org whose collection throws is counted, and the others still run.
 */
export async function collectAll(
  db: Kysely<Database>,
  platform: Platform,
  signal?: AbortSignal,
): Promise<{ orgs: number; failed: number; failing: number }> {
  const orgs = await db.selectFrom('orgs').select('id').orderBy('id').execute();
  let failed = 0;
  let failing = 0;
  for (const o of orgs) {
    signal?.throwIfAborted();
    try {
      const c = await collectEvidence(
        db,
        o.id,
        platform,
        {
          trigger: 'schedule',
          actor: { type: 'system', id: 'compliance' },
        },
        signal ? { signal } : {},
      );
      failing += c.results.filter((r) => r.status === 'fail').length;
    } catch (err) {
      if (signal?.aborted) throw err;
      platform.log?.error({ err, orgId: o.id }, 'evidence collection failed');
      failed++;
    }
  }
  return { orgs: orgs.length, failed, failing };
}
