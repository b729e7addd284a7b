/**
 * PAD-IAM-01 — roles, least privilege and access removal. People hold one role per org
 * (owner, admin, member, auditor); API tokens never outrank their person; removing a person
 * ends every session, token and agent token at once. Evidence: people with their role and last
 * sign-in, live API tokens, sign-ins and access changes from the log, removals of the period —
 * and whether anyone removed still holds access (there must be nobody).
 */
import { listPeople, trustedScope } from '../../identity/index.ts';
import { latest, peopleActivity } from '../activity.ts';
import {
  type CollectorContext,
  count,
  DAY_MS,
  type Draft,
  dataOf,
  daysBetween,
  figureDraft,
  type PaddockControl,
  some,
  stateDraft,
  wholeLog,
} from './context.ts';

/** No sign-in nor token use for this long (and a member for longer): a dormant account. */
export const DORMANT_DAYS = 90;

interface People {
  people: Array<{ id: string; email: string; role: string; lastActiveAt: string | null; dormant: boolean }>;
  byRole: Record<string, number>;
}

interface Removals {
  value: Record<string, number>;
  stillHoldAccess: Array<{ person: string; email: string; what: string }>;
}

async function people(ctx: CollectorContext): Promise<Draft> {
  const list = await listPeople(ctx.db, trustedScope(ctx.orgId));
  const activity = await peopleActivity(ctx.db, ctx.orgId, ctx.log.snapshot.treeSize);
  const tokens = await ctx.db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'role', 'user_id', 'created_at', 'expires_at', 'last_used_at'])
    .where('org_id', '=', ctx.orgId)
    .where('revoked_at', 'is', null)
    .orderBy('id')
    .execute();
  const byRole: Record<string, number> = {};
  const rows = list.map((p) => {
    byRole[p.role] = (byRole[p.role] ?? 0) + 1;
    const a = activity.get(p.id);
    const lastActiveAt = latest(a?.lastSignInAt ?? null, a?.lastTokenUseAt ?? null);
    const since = lastActiveAt ?? p.joinedAt;
    return {
      id: p.id,
      email: p.email,
      name: p.name,
      role: p.role,
      joinedAt: p.joinedAt,
      lastSignInAt: a?.lastSignInAt ?? null,
      lastTokenUseAt: a?.lastTokenUseAt ?? null,
      lastActiveAt,
      dormant: daysBetween(since, ctx.now) > DORMANT_DAYS,
    };
  });
  const draft = stateDraft('people.roles', {
    asOf: ctx.now.toISOString(),
    dormantAfterDays: DORMANT_DAYS,
    people: rows,
    byRole,
    apiTokens: tokens
      .filter((t) => !t.expires_at || t.expires_at > ctx.now.toISOString())
      .map((t) => ({
        id: t.id,
        name: t.name,
        role: t.role,
        person: t.user_id,
        createdAt: t.created_at,
        expiresAt: t.expires_at,
        lastUsedAt: t.last_used_at,
      })),
  });
  // Last sign-ins come from the log's person.signed_in entries up to the checkpoint.
  return { ...draft, fromLog: true, range: wholeLog(ctx) };
}

async function removals(ctx: CollectorContext): Promise<Draft> {
  const removed = await ctx.db
    .selectFrom('removed_people')
    .select(['user_id', 'email', 'removed_by', 'removed_at'])
    .where('org_id', '=', ctx.orgId)
    .orderBy('removed_at')
    .execute();
  const members = new Set(
    (await ctx.db.selectFrom('memberships').select('user_id').where('org_id', '=', ctx.orgId).execute()).map(
      (m) => m.user_id,
    ),
  );
  const now = ctx.now.toISOString();
  const liveTokens = new Set(
    (
      await ctx.db
        .selectFrom('api_tokens')
        .select('user_id')
        .where('org_id', '=', ctx.orgId)
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .execute()
    ).map((t) => t.user_id),
  );
  const still: Removals['stillHoldAccess'] = [];
  for (const r of removed) {
    // Re-invited and back (the record is cleared then) never shows here; a row means removed now.
    if (members.has(r.user_id)) still.push({ person: r.user_id, email: r.email, what: 'a membership' });
    else if (liveTokens.has(r.user_id))
      still.push({ person: r.user_id, email: r.email, what: 'a live API token' });
  }
  const since = new Date(ctx.now.getTime() - 365 * DAY_MS).toISOString();
  return figureDraft(
    ctx,
    'people.access_changes',
    {
      name: 'access changes by action',
      where: {
        actions: [
          'person.added',
          'person.role.changed',
          'person.removed',
          'token.created',
          'token.revoked',
          'invitation.created',
          'invitation.revoked',
        ],
      },
      by: 'action',
    },
    {
      removedInLastYear: removed
        .filter((r) => r.removed_at >= since)
        .map((r) => ({
          person: r.user_id,
          email: r.email,
          removedBy: r.removed_by,
          removedAt: r.removed_at,
        })),
      stillHoldAccess: still,
    },
  );
}

export const access: PaddockControl = {
  id: 'PAD-IAM-01',
  title: 'Roles, least privilege and access removal',
  description:
    'Every person holds one role per organization; every route is deny-by-default and tenant-checked; an API token never outranks its person. Removing a person ends their sessions, tokens and agent tokens at once, and single sign-on does not bring them back. Dormant accounts are flagged.',
  criteria: ['CC6.1', 'CC6.2', 'CC6.3'],
  async collect(ctx) {
    return [
      await people(ctx),
      figureDraft(ctx, 'people.sign_ins', {
        name: 'sign-ins by person',
        where: { actions: ['person.signed_in'] },
        by: 'actor',
      }),
      await removals(ctx),
    ];
  },
  test(evidence) {
    const p = dataOf<People>(evidence, 'people.roles');
    const r = dataOf<Removals>(evidence, 'people.access_changes');
    if (!p || !r) return { status: 'fail', reason: 'The people evidence is missing.' };
    if (r.stillHoldAccess.length > 0) {
      return {
        status: 'fail',
        reason: `${count(r.stillHoldAccess.length, 'removed person', 'removed people')} still ${r.stillHoldAccess.length === 1 ? 'holds' : 'hold'} access: ${some(r.stillHoldAccess.map((s) => `${s.email} (${s.what})`))}.`,
      };
    }
    if (!p.byRole.owner) return { status: 'fail', reason: 'The organization has no owner.' };
    const roles = Object.entries(p.byRole)
      .sort()
      .map(([role, n]) => `${n} ${role}${n === 1 ? '' : 's'}`)
      .join(', ');
    const removed = r.value['person.removed'] ?? 0;
    const summary = `${count(p.people.length, 'person', 'people')} (${roles}); ${count(removed, 'removal')} in the period, none holding access`;
    const dormant = p.people.filter((x) => x.dormant);
    if (dormant.length > 0) {
      return {
        status: 'warning',
        reason: `${count(dormant.length, 'account')} with no sign-in or token use in ${DORMANT_DAYS} days: ${some(dormant.map((d) => d.email))}. ${summary}.`,
      };
    }
    return { status: 'pass', reason: `${summary}.` };
  },
};
