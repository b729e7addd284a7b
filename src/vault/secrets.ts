/**
 * Secrets: customers' model provider keys (BYOK) and connector credentials. Each is sealed with
 * its org's data key; the API shows only metadata (name, kind, provider, which agents, version,
 * the last four characters, who created and rotated it, when). Values go in, never out.
 */
import type { Kysely } from 'kysely';
import { type ChangeContext, recordChange } from '../audit/index.ts';
import { BadRequestError, NotFoundError } from '../errors/index.ts';
import { newId } from '../ids/index.ts';
import { registerSecret } from '../redact/index.ts';
import { type Database, type Db, type OrgScope, orConflict } from '../store/index.ts';
import type { SecretTable } from '../store/schema.ts';
import type { Vault } from './vault.ts';

export const SECRET_KINDS = ['model_key', 'connector_credential', 'other'] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];

export interface SecretInfo {
  id: string;
  name: string;
  kind: SecretKind;
  provider: string | null;
  /** null: every agent of the org may use it. */
  agentIds: string[] | null;
  version: number;
  hint: string;
  createdAt: string;
  createdBy: string;
  rotatedAt: string | null;
  rotatedBy: string | null;
  /** A model key's endpoint, when it is not the provider's own (openai-compatible, a proxy). */
  baseUrl: string | null;
}

function toInfo(r: SecretTable): SecretInfo {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    provider: r.provider,
    agentIds: r.agent_ids ? (JSON.parse(r.agent_ids) as string[]) : null,
    version: r.version,
    hint: r.hint,
    createdAt: r.created_at,
    createdBy: r.created_by,
    rotatedAt: r.rotated_at,
    rotatedBy: r.rotated_by,
    baseUrl: r.base_url,
  };
}

/**
 * A model key's endpoint: an http(s) URL with no credentials in it; plain http only to this
 * machine (the key travels in its headers). Only for keys of kind `model_key`.
 */
function checkBaseUrl(kind: SecretKind, baseUrl: string | null | undefined): string | null {
  if (baseUrl === null || baseUrl === undefined) return null;
  if (kind !== 'model_key') {
    throw new BadRequestError('invalid_base_url', 'Only a model key carries an endpoint (baseUrl).');
  }
  const url = URL.canParse(baseUrl) ? new URL(baseUrl) : null;
  if (!url || !['https:', 'http:'].includes(url.protocol) || url.username || url.password || url.search) {
    throw new BadRequestError(
      'invalid_base_url',
      'A model endpoint is an http(s) URL with no credentials or query in it.',
    );
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol === 'http:' && !loopback) {
    throw new BadRequestError(
      'insecure_base_url',
      'A model key is sent only over https (plain http only to this machine).',
    );
  }
  return url.toString().replace(/\/+$/, '');
}

const hintOf = (value: string) => `…${value.slice(-4)}`;

function assertValue(value: string): void {
  if (value.length < 8 || value.length > 16_384) {
    throw new BadRequestError('invalid_secret', 'A secret value is 8 to 16,384 characters.');
  }
}

export async function listSecrets(db: Db, scope: OrgScope): Promise<SecretInfo[]> {
  const rows = await db
    .selectFrom('secrets')
    .selectAll()
    .where('org_id', '=', scope.orgId)
    .orderBy('name')
    .execute();
  return rows.map(toInfo);
}

