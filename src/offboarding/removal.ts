/**
 * Removing a person from an organization ends all their access at once: in one transaction, with
 * one `person.removed` entry counting what ended — their API tokens there, their sessions (of this org alone if they have another),
 * the invitations they sent that are still open, sign-in links made for them, and the agent
 * tokens they issued — while their private agents and connections are stopped and handed to an
 * owner or admin (named in the entry), or deleted. Once committed, calls in flight on their agent
 * tokens end and the servers of their private agents and connections stop, on every replica.
 *
 * The preview shows exactly that beforehand, plus what removal does not end on its own: the
 * service tokens they made (which act for nobody) and the agent tokens made with those, for the
 * remover to keep or revoke in the same step.
 */
import type { Kysely } from 'kysely';
import {
  agentTokensIssuedBy,
  type IssuedAgentToken,
  type PrivateAgent,
  privateAgentsOf,
  revokeAgentTokens,
  settlePrivateAgents,
} from '../agents/index.ts';
import { expireApprovals } from '../approvals/approvals.ts';
import { recordChange } from '../audit/index.ts';
import {
  type PrivateConnection,
  privateConnectionsOf,
  revokePersonAuthorizations,
  settlePrivateConnections,
} from '../connections/index.ts';
import { BadRequestError, NotFoundError } from '../errors/index.ts';
import type { SessionEvent } from '../gateway/index.ts';
import {
  assertMayRemove,
  endIdentityAccess,
  findPerson,
  type HeldInvitation,
  type HeldToken,
  identityHoldings,
  listPeople,
  type OrgContext,
  type Person,
  revokeServiceTokens,
} from '../identity/index.ts';
import { deleteSlackLinksOf } from '../slack/index.ts';
import type { Database, Db } from '../store/index.ts';

export interface RemovalPreview {
  person: Person;
  /** Ends: their dashboard sessions (those that open this org alone, when they belong to another org too). */
  sessions: number;
  /** Ends: their API tokens in this org. */
  apiTokens: HeldToken[];
  /** Ends: the agent tokens they issued, with the agents they open. */
  agentTokens: IssuedAgentToken[];
  /** Ends: invitations they sent that nobody has used. */
  invitations: HeldInvitation[];
  /** Ends: unused sign-in links made for them. */
  signinLinks: number;
  /** Stopped and handed over, or deleted. */
  privateAgents: PrivateAgent[];
  /** Handed over (their servers stopped), or deleted. */
  privateConnections: PrivateConnection[];
  /** Not ended unless the remover says so: service tokens they made, and agent tokens made with those. */
  review: { serviceTokens: HeldToken[]; agentTokens: IssuedAgentToken[] };
  /** Who may receive the private agents and connections: the org's owners and admins, but them. */
  transferTargets: Person[];
  /** Who receives them unless the remover names someone: the remover, when they may. */
  defaultTransferTo: string | null;
}

export interface RemovalChoice {
  /** What becomes of their private agents and connections: handed over (the default), or deleted. */
  privateResources?: 'transfer' | 'delete' | undefined;
  /** An owner or admin of the org; the remover by default. */
  transferTo?: string | undefined;
  /** Ids from the preview's `review` to revoke as well (the rest are kept). */
  revokeTokens?: string[] | undefined;
}

export interface Removal {
  person: Person;
  /** What ended and what was handed over, as recorded in `person.removed`. */
  details: Record<string, unknown>;
}

const mayReceive = (p: Person) => p.role === 'owner' || p.role === 'admin';

async function holdings(db: Db, ctx: OrgContext, person: Person) {
  const identity = await identityHoldings(db, ctx.scope, person);
  const serviceIds = identity.serviceTokens.map((t) => t.id);
  const agentTokens = await agentTokensIssuedBy(db, ctx.scope, [person.id, ...serviceIds]);
  return {
    ...identity,
    agentTokens: agentTokens.filter((t) => t.createdBy === person.id),
    viaServiceTokens: agentTokens.filter((t) => t.createdBy !== person.id),
    privateAgents: await privateAgentsOf(db, ctx.scope, person.id),
    privateConnections: await privateConnectionsOf(db, ctx.scope, person.id),
  };
}

export async function previewRemoval(db: Db, ctx: OrgContext, userId: string): Promise<RemovalPreview> {
  const person = await assertMayRemove(db, ctx, userId);
  const h = await holdings(db, ctx, person);
  const transferTargets = (await listPeople(db, ctx.scope)).filter((p) => p.id !== userId && mayReceive(p));
  return {
    person,
    sessions: h.sessions,
    apiTokens: h.apiTokens,
    agentTokens: h.agentTokens,
    invitations: h.invitations,
    signinLinks: h.signinLinks,
    privateAgents: h.privateAgents,
    privateConnections: h.privateConnections,
    review: { serviceTokens: h.serviceTokens, agentTokens: h.viaServiceTokens },
    transferTargets,
    defaultTransferTo: transferTargets.some((p) => p.id === ctx.userId) ? ctx.userId : null,
  };
}

