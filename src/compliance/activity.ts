/**
 * When people last acted in an org: their last sign-in (from the org's log, `person.signed_in`)
 * and their API tokens' last use. Read by the access control and the people access review.
 */
import type { Db } from '../store/index.ts';

export interface PersonActivity {
  lastSignInAt: string | null;
  /** The latest use of any of their live API tokens here. */
  lastTokenUseAt: string | null;
  liveTokens: number;
}

/**
 * Per person id of the org: their last sign-in (from the log's first `treeSize` entries, so it
 * can be checked under the checkpoint of that size) and token use.
 */
export async function peopleActivity(
  db: Db,
  orgId: string,
  treeSize: number,
): Promise<Map<string, PersonActivity>> {
  const signIns = await db
    .selectFrom('audit_entries')
    .select((eb) => ['actor_id', eb.fn.max('time').as('last')])
    .where('log_id', '=', orgId)
    .where('idx', '<', treeSize)
    .where('action', '=', 'person.signed_in')
    .where('actor_type', '=', 'person')
    .groupBy('actor_id')
    .execute();
  const now = new Date().toISOString();
  const tokens = await db
    .selectFrom('api_tokens')
    .select(['user_id', 'last_used_at'])
    .where('org_id', '=', orgId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .execute();
  const out = new Map<string, PersonActivity>();
  const of = (id: string) => {
    let a = out.get(id);
    if (!a) {
      a = { lastSignInAt: null, lastTokenUseAt: null, liveTokens: 0 };
      out.set(id, a);
    }
    return a;
  };
  for (const s of signIns) of(s.actor_id).lastSignInAt = s.last as string;
  for (const t of tokens) {
    if (!t.user_id) continue;
    const a = of(t.user_id);
    a.liveTokens++;
    if (t.last_used_at && (!a.lastTokenUseAt || t.last_used_at > a.lastTokenUseAt))
      a.lastTokenUseAt = t.last_used_at;
  }
  return out;
}

/** The later of two optional times. */
export function latest(a: string | null, b: string | null): string | null {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}
