/**
 * An agent's webhook endpoints, managed by whoever may change the agent (owners and admins, and
 * a member who owns it): made with a signing secret shown once and sealed in the vault, listed
 * as metadata only, rotated (the old secret stops working at once), deleted. Every change is in
 * the org's trail in its own transaction; every query is scoped to the org.
 *
 * A deleted endpoint keeps its row without its secret, so a delivery sent to it later is still
 * recorded in its org's trail (and answered as if it never existed).
 */
import type { Kysely } from 'kysely';
import { assertCanChangeAgent, requireAgentRow } from '../agents/index.ts';
import { recordChange } from '../audit/index.ts';
import { ConflictError, NotFoundError } from '../errors/index.ts';
import type { OrgContext } from '../identity/index.ts';
import { newId } from '../ids/index.ts';
import type { Database, Db } from '../store/index.ts';
import type { WebhookTable } from '../store/schema.ts';
import type { Vault } from '../vault/index.ts';
import { hintOf, newSigningSecret } from './signature.ts';

/** Enough for every sender an agent listens to; a bound on what one person can pile up. */
export const MAX_WEBHOOKS_PER_AGENT = 20;

export interface WebhookInfo {
  id: string;
  agentId: string;
  name: string;
  /** Where senders deliver: `POST` this path on Paddock's public URL. */
  path: string;
  secretHint: string;
  secretVersion: number;
  createdBy: string;
  createdAt: string;
  rotatedBy: string | null;
  rotatedAt: string | null;
}

export const hookPath = (id: string) => `/hooks/${id}`;

const toInfo = (r: WebhookTable): WebhookInfo => ({
  id: r.id,
  agentId: r.agent_id,
  name: r.name,
  path: hookPath(r.id),
  secretHint: r.secret_hint,
  secretVersion: Number(r.secret_version),
  createdBy: r.created_by,
  createdAt: r.created_at,
  rotatedBy: r.rotated_by,
  rotatedAt: r.rotated_at,
});

/** The vault binds a sealed secret to its org, endpoint and version. */
const sealRef = (orgId: string, id: string, version: number) => ({ orgId, secretId: id, version });

async function requireLive(trx: Db, ctx: OrgContext, agentId: string, id: string): Promise<WebhookTable> {
  const row = await trx
    .selectFrom('webhooks')
    .selectAll()
    .where('org_id', '=', ctx.scope.orgId)
    .where('agent_id', '=', agentId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!row) throw new NotFoundError('webhook_not_found', 'No webhook endpoint with that id for this agent.');
  return row;
}

export async function listWebhooks(db: Db, ctx: OrgContext, agentId: string): Promise<WebhookInfo[]> {
  await requireAgentRow(db, ctx, agentId);
  const rows = await db
    .selectFrom('webhooks')
    .selectAll()
    .where('org_id', '=', ctx.scope.orgId)
    .where('agent_id', '=', agentId)
    .where('deleted_at', 'is', null)
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map(toInfo);
}

/** Makes an endpoint; its secret is in the answer and nowhere else in clear, ever. */
export async function createWebhook(
  db: Kysely<Database>,
  vault: Vault,
  ctx: OrgContext,
  agentId: string,
  input: { name: string },
): Promise<{ secret: string; webhook: WebhookInfo }> {
  return db.transaction().execute(async (trx) => {
    const agent = await requireAgentRow(trx, ctx, agentId);
    assertCanChangeAgent(ctx, agent);
    const live = await trx
      .selectFrom('webhooks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('org_id', '=', ctx.scope.orgId)
      .where('agent_id', '=', agentId)
      .where('deleted_at', 'is', null)
      .executeTakeFirstOrThrow();
    if (Number(live.n) >= MAX_WEBHOOKS_PER_AGENT)
      throw new ConflictError(
        'too_many_webhooks',
        `An agent has at most ${MAX_WEBHOOKS_PER_AGENT} webhook endpoints; delete one first.`,
      );
    const id = newId('whk');
    const secret = newSigningSecret();
    const row: WebhookTable = {
      id,
      org_id: ctx.scope.orgId,
      agent_id: agentId,
      name: input.name.trim(),
      secret: await vault.seal(trx, sealRef(ctx.scope.orgId, id, 1), secret),
      secret_version: 1,
      secret_hint: hintOf(secret),
      created_by: ctx.actor.id,
      created_at: new Date().toISOString(),
      rotated_by: null,
      rotated_at: null,
      deleted_by: null,
      deleted_at: null,
    };
    await trx.insertInto('webhooks').values(row).execute();
    await recordChange(trx, ctx, {
      action: 'webhook.created',
      target: { type: 'webhook', id },
      details: { agentId, name: row.name, secretVersion: 1 },
    });
    return { secret, webhook: toInfo(row) };
  });
}

/** A new secret, shown once; the old one is refused from the moment this commits. */
export async function rotateWebhookSecret(
  db: Kysely<Database>,
  vault: Vault,
  ctx: OrgContext,
  agentId: string,
  id: string,
): Promise<{ secret: string; webhook: WebhookInfo }> {
  return db.transaction().execute(async (trx) => {
    assertCanChangeAgent(ctx, await requireAgentRow(trx, ctx, agentId));
    const row = await requireLive(trx, ctx, agentId, id);
    const version = Number(row.secret_version) + 1;
    const secret = newSigningSecret();
    const now = new Date().toISOString();
    const changed = {
      secret: await vault.seal(trx, sealRef(ctx.scope.orgId, id, version), secret),
      secret_version: version,
      secret_hint: hintOf(secret),
      rotated_by: ctx.actor.id,
      rotated_at: now,
    };
    // Two rotations at once: one wins, the other is told (its secret would never have worked).
    const written = await trx
      .updateTable('webhooks')
      .set(changed)
      .where('org_id', '=', ctx.scope.orgId)
      .where('id', '=', id)
      .where('secret_version', '=', row.secret_version)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (Number(written.numUpdatedRows) !== 1)
      throw new ConflictError('webhook_changed', 'The endpoint changed meanwhile; try again.');
    await recordChange(trx, ctx, {
      action: 'webhook.secret_rotated',
      target: { type: 'webhook', id },
      details: { agentId, name: row.name, secretVersion: version },
    });
    return { secret, webhook: toInfo({ ...row, ...changed }) };
  });
}

/** Deletes an endpoint: its secret is erased; deliveries to it are refused from this commit on. */
export async function deleteWebhook(db: Kysely<Database>, ctx: OrgContext, agentId: string, id: string) {
  await db.transaction().execute(async (trx) => {
    assertCanChangeAgent(ctx, await requireAgentRow(trx, ctx, agentId));
    const row = await requireLive(trx, ctx, agentId, id);
    await trx
      .updateTable('webhooks')
      .set({ secret: null, deleted_by: ctx.actor.id, deleted_at: new Date().toISOString() })
      .where('org_id', '=', ctx.scope.orgId)
      .where('id', '=', id)
      .execute();
    await recordChange(trx, ctx, {
      action: 'webhook.deleted',
      target: { type: 'webhook', id },
      details: { agentId, name: row.name },
    });
  });
}
