/**
 * API tokens. Shown once at creation, stored as a digest, expiring, revocable. A token either
 * acts for a person (and never outranks them: demote or remove the person and the token follows
 * at once) or is a service token made by an admin or the operator.
 */
import type { Kysely } from 'kysely';
import { recordAudit, recordChange } from '../audit/index.ts';
import { BadRequestError, ForbiddenError, NotFoundError, UnauthenticatedError } from '../errors/index.ts';
import { newId } from '../ids/index.ts';
import type { Database, Db, Role } from '../store/index.ts';
import type { ApiTokenTable } from '../store/schema.ts';
import type { Caller, OrgContext } from './context.ts';
import { hashSecret, newSecret } from './credentials.ts';
import { holdMembership } from './people.ts';
import { mayAssign } from './roles.ts';
import type { OrgScope } from './scope.ts';

export interface TokenInfo {
  id: string;
  name: string;
  role: Role;
  personId: string | null;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

function toInfo(r: ApiTokenTable): TokenInfo {
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    personId: r.user_id,
    createdBy: r.created_by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
  };
}

export interface NewToken {
  name: string;
  role: Role;
  /** Days until it expires; null for never (only if the org allows it). */
  expiresInDays: number | null;
  /** A service token acts for nobody; otherwise it acts for the calling person. */
  service: boolean;
}

/** Inserts a token inside the caller's transaction; returns the secret, which is never stored. */
export async function insertToken(
  trx: Db,
  caller: Caller,
  scope: OrgScope,
  input: NewToken,
  maxDays: number | null,
): Promise<{ token: string; info: TokenInfo }> {
  const name = input.name.trim();
  if (!name || name.length > 100)
    throw new BadRequestError('invalid_name', 'A token name is 1 to 100 characters.');
  if (input.expiresInDays !== null && (!Number.isInteger(input.expiresInDays) || input.expiresInDays < 1)) {
    throw new BadRequestError('invalid_expiry', 'expiresInDays is a whole number of days, at least 1.');
  }
  const days = input.expiresInDays;
  if (maxDays !== null && (days === null || days > maxDays)) {
    throw new BadRequestError(
      'expiry_too_long',
      `This organization allows tokens of at most ${maxDays} days.`,
    );
  }
  const token = newSecret('pdk');
  const now = new Date();
  const row: ApiTokenTable = {
    id: newId('tok'),
    org_id: scope.orgId,
    user_id: input.service ? null : caller.userId,
    name,
    role: input.role,
    token_hash: hashSecret(token),
    created_by: caller.actor.id,
    created_at: now.toISOString(),
    expires_at: days === null ? null : new Date(now.getTime() + days * 86_400_000).toISOString(),
    revoked_at: null,
    last_used_at: null,
  };
  await trx.insertInto('api_tokens').values(row).execute();
  const info = toInfo(row);
  await recordAudit(trx, {
    orgId: scope.orgId,
    actor: caller.actor,
    action: 'token.created',
    target: { type: 'token', id: row.id },
    requestId: caller.requestId,
    details: {
      after: { name: info.name, role: info.role, personId: info.personId, expiresAt: info.expiresAt },
    },
  });
  return { token, info };
}

export async function createToken(db: Kysely<Database>, ctx: OrgContext, input: NewToken) {
  if (!mayAssign(ctx.role, input.role)) {
    throw new ForbiddenError('role_too_high', `A ${ctx.role} cannot create a token with role ${input.role}.`);
  }
  const service = input.service || ctx.userId === null;
  if (service && ctx.role !== 'owner' && ctx.role !== 'admin') {
    throw new ForbiddenError('forbidden', 'Only owners and admins create service tokens.');
  }
  return db.transaction().execute(async (trx) => {
    await holdMembership(trx, ctx, ctx.scope);
    return insertToken(trx, ctx, ctx.scope, { ...input, service }, ctx.org.settings.maxTokenDays);
  });
}

/** Admins, owners and auditors see every token of the org; members see their own. */
export async function listTokens(db: Db, ctx: OrgContext): Promise<TokenInfo[]> {
  let q = db.selectFrom('api_tokens').selectAll().where('org_id', '=', ctx.scope.orgId);
  if (ctx.role === 'member') q = q.where('user_id', '=', ctx.userId ?? '');
  const rows = await q.orderBy('created_at', 'desc').execute();
  return rows.map(toInfo);
}

export async function revokeToken(
  db: Kysely<Database>,
  ctx: OrgContext,
  tokenId: string,
): Promise<TokenInfo> {
  return db.transaction().execute(async (trx) => {
    let q = trx
      .selectFrom('api_tokens')
      .selectAll()
      .where('org_id', '=', ctx.scope.orgId)
      .where('id', '=', tokenId);
    if (ctx.role === 'member') q = q.where('user_id', '=', ctx.userId ?? '');
    const row = await q.executeTakeFirst();
    if (!row) throw new NotFoundError('token_not_found', 'No token with that id in this organization.');
    if (row.revoked_at) return toInfo(row);
    const now = new Date().toISOString();
    await trx.updateTable('api_tokens').set({ revoked_at: now }).where('id', '=', row.id).execute();
    await recordChange(trx, ctx, {
      action: 'token.revoked',
      target: { type: 'token', id: row.id },
      details: { before: { name: row.name, role: row.role } },
    });
    return { ...toInfo(row), revokedAt: now };
  });
}

export interface AuthenticatedToken {
  id: string;
  orgId: string;
  userId: string | null;
  role: Role;
}

/** Checks a presented bearer token. Unknown, revoked and expired tokens each say so. */
export async function authenticateToken(db: Db, secret: string): Promise<AuthenticatedToken> {
  const row = await db
    .selectFrom('api_tokens')
    .selectAll()
    .where('token_hash', '=', hashSecret(secret))
    .executeTakeFirst();
  if (!row) {
    // An agent's token (or a person's session id) sent here: say where it works instead.
    if (secret.startsWith('pda_'))
      throw new UnauthenticatedError(
        'invalid_token',
        'This is an agent token: it works on the MCP endpoint (/mcp/{org}), not on the management API. Use an API token (pdk_…) here.',
      );
    throw new UnauthenticatedError('invalid_token', 'The bearer token is not valid.');
  }
  if (row.revoked_at) throw new UnauthenticatedError('token_revoked', 'The bearer token was revoked.');
  const now = new Date();
  if (row.expires_at && row.expires_at <= now.toISOString()) {
    throw new UnauthenticatedError('token_expired', 'The bearer token has expired.');
  }
  // Record use at most once a minute: an fsync per request would cost more than it tells.
  if (!row.last_used_at || now.getTime() - Date.parse(row.last_used_at) > 60_000) {
    await db
      .updateTable('api_tokens')
      .set({ last_used_at: now.toISOString() })
      .where('id', '=', row.id)
      .execute();
  }
  return { id: row.id, orgId: row.org_id, userId: row.user_id, role: row.role };
}

/**
 * The person answerable for what the caller asks (approvals bind to them): the caller, or, for a
 * service token, the person who made it (or the token itself when that person is unknown).
 */
export async function answerablePerson(db: Db, ctx: OrgContext): Promise<string> {
  if (ctx.userId) return ctx.userId;
  if (!ctx.tokenId) return ctx.actor.id;
  const row = await db
    .selectFrom('api_tokens')
    .select('created_by')
    .where('org_id', '=', ctx.scope.orgId)
    .where('id', '=', ctx.tokenId)
    .executeTakeFirst();
  return row?.created_by ?? ctx.actor.id;
}
