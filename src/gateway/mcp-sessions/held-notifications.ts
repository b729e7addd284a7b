/**
 * A notification for an agent's sessions on other replicas that is too large for a NOTIFY: held
 * in `mcp_held_notifications` under a random reference the NOTIFY carries, as sealed as the bus
 * would have carried it (the org's data key, bound to its route: `BusSeal`), read by each
 * replica holding one of the agent's sessions, and forgotten after `KEEP_MS` by any replica's
 * sweep (several read it, so none deletes it). Read only for the org and agent the NOTIFY names,
 * and only while fresh; the NOTIFY carries the reference sealed too, so a forged one costs no
 * database read.
 *
 * @example
 *   const ref = await holdNotification(db, orgId, agentId, sealed);   // the replica that sends
 *   const sealed = await heldNotification(db, orgId, agentId, ref);    // each replica it reaches
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../../store/index.ts';

/** How long a held notification waits for the replicas to read it. */
export const KEEP_MS = 60_000;

/**
 * Held at once per org (all its agents): a server flooding large log lines is delivered on its
 * own replica only past it, until the oldest expire.
 */
export const MAX_HELD_PER_ORG = 64;

/** The largest sealed notification held (a log line is cut to 8 KiB before it is sealed). */
export const MAX_HELD_BYTES = 256 * 1024;

/** The oldest time a held notification may have and still count. */
const freshSince = (now = Date.now()) => new Date(now - KEEP_MS).toISOString();

/** Holds a sealed notification for the other replicas; its reference, or undefined when the org holds too many or it is too large. */
export async function holdNotification(
  db: Db,
  orgId: string,
  agentId: string,
  sealed: string,
): Promise<string | undefined> {
  if (Buffer.byteLength(sealed) > MAX_HELD_BYTES) return undefined;
  const held = await db
    .selectFrom('mcp_held_notifications')
    .select('ref')
    .where('org_id', '=', orgId)
    .where('created_at', '>=', freshSince())
    .limit(MAX_HELD_PER_ORG)
    .execute();
  if (held.length >= MAX_HELD_PER_ORG) return undefined;
  const ref = randomBytes(18).toString('base64url');
  await db
    .insertInto('mcp_held_notifications')
    .values({ ref, org_id: orgId, agent_id: agentId, sealed, created_at: new Date().toISOString() })
    .execute();
  return ref;
}

/** The sealed notification `ref` names for this org's agent; undefined if gone, malformed or another's. */
export async function heldNotification(
  db: Db,
  orgId: string,
  agentId: string,
  ref: unknown,
): Promise<string | undefined> {
  if (typeof ref !== 'string' || ref.length > 64) return undefined;
  const row = await db
    .selectFrom('mcp_held_notifications')
    .select('sealed')
    .where('ref', '=', ref)
    .where('org_id', '=', orgId)
    .where('agent_id', '=', agentId)
    .where('created_at', '>=', freshSince())
    .executeTakeFirst();
  return row?.sealed;
}

/** Forgets notifications held longer than `KEEP_MS`. */
export async function expireHeldNotifications(db: Db, now = Date.now()): Promise<number> {
  const r = await db
    .deleteFrom('mcp_held_notifications')
    .where('created_at', '<', freshSince(now))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
