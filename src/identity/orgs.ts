/** Organizations: the tenants. Created by an operator (CLI or first-run setup), changed by admins. */
import type { Kysely } from 'kysely';
import { recordAudit, recordChange } from '../audit/index.ts';
import { BadRequestError, ConflictError, NotFoundError } from '../errors/index.ts';
import { newId } from '../ids/index.ts';
import { type Database, type Db, orConflict } from '../store/index.ts';
import type { OrgTable } from '../store/schema.ts';
import { type Caller, DEFAULT_ORG_SETTINGS, type Org, type OrgContext, type OrgSettings } from './context.ts';

export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

export function toOrg(row: OrgTable): Org {
  const stored = JSON.parse(row.settings) as Partial<OrgSettings>;
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    settings: { ...DEFAULT_ORG_SETTINGS, ...stored },
    createdAt: row.created_at,
    agentsStoppedAt: row.agents_stopped_at ?? null,
  };
}

export function assertSlug(slug: string): void {
  if (!SLUG_PATTERN.test(slug)) {
    throw new BadRequestError(
      'invalid_slug',
      'An organization slug is 1 to 40 lowercase letters, digits and inner dashes (e.g. "acme").',
    );
  }
}

/** Creates an org in an open transaction (the caller adds its first owner in the same one). */
export async function insertOrg(
  trx: Kysely<Database>,
  caller: Caller,
  input: { slug: string; name: string },
): Promise<Org> {
  assertSlug(input.slug);
  const row: OrgTable = {
    id: newId('org'),
    slug: input.slug,
    name: input.name.trim() || input.slug,
    settings: JSON.stringify(DEFAULT_ORG_SETTINGS),
    created_at: new Date().toISOString(),
    agents_stopped_at: null,
    agents_stopped_by: null,
  };
  await orConflict(
    trx.insertInto('orgs').values(row).execute(),
    'org_exists',
    `An organization with slug "${input.slug}" already exists.`,
  );
  const org = toOrg(row);
  // In the org's own log, and in the platform's (where the operator sees every tenant made).
  for (const log of [org.id, null]) {
    await recordAudit(trx, {
      orgId: log,
      actor: caller.actor,
      action: 'org.created',
      target: { type: 'org', id: org.id },
      requestId: caller.requestId,
      details: { after: { slug: org.slug, name: org.name } },
    });
  }
  return org;
}

export async function findOrgBySlug(db: Kysely<Database>, slug: string): Promise<Org | undefined> {
  const row = await db.selectFrom('orgs').selectAll().where('slug', '=', slug).executeTakeFirst();
  return row ? toOrg(row) : undefined;
}

/** Whether an org of this id exists (a bus event naming another is not opened). */
export async function orgOnRecord(db: Kysely<Database>, orgId: string): Promise<boolean> {
  return (await db.selectFrom('orgs').select('id').where('id', '=', orgId).executeTakeFirst()) !== undefined;
}

export async function requireOrgBySlug(db: Kysely<Database>, slug: string): Promise<Org> {
  const org = await findOrgBySlug(db, slug);
  if (!org) throw new NotFoundError('org_not_found', `No organization "${slug}".`);
  return org;
}

export async function countOrgs(db: Kysely<Database>): Promise<number> {
  const r = await db
    .selectFrom('orgs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function updateOrg(
  db: Kysely<Database>,
  ctx: OrgContext,
  patch: { name?: string | undefined; settings?: Partial<OrgSettings> | undefined },
): Promise<Org> {
  const hook = patch.settings?.siemWebhookUrl;
  if (hook) {
    const u = new URL(hook);
    const local = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
    if (u.protocol !== 'https:' && !(u.protocol === 'http:' && local)) {
      throw new BadRequestError(
        'invalid_webhook',
        'The SIEM webhook must use https (http only to this machine).',
      );
    }
  }
  return overSettingsRead(() => updateOrgOnce(db, ctx, patch));
}

/**
 * Runs `once` (a transaction writing an org's settings only over those it read, `'raced'` when
 * they changed meanwhile — another replica's edit, a catalog entry allowing its hosts) until it
 * is not raced, a few times at most: a concurrent change makes it read again rather than be
 * overwritten.
 */
export async function overSettingsRead<T>(once: () => Promise<T | 'raced'>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const done = await once();
    if (done !== 'raced') return done;
    if (attempt >= 4)
      throw new ConflictError(
        'settings_changed',
        'The organization’s settings kept changing meanwhile: try again.',
      );
  }
}

async function updateOrgOnce(
  db: Kysely<Database>,
  ctx: OrgContext,
  patch: { name?: string | undefined; settings?: Partial<OrgSettings> | undefined },
): Promise<Org | 'raced'> {
  return db.transaction().execute(async (trx) => {
    const secretId = patch.settings?.siemWebhookSecret;
    if (secretId) {
      const found = await trx
        .selectFrom('secrets')
        .select('id')
        .where('org_id', '=', ctx.scope.orgId)
        .where('id', '=', secretId)
        .executeTakeFirst();
      if (!found) throw new NotFoundError('secret_not_found', 'No secret with that id in this organization.');
    }
    const row = await trx
      .selectFrom('orgs')
      .selectAll()
      .where('id', '=', ctx.scope.orgId)
      .executeTakeFirstOrThrow();
    const before = toOrg(row);
    const after: Org = {
      ...before,
      name: patch.name?.trim() || before.name,
      settings: { ...before.settings, ...patch.settings },
    };
    const written = await trx
      .updateTable('orgs')
      .set({ name: after.name, settings: JSON.stringify(after.settings) })
      .where('id', '=', ctx.scope.orgId)
      .where('settings', '=', row.settings)
      .executeTakeFirst();
    if (Number(written.numUpdatedRows) !== 1) return 'raced';
    await recordChange(trx, ctx, {
      action: 'org.updated',
      target: { type: 'org', id: ctx.scope.orgId },
      details: {
        before: { name: before.name, settings: before.settings },
        after: { name: after.name, settings: after.settings },
      },
    });
    return after;
  });
}

/** The org-wide kill switch: every agent of the org stops (or may run again) from this commit on. */
export async function setOrgAgentsStopped(
  db: Kysely<Database>,
  ctx: OrgContext,
  stopped: boolean,
  /** Runs in the change's transaction (what a stop ends); what it returns is recorded with it. */
  onChange?: (trx: Db) => Promise<Record<string, unknown>>,
): Promise<Org> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('orgs')
      .selectAll()
      .where('id', '=', ctx.scope.orgId)
      .executeTakeFirstOrThrow();
    if ((row.agents_stopped_at !== null) === stopped) return toOrg(row);
    const at = stopped ? new Date().toISOString() : null;
    const by = stopped ? ctx.actor.id : null;
    const ended = (await onChange?.(trx)) ?? {};
    await trx
      .updateTable('orgs')
      .set({ agents_stopped_at: at, agents_stopped_by: by })
      .where('id', '=', ctx.scope.orgId)
      .execute();
    await recordChange(trx, ctx, {
      action: stopped ? 'org.agents.stopped' : 'org.agents.resumed',
      target: { type: 'org', id: ctx.scope.orgId },
      details: { before: { stoppedAt: row.agents_stopped_at }, after: { stoppedAt: at }, ...ended },
    });
    return toOrg({ ...row, agents_stopped_at: at, agents_stopped_by: by });
  });
}