/** Who receives the private agents and connections (the remover by default); only another owner or admin. */
async function receiver(
  db: Db,
  ctx: OrgContext,
  person: Person,
  named: string | undefined,
  needed: boolean,
): Promise<string | null> {
  let id = named;
  if (id === undefined) {
    if (!needed) return null;
    if (!ctx.userId || ctx.userId === person.id) {
      throw new BadRequestError(
        'transfer_to_required',
        `Name who receives ${person.email}'s private agents and connections (transferTo: an owner or admin), or delete them.`,
      );
    }
    id = ctx.userId;
  }
  if (id === person.id)
    throw new BadRequestError('transfer_to_removed', 'transferTo is the person being removed.');
  const to = await findPerson(db, ctx.scope, id);
  if (!to)
    throw new NotFoundError('person_not_found', 'transferTo: no person with that id in this organization.');
  if (!mayReceive(to)) {
    throw new BadRequestError(
      'transfer_to_not_admin',
      `transferTo must be an owner or admin; ${to.email} is ${to.role === 'auditor' ? 'an' : 'a'} ${to.role}.`,
    );
  }
  return to.id;
}

/** Ids in revokeTokens that are not for review: unknown here (404, as any other org's), or not theirs to pick. */
async function refuseStray(db: Db, ctx: OrgContext, ids: string[]): Promise<never> {
  const known = new Set(
    [
      ...(await db
        .selectFrom('api_tokens')
        .select('id')
        .where('org_id', '=', ctx.scope.orgId)
        .where('id', 'in', ids)
        .execute()),
      ...(await db
        .selectFrom('agent_tokens')
        .select('id')
        .where('org_id', '=', ctx.scope.orgId)
        .where('id', 'in', ids)
        .execute()),
    ].map((r) => r.id),
  );
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length > 0)
    throw new NotFoundError(
      'token_not_found',
      `revokeTokens: no token ${unknown.join(', ')} in this organization.`,
    );
  throw new BadRequestError(
    'not_for_review',
    `revokeTokens: ${ids.join(', ')} ${ids.length === 1 ? 'is' : 'are'} not among the tokens this removal lists for review.`,
  );
}

/**
 * Removes a person as `choice` says (private agents and connections handed to the remover by
 * default), then ends what they have running on every replica through `publish` (the stop bus).
 * Bad input changes nothing.
 */
export async function removePerson(
  db: Kysely<Database>,
  publish: (event: SessionEvent) => Promise<void>,
  ctx: OrgContext,
  userId: string,
  choice: RemovalChoice = {},
): Promise<Removal> {
  const action = choice.privateResources ?? 'transfer';
  if (action === 'delete' && choice.transferTo !== undefined) {
    throw new BadRequestError(
      'unexpected_transfer_to',
      'transferTo goes with "privateResources": "transfer"; deleted agents and connections go to nobody.',
    );
  }
  const removal = await db.transaction().execute(async (trx) => {
    const person = await assertMayRemove(trx, ctx, userId);
    const h = await holdings(trx, ctx, person);
    const owned = h.privateAgents.length + h.privateConnections.length > 0;
    const to = action === 'transfer' ? await receiver(trx, ctx, person, choice.transferTo, owned) : null;
    const revoke = new Set(choice.revokeTokens ?? []);
    const reviewable = new Set([...h.serviceTokens, ...h.viaServiceTokens].map((t) => t.id));
    const stray = [...revoke].filter((id) => !reviewable.has(id));
    if (stray.length > 0) await refuseStray(trx, ctx, stray);

    const ended = await endIdentityAccess(trx, ctx, person);
    // What was asked or granted for them expires with them: no one approves, and nothing uses, a call for someone gone.
    const approvalsExpired = await expireApprovals(trx, ctx.scope.orgId, { personId: person.id });
    const agentTokenIds = await revokeAgentTokens(trx, ctx.scope, { issuedBy: person.id });
    // No Slack account stands for them any more, and a link code they made links nothing.
    const slackLinks = await deleteSlackLinksOf(trx, ctx.scope.orgId, person.id);
    const oauthEnded = await revokePersonAuthorizations(trx, ctx, person.id);
    const settle = to ? { action: 'transfer' as const, to } : action === 'delete' ? { action } : null;
    const agents = settle ? await settlePrivateAgents(trx, ctx, person.id, settle) : [];
    const connections = settle ? await settlePrivateConnections(trx, ctx, person.id, settle) : [];
    const revokedService = await revokeServiceTokens(
      trx,
      ctx.scope,
      h.serviceTokens.filter((t) => revoke.has(t.id)).map((t) => t.id),
    );
    const revokedAgent = await revokeAgentTokens(trx, ctx.scope, {
      ids: h.viaServiceTokens.filter((t) => revoke.has(t.id)).map((t) => t.id),
    });
    const details = {
      before: { email: person.email, role: person.role },
      ...ended,
      agentTokensRevoked: agentTokenIds.length,
      approvalsExpired,
      agentTokenIds,
      slackLinks,
      privateResources: { action, ...(to ? { to } : {}), agents, connections },
      reviewed: {
        revoked: [...revokedService, ...revokedAgent],
        kept: [...reviewable].filter((id) => !revoke.has(id)),
      },
    };
    await recordChange(trx, ctx, {
      action: 'person.removed',
      target: { type: 'person', id: person.id },
      details,
    });
    return { person, details, agents, connections, revokedAgent, oauthEnded };
  });

  // Committed: what they had running ends now, here and on every other replica.
  const orgId = ctx.scope.orgId;
  await publish({ kind: 'agent-tokens', orgId, issuedBy: removal.person.id });
  if (removal.revokedAgent.length > 0)
    await publish({ kind: 'agent-tokens', orgId, tokenIds: removal.revokedAgent });
  for (const agentId of removal.agents) await publish({ kind: 'agent', orgId, agentId });
  for (const connectionId of removal.connections) await publish({ kind: 'connection', orgId, connectionId });
  for (const event of removal.oauthEnded) await publish(event);
  return { person: removal.person, details: removal.details };
}
