/**
 * Retention: an org can have entry payloads expire after N days. The entry's leaf hash stays
 * in the tree, so every proof and checkpoint still verifies; the payload then reads as expired.
 */
import type { Db } from '../store/index.ts';

export async function expirePayloads(db: Db, now = new Date()): Promise<number> {
  const orgs = await db.selectFrom('orgs').select(['id', 'settings']).execute();
  let expired = 0;
  for (const org of orgs) {
    const days = (JSON.parse(org.settings) as { auditRetentionDays?: number | null }).auditRetentionDays;
    if (!days) continue;
    const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString();
    const r = await db
      .updateTable('audit_entries')
      .set({ leaf: null, expired_at: now.toISOString() })
      .where('log_id', '=', org.id)

      .where('leaf', 'is not', null)
      .where('time', '<', cutoff)
      .executeTakeFirst();
    expired += Number(r.numUpdatedRows);
  }
  return expired;
}
