/**
 * PAD-IAM-02 — access reviews. People and agents are reviewed at least every 90 days: agents'
 * grants against the tools they used (the least-privilege diff), people's roles against their
 * sign-ins; each line kept, revoked or deferred and the review signed off. A line decided
 * "revoke" whose access still stands fails the control (the revocation did not take).
 */
import { count, DAY_MS, dataOf, type PaddockControl, some, stateDraft } from './context.ts';

export const REVIEW_EVERY_DAYS = 90;

interface Reviews {
  reviews: Array<{
    id: string;
    kind: string;
    status: string;
    signedOffAt: string | null;
    lines: number;
    revoked: number;
    unused: number;
  }>;
  revocationsStanding: Array<{ review: string; item: string; subject: string }>;
  asOf: string;
}

export const accessReviews: PaddockControl = {
  id: 'PAD-IAM-02',
  title: 'Access reviews',
  description:
    'Owners and admins review people’s roles against their sign-ins, and agents’ grants against the tools they actually used (granted and never used is the least-privilege diff), keeping, revoking or deferring each line; the signed-off review is stored as evidence. Auditors read the reviews and may comment.',
  criteria: ['CC4.1', 'CC6.2', 'CC6.3'],
  async collect(ctx) {
    const since = new Date(ctx.now.getTime() - 365 * DAY_MS).toISOString();
    const reviews = await ctx.db
      .selectFrom('compliance_reviews')
      .select(['id', 'kind', 'status', 'created_at', 'signed_off_at'])
      .where('org_id', '=', ctx.orgId)
      .where('created_at', '>=', since)
      .orderBy('created_at', 'desc')
      .execute();
    const lines = await ctx.db
      .selectFrom('compliance_review_lines')
      .select(['review_id', 'subject_id', 'item_type', 'item_id', 'finding', 'decision'])
      .where('org_id', '=', ctx.orgId)
      .where('review_id', 'in', reviews.length ? reviews.map((r) => r.id) : [''])
      .execute();
    const standing: Reviews['revocationsStanding'] = [];
    for (const l of lines.filter((x) => x.decision === 'revoke')) {
      const still =
        l.item_type === 'grant'
          ? await ctx.db
              .selectFrom('grants')
              .select('id')
              .where('org_id', '=', ctx.orgId)
              .where('id', '=', l.item_id)
              .where('status', '!=', 'revoked')
              .executeTakeFirst()
          : await ctx.db
              .selectFrom('memberships')
              .select('user_id')
              .where('org_id', '=', ctx.orgId)
              .where('user_id', '=', l.item_id)
              .executeTakeFirst();
      if (still)
        standing.push({ review: l.review_id, item: `${l.item_type} ${l.item_id}`, subject: l.subject_id });
    }
    return [
      stateDraft('access_reviews', {
        asOf: ctx.now.toISOString(),
        reviews: reviews.map((r) => {
          const mine = lines.filter((l) => l.review_id === r.id);
          return {
            id: r.id,
            kind: r.kind,
            status: r.status,
            createdAt: r.created_at,
            signedOffAt: r.signed_off_at,
            lines: mine.length,
            revoked: mine.filter((l) => l.decision === 'revoke').length,
            unused: mine.filter((l) => l.finding === 'unused' || l.finding === 'dormant').length,
          };
        }),
        revocationsStanding: standing,
      } satisfies Reviews),
    ];
  },
  test(evidence) {
    const r = dataOf<Reviews>(evidence, 'access_reviews');
    if (!r) return { status: 'fail', reason: 'The access review evidence is missing.' };
    if (r.revocationsStanding.length > 0) {
      return {
        status: 'fail',
        reason: `${count(r.revocationsStanding.length, 'revocation')} decided in a review still stand${r.revocationsStanding.length === 1 ? 's' : ''}: ${some(r.revocationsStanding.map((s) => s.item))}.`,
      };
    }
    const now = Date.parse(r.asOf);
    const recent = (kind: string) =>
      r.reviews.find(
        (x) =>
          x.kind === kind && x.signedOffAt && now - Date.parse(x.signedOffAt) <= REVIEW_EVERY_DAYS * DAY_MS,
      );
    const missing = ['people', 'agents'].filter((k) => !recent(k));
    if (missing.length > 0) {
      return {
        status: 'warning',
        reason: `No access review of ${missing.join(' or ')} signed off in the last ${REVIEW_EVERY_DAYS} days.`,
      };
    }
    const p = recent('people')!;
    const a = recent('agents')!;
    return {
      status: 'pass',
      reason: `People reviewed ${p.signedOffAt!.slice(0, 10)} (${count(p.lines, 'line')}, ${p.revoked} revoked); agents reviewed ${a.signedOffAt!.slice(0, 10)} (${count(a.lines, 'grant')}, ${a.unused} unused, ${a.revoked} revoked).`,
    };
  },
};
