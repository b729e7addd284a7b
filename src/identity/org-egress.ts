/**
 * Egress hosts allowed (or withdrawn) for an org on the way to something else — adding a catalog
 * entry that calls out — as an explicit step with an audit entry of its own (`org.egress.added`,
 * `org.egress.removed`: the pairs, why, and the allowlist before and after), in the same
 * transaction as the change. Editing the allowlist itself stays `updateOrg` (`org.updated`).
 */
import type { Kysely } from 'kysely';
import { recordChange } from '../audit/index.ts';
import { BadRequestError, ForbiddenError } from '../errors/index.ts';
import type { Database } from '../store/index.ts';
import type { OrgContext, OrgSettings } from './context.ts';
import { overSettingsRead, toOrg } from './orgs.ts';
import { can } from './roles.ts';

export type EgressEntry = OrgSettings['egressAllowlist'][number];

/** As many entries as the settings' schema takes (src/server/schemas.ts). */
export const MAX_EGRESS_ENTRIES = 200;

const key = (e: { host: string; port: number }) => `${e.host}:${e.port}`;

/** Refused before anything changes when the caller may not change the org's settings. */
export function mayChangeEgress(ctx: OrgContext): void {
  if (!can(ctx.role, 'org.update'))
    throw new ForbiddenError(
      'forbidden',
      'Only an owner or admin may change the organization’s egress allowlist.',
    );
}

async function changeEgress(
  db: Kysely<Database>,
  ctx: OrgContext,
  pairs: Array<{ host: string; port: number }>,
  reason: string,
  add: boolean,
): Promise<Array<{ host: string; port: number }>> {
  mayChangeEgress(ctx);
  return overSettingsRead(() => changeOnce(db, ctx, pairs, reason, add));
}

async function changeOnce(
  db: Kysely<Database>,
  ctx: OrgContext,
  pairs: Array<{ host: string; port: number }>,
  reason: string,
  add: boolean,
): Promise<Array<{ host: string; port: number }> | 'raced'> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('orgs')
      .selectAll()
      .where('id', '=', ctx.scope.orgId)
      .executeTakeFirstOrThrow();
    const before = toOrg(row).settings.egressAllowlist;
    // Adding skips what is there already; withdrawing takes only plain entries (never one that allows private addresses).
    const plain = new Set(before.filter((e) => !e.allowPrivate).map(key));
    const present = new Set(before.map(key));
    const unique = [...new Map(pairs.map((p) => [key(p), { host: p.host, port: p.port }])).values()];
    const changed = unique.filter((p) => (add ? !present.has(key(p)) : plain.has(key(p))));
    if (changed.length === 0) return [];
    const gone = new Set(changed.map(key));
    const after = add ? [...before, ...changed] : before.filter((e) => e.allowPrivate || !gone.has(key(e)));
    if (after.length > MAX_EGRESS_ENTRIES)
      throw new BadRequestError(
        'egress_allowlist_full',
        `The egress allowlist holds at most ${MAX_EGRESS_ENTRIES} entries: remove some on the Cell page first.`,
      );
    const settings = { ...JSON.parse(row.settings), egressAllowlist: after };
    const written = await trx
      .updateTable('orgs')
      .set({ settings: JSON.stringify(settings) })
      .where('id', '=', ctx.scope.orgId)
      .where('settings', '=', row.settings)
      .executeTakeFirst();
    if (Number(written.numUpdatedRows) !== 1) return 'raced';
    await recordChange(trx, ctx, {
      action: add ? 'org.egress.added' : 'org.egress.removed',
      target: { type: 'org', id: ctx.scope.orgId },
      details: {
        hosts: changed.map(key),
        reason,
        before: { egressAllowlist: before },
        after: { egressAllowlist: after },
      },
    });
    return changed;
  });
}

/**
 * Adds host:port pairs not yet on the org's egress allowlist; returns those it added.
 *
 * @example await allowEgress(db, ctx, [{ host: 'api.notion.com', port: 443 }], 'catalog entry notion')
 */
export function allowEgress(
  db: Kysely<Database>,
  ctx: OrgContext,
  pairs: Array<{ host: string; port: number }>,
  reason: string,
): Promise<Array<{ host: string; port: number }>> {
  return changeEgress(db, ctx, pairs, reason, true);
}

/** Takes back pairs `allowEgress` added (an entry that allows private addresses is never touched). */
export function withdrawEgress(
  db: Kysely<Database>,
  ctx: OrgContext,
  pairs: Array<{ host: string; port: number }>,
  reason: string,
): Promise<Array<{ host: string; port: number }>> {
  return changeEgress(db, ctx, pairs, reason, false);
}
