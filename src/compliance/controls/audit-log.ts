/**
 * PAD-LOG-01 — tamper-evident audit log with verification. Each collection verifies the org's
 * log under its signed checkpoint, in one of two ways, and says which:
 * - **incremental** (the daily case): from the checkpoint the previous collection verified, the
 *   new entries one by one and an RFC 6962 consistency proof from that checkpoint's root to the
 *   new one (`verifyLogSince`): the cost follows the day's entries, not the log's size;
 * - **full**: every entry, every checkpoint, every published copy (`verifyLog`) — the first
 *   time, on request, after a failed verification, and when the last full one is
 *   `fullVerificationDays` old (7 by default): an edit to an old entry is for it to find.
 * The record carries the checkpoint verified to (the next collection continues from it), the
 * consistency proof, and when the whole log was last verified in full.
 */
import { verifyLog, verifyLogSince } from '../../audit/index.ts';
import { type CollectorContext, count, DAY_MS, dataOf, type PaddockControl } from './context.ts';

/** How often the whole log is verified again, unless the platform says otherwise. */
export const FULL_VERIFICATION_DAYS = 7;

type Mode = 'full' | 'incremental';

interface Verification {
  ok: boolean;
  mode: Mode;
  /** Why this kind: "requested", "first verification", "weekly: last full 7 days ago"… */
  why: string;
  /** Entries [verifiedFrom, verifiedToSize) were read and checked. */
  verifiedFrom: number;
  verifiedToSize: number;
  checkpoints: number;
  erased: number;
  v1Erased: number;
  /** Changes recorded and waiting for their place in the tree. */
  pending: number;
  problem: { index?: number; message: string } | null;
  /** The collection's checkpoint: the next incremental verification continues from it. */
  checkpoint: { treeSize: number; note: string };
  /** Incremental: the checkpoint verified before, and the consistency proof from it to `checkpoint`. */
  since: { treeSize: number; note: string } | null;
  consistency: string[] | null;
  /** The latest full verification that passed (this one, when it is full and passed). */
  lastFull: { at: string; treeSize: number; daysAgo: number } | null;
  fullEveryDays: number;
  custody: { offHost: boolean; description: string } | null;
}