async function requireSecret(db: Db, scope: OrgScope, id: string): Promise<SecretTable> {
  const row = await db
    .selectFrom('secrets')
    .selectAll()
    .where('org_id', '=', scope.orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new NotFoundError('secret_not_found', 'No secret with that id in this organization.');
  return row;
}

export async function getSecret(db: Db, scope: OrgScope, id: string): Promise<SecretInfo> {
  return toInfo(await requireSecret(db, scope, id));
}

/** A secret is scoped to agents of its own org only: another org's agent id reads as unknown. */
async function assertAgents(db: Db, scope: OrgScope, agentIds: string[] | null | undefined): Promise<void> {
  const wanted = [...new Set(agentIds ?? [])];
  if (wanted.length === 0) return;
  const found = await db
    .selectFrom('agents')
    .select('id')
    .where('org_id', '=', scope.orgId)
    .where('id', 'in', wanted)
    .execute();
  const known = new Set(found.map((a) => a.id));
  const unknown = wanted.find((id) => !known.has(id));
  if (unknown) throw new NotFoundError('agent_not_found', `No agent ${unknown} in this organization.`);
}

export interface NewSecret {
  name: string;
  kind: SecretKind;
  provider?: string | null | undefined;
  agentIds?: string[] | null | undefined;
  baseUrl?: string | null | undefined;
  value: string;
}

export async function createSecret(
  db: Kysely<Database>,
  vault: Vault,
  ctx: ChangeContext,
  input: NewSecret,
): Promise<SecretInfo> {
  assertValue(input.value);
  const baseUrl = checkBaseUrl(input.kind, input.baseUrl);
  registerSecret(input.value);
  const id = newId('sec');
  return db.transaction().execute(async (trx) => {
    await assertAgents(trx, ctx.scope, input.agentIds);
    const now = new Date().toISOString();
    const row: SecretTable = {
      id,
      org_id: ctx.scope.orgId,
      name: input.name.trim(),
      kind: input.kind,
      provider: input.provider ?? null,
      agent_ids: input.agentIds ? JSON.stringify([...new Set(input.agentIds)].sort()) : null,
      version: 1,
      sealed: await vault.seal(trx, { orgId: ctx.scope.orgId, secretId: id, version: 1 }, input.value),
      hint: hintOf(input.value),
      created_at: now,
      created_by: ctx.actor.id,
      rotated_at: null,
      rotated_by: null,
      base_url: baseUrl,
    };
    await orConflict(
      trx.insertInto('secrets').values(row).execute(),
      'secret_exists',
      `A secret named "${row.name}" already exists.`,
    );
    const info = toInfo(row);
    await recordChange(trx, ctx, {
      action: 'secret.created',
      target: { type: 'secret', id },
      details: {
        after: {
          name: info.name,
          kind: info.kind,
          provider: info.provider,
          agentIds: info.agentIds,
          baseUrl: info.baseUrl,
        },
      },
    });
    return info;
  });
}

/** Replaces the value (a new version, sealed anew); the old ciphertext is gone. */
export async function rotateSecret(
  db: Kysely<Database>,
  vault: Vault,
  ctx: ChangeContext,
  id: string,
  value: string,
): Promise<SecretInfo> {
  assertValue(value);
  registerSecret(value);
  return db.transaction().execute(async (trx) => {
    const row = await requireSecret(trx, ctx.scope, id);
    const version = row.version + 1;
    const now = new Date().toISOString();
    const sealed = await vault.seal(trx, { orgId: ctx.scope.orgId, secretId: id, version }, value);
    await trx
      .updateTable('secrets')
      .set({ sealed, version, hint: hintOf(value), rotated_at: now, rotated_by: ctx.actor.id })
      .where('org_id', '=', ctx.scope.orgId)
      .where('id', '=', id)
      .execute();
    await recordChange(trx, ctx, {
      action: 'secret.rotated',
      target: { type: 'secret', id },
      details: { name: row.name, before: { version: row.version }, after: { version } },
    });
    return toInfo({
      ...row,
      sealed,
      version,
      hint: hintOf(value),
      rotated_at: now,
      rotated_by: ctx.actor.id,
    });
  });
}

export interface SecretChange {
  agentIds?: string[] | null | undefined;
  baseUrl?: string | null | undefined;
  /** Whose key it is (a typo fixed); the caller checks a model key's against the providers known. */
  provider?: string | null | undefined;
}

/** Changes which agents may use a secret, whose key it is, or (a model key) where it is sent; each on record. */
export async function updateSecret(
  db: Kysely<Database>,
  ctx: ChangeContext,
  id: string,
  change: SecretChange,
): Promise<SecretInfo> {
  return db.transaction().execute(async (trx) => {
    let row = await requireSecret(trx, ctx.scope, id);
    /** One column changed, and on record with what it was and is. */
    const changed = async (
      set: Partial<SecretTable>,
      action: string,
      before: Record<string, unknown>,
      after: Record<string, unknown>,
    ) => {
      await trx
        .updateTable('secrets')
        .set(set)
        .where('org_id', '=', ctx.scope.orgId)
        .where('id', '=', id)
        .execute();
      await recordChange(trx, ctx, {
        action,
        target: { type: 'secret', id },
        details: { name: row.name, before, after },
      });
      row = { ...row, ...set };
    };
    if (change.agentIds !== undefined) {
      await assertAgents(trx, ctx.scope, change.agentIds);
      const next = change.agentIds ? JSON.stringify([...new Set(change.agentIds)].sort()) : null;
      await changed(
        { agent_ids: next },
        'secret.scope.changed',
        { agentIds: toInfo(row).agentIds },
        { agentIds: change.agentIds },
      );
    }
    if (change.baseUrl !== undefined) {
      const baseUrl = checkBaseUrl(row.kind, change.baseUrl);
      await changed({ base_url: baseUrl }, 'secret.endpoint.changed', { baseUrl: row.base_url }, { baseUrl });
    }
    if (change.provider !== undefined && change.provider !== row.provider)
      await changed(
        { provider: change.provider },
        'secret.provider.changed',
        { provider: row.provider },
        { provider: change.provider },
      );
    return toInfo(row);
  });
}

export async function deleteSecret(db: Kysely<Database>, ctx: ChangeContext, id: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await requireSecret(trx, ctx.scope, id);
    await trx.deleteFrom('secrets').where('org_id', '=', ctx.scope.orgId).where('id', '=', id).execute();
    await recordChange(trx, ctx, {
      action: 'secret.deleted',
      target: { type: 'secret', id },
      details: { before: { name: row.name, kind: row.kind, version: row.version } },
    });
  });
}

/** Opens a secret for use. Only for the org's cell (and the tests that stand in for it). */
export async function openSecret(db: Db, vault: Vault, scope: OrgScope, id: string): Promise<string> {
  const row = await requireSecret(db, scope, id);
  return vault.open(db, { orgId: scope.orgId, secretId: row.id, version: row.version }, row.sealed);
}
