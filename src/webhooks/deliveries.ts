/**
 * The delivery ids each endpoint has accepted, so each is used once. An id is kept until the
 * delivery's timestamp leaves the acceptance window: after that a copy of it is refused as too
 * old anyway, so `forgetExpiredDeliveries` (the scheduled job `webhooks.deliveries`) drops it.
 * Only verified deliveries are claimed, so no one without the secret can use up a sender's ids.
 */
import type { Db } from '../store/index.ts';
import { TOLERANCE_SECONDS } from './signature.ts';

/** Kept a minute past the window's edge, so rounding to whole seconds can never reopen it. */
const MARGIN_SECONDS = 60;

export interface Claim {
  webhookId: string;
  orgId: string;
  deliveryId: string;
  /** The delivery's `webhook-timestamp`, Unix seconds. */
  timestamp: number;
}

/** Takes the delivery id for this endpoint; false when it was already taken (a replay). */
export async function claimDelivery(db: Db, c: Claim, now = new Date()): Promise<boolean> {
  const r = await db
    .insertInto('webhook_deliveries')
    .values({
      webhook_id: c.webhookId,
      delivery_id: c.deliveryId,
      org_id: c.orgId,
      received_at: now.toISOString(),
      expires_at: new Date((c.timestamp + TOLERANCE_SECONDS + MARGIN_SECONDS) * 1000).toISOString(),
    })
    .onConflict((oc) => oc.columns(['webhook_id', 'delivery_id']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
}

/** Gives a claimed id back: the delivery started nothing, so the sender may retry it. */
export async function releaseDelivery(db: Db, c: Claim): Promise<void> {
  await db
    .deleteFrom('webhook_deliveries')
    .where('org_id', '=', c.orgId)
    .where('webhook_id', '=', c.webhookId)
    .where('delivery_id', '=', c.deliveryId)
    .execute();
}

/** Drops the ids no delivery can be replayed with any more; returns how many. */
export async function forgetExpiredDeliveries(db: Db, now = new Date()): Promise<number> {
  const r = await db
    .deleteFrom('webhook_deliveries')
    .where('expires_at', '<', now.toISOString())
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