/** The audit-log verification of the org's previous collection, if any (older records had no `mode`). */
async function previousVerification(
  ctx: CollectorContext,
): Promise<{ at: string; data: Partial<Verification> } | undefined> {
  const row = await ctx.db
    .selectFrom('compliance_evidence')
    .select(['collected_at', 'data'])
    .where('org_id', '=', ctx.orgId)
    .where('control_id', '=', 'PAD-LOG-01')
    .where('kind', '=', 'audit.verification')
    .orderBy('collected_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && { at: row.collected_at, data: JSON.parse(row.data) as Partial<Verification> };
}

/** Which verification this collection runs, and from where. */
function plan(
  ctx: CollectorContext,
  prev: { at: string; data: Partial<Verification> } | undefined,
  everyDays: number,
): { mode: Mode; why: string; since?: { size: number; note: string }; lastFull: Verification['lastFull'] } {
  const p = prev?.data;
  const lastFullAt =
    p?.ok && (p.mode ?? 'full') === 'full'
      ? { at: prev!.at, treeSize: p.checkpoint?.treeSize ?? 0 }
      : p?.lastFull
        ? { at: p.lastFull.at, treeSize: p.lastFull.treeSize }
        : null;
  const lastFull = lastFullAt && {
    ...lastFullAt,
    daysAgo: Math.floor((ctx.now.getTime() - Date.parse(lastFullAt.at)) / DAY_MS),
  };
  const full = (why: string) => ({ mode: 'full' as const, why, lastFull });
  if (ctx.verify === 'full') return full('requested');
  if (!p) return full('first verification');
  if (!p.ok) return full('the previous verification failed');
  if (!lastFull) return full('no full verification on record');
  if (lastFull.daysAgo >= everyDays)
    return full(`scheduled: the whole log was last verified ${count(lastFull.daysAgo, 'day')} ago`);
  const cp = p.checkpoint;
  // Taken from stored evidence, it is checked again: `verifyLogSince` refuses one the log did not sign.
  if (!cp || cp.treeSize > ctx.log.snapshot.treeSize || (cp.treeSize > 0 && !cp.note))
    return full('no verified checkpoint to continue from');
  return {
    mode: 'incremental',
    why: `continues from the checkpoint verified at size ${cp.treeSize.toLocaleString('en-US')}`,
    since: { size: cp.treeSize, note: cp.note },
    lastFull,
  };
}

export const auditLog: PaddockControl = {
  id: 'PAD-LOG-01',
  title: 'Tamper-evident audit log with verification',
  description:
    'Every action and change is an entry of the org’s log: an RFC 6962 Merkle tree with Ed25519-signed C2SP checkpoints, published outside the database, verifiable offline with public tools. Each collection verifies the entries added since the previous one with a consistency proof between their signed checkpoints, and the whole log is verified again at least weekly.',
  criteria: ['CC2.1', 'CC4.1', 'CC7.2', 'PI1.5'],
  async collect(ctx) {
    const everyDays = ctx.platform.fullVerificationDays ?? FULL_VERIFICATION_DAYS;
    const snap = ctx.log.snapshot;
    const how = plan(ctx, await previousVerification(ctx), everyDays);
    const publishedDir = ctx.platform.checkpointDir;
    const checkpoint = { treeSize: snap.treeSize, note: snap.checkpoint };
    let data: Verification;
    if (how.mode === 'incremental' && how.since) {
      const r = await verifyLogSince(
        ctx.db,
        ctx.orgId,
        how.since,
        { size: snap.treeSize, note: snap.checkpoint },
        { publishedDir },
      );
      data = {
        ok: r.ok,
        mode: 'incremental',
        why: how.why,
        verifiedFrom: r.from,
        verifiedToSize: r.ok ? r.to : r.from,
        checkpoints: r.checkpoints,
        erased: r.erased,
        v1Erased: r.v1Erased,
        pending: r.pending,
        problem: r.problem ?? null,
        checkpoint,
        since: { treeSize: how.since.size, note: how.since.note },
        consistency: r.consistency,
        lastFull: how.lastFull,
        fullEveryDays: everyDays,
        custody: ctx.platform.custody ?? null,
      };
    } else {
      const r = await verifyLog(ctx.db, ctx.orgId, { publishedDir });
      data = {
        ok: r.ok,
        mode: 'full',
        why: how.why,
        verifiedFrom: 0,
        verifiedToSize: r.entries,
        checkpoints: r.checkpoints,
        erased: r.erased,
        v1Erased: r.v1Erased,
        pending: r.pending,
        problem: r.problem ?? null,
        checkpoint,
        since: null,
        consistency: null,
        lastFull: r.ok ? { at: ctx.now.toISOString(), treeSize: r.entries, daysAgo: 0 } : how.lastFull,
        fullEveryDays: everyDays,
        custody: ctx.platform.custody ?? null,
      };
    }
    return [
      {
        kind: 'audit.verification',
        data,
        fromLog: true,
        range: [data.verifiedFrom, snap.treeSize],
      },
    ];
  },
  test(evidence) {
    const v = dataOf<Verification>(evidence, 'audit.verification');
    if (!v) return { status: 'fail', reason: 'The verification evidence is missing.' };
    const mode = v.mode ?? 'full';
    if (!v.ok) {
      const at = v.problem?.index === undefined ? '' : ` (entry #${v.problem.index})`;
      return {
        status: 'fail',
        reason: `Audit log verification (${mode}) failed${at}: ${v.problem?.message ?? 'unknown'}.`,
      };
    }
    const n = (x: number) => x.toLocaleString('en-US');
    const summary =
      mode === 'full'
        ? `Audit log verified in full to size ${n(v.verifiedToSize)} (${count(v.checkpoints, 'signed checkpoint')} checked; ${v.why})`
        : `Audit log verified incrementally from size ${n(v.verifiedFrom)} to ${n(v.verifiedToSize)}: ${count(v.verifiedToSize - v.verifiedFrom, 'new entry', 'new entries')}, ${count(v.checkpoints, 'new signed checkpoint')}, and a consistency proof from the verified checkpoint; the whole log was last verified in full ${v.lastFull ? `${count(v.lastFull.daysAgo, 'day')} ago, to size ${n(v.lastFull.treeSize)}` : 'never'}`;
    if (
      mode === 'incremental' &&
      (!v.lastFull || v.lastFull.daysAgo > (v.fullEveryDays ?? FULL_VERIFICATION_DAYS))
    ) {
      return { status: 'warning', reason: `${summary} — longer ago than the ${v.fullEveryDays}-day policy.` };
    }
    if (v.custody && !v.custody.offHost) {
      return {
        status: 'warning',
        reason: `${summary}, but its checkpoints are published to ${v.custody.description}.`,
      };
    }
    return { status: 'pass', reason: `${summary}.` };
  },
};
