/**
 * Deletion on request of memory: one agent's whole memory (an audited request with counts, never
 * content), and the part of a person's data that is memory about them (for the deletion of their
 * data). Both find the audit entries of the memory tool's calls that hold the text (their
 * arguments), for erasure the way the audit log allows: payload gone, hashed header kept.
 */
import type { Kysely } from 'kysely';
import { assertCanChangeAgent, requireAgentRow } from '../agents/index.ts';
import { eraseEntries, recordChange } from '../audit/index.ts';
import type { OrgContext } from '../identity/index.ts';
import type { Database, Db } from '../store/index.ts';
import { MEMORY_SERVER } from './tool.ts';

/** Ids per query: well under either engine's limit of bound parameters. */
const CHUNK = 500;

/** The audit targets of the memory tools' calls in the org (`<connection>/<tool>`). */
async function memoryTargets(db: Db, orgId: string): Promise<string[]> {
  const conns = await db
    .selectFrom('connections')
    .select('id')
    .where('org_id', '=', orgId)
    .where('transport', '=', 'builtin')
    .where('command', '=', MEMORY_SERVER)
    .execute();
  return conns.flatMap((c) => ['remember', 'recall', 'forget'].map((t) => `${c.id}/${t}`));
}

/** The memory tool calls on record in the org (not yet erased), by whom, with their arguments. */
async function memoryCalls(db: Db, orgId: string, agentId?: string) {
  const targets = await memoryTargets(db, orgId);
  if (targets.length === 0) return [];
  let q = db
    .selectFrom('audit_entries')
    .select(['idx', 'actor_id', 'details'])
    .where('log_id', '=', orgId)
    .where('target_id', 'in', targets)
    .where('erased_at', 'is', null);
  if (agentId) q = q.where('actor_id', '=', agentId);
  return q.execute();
}

/**
 * The audit entries of memory tool calls about a person: those whose `about` named them (by id or
 * by one of `emails`). Calls made in their own runs are erased with the runs' entries.
 */
export async function memoryEntriesAbout(
  db: Db,
  orgId: string,
  personId: string,
  emails: string[],
): Promise<number[]> {
  const names = new Set([personId, ...emails].map((n) => n.toLowerCase()));
  return (await memoryCalls(db, orgId))
    .filter((r) => {
      const about = (JSON.parse(r.details ?? '{}') as { args?: { about?: unknown } }).args?.about;
      return typeof about === 'string' && names.has(about.trim().toLowerCase());
    })
    .map((r) => Number(r.idx));
}

/** Deletes the memory entries about a person, in the caller's transaction; how many. */
export async function deleteMemoryAbout(trx: Db, orgId: string, personId: string): Promise<number> {
  const r = await trx
    .deleteFrom('memories')
    .where('org_id', '=', orgId)
    .where('person_id', '=', personId)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

export interface AgentMemoryDeleted {
  entries: number;
  /** Audit entries of the agent's memory tool calls whose payload was erased (headers stay). */
  auditPayloads: number;
}

/**
 * Deletes all of one agent's memory on request (the agent's owner, owners and admins): its
 * entries, and the payloads of its memory tool calls on record. `placed` waits for the audit
 * log's writer, so calls still on their way into the tree are erased too; `purge` then clears the
 * store's files of old copies. On record as `agent.memory.deleted` with the counts.
 */
export async function deleteAgentMemory(
  db: Kysely<Database>,
  ctx: OrgContext,
  agentId: string,
  placed: () => Promise<void>,
  purge: () => Promise<void> = async () => undefined,
): Promise<AgentMemoryDeleted> {
  assertCanChangeAgent(ctx, await requireAgentRow(db, ctx, agentId));
  await placed();
  const indexes = (await memoryCalls(db, ctx.scope.orgId, agentId)).map((r) => Number(r.idx));
  let erased = 0;
  for (let i = 0; i < indexes.length; i += CHUNK)
    erased += (
      await eraseEntries(
        db,
        ctx,
        indexes.slice(i, i + CHUNK),
        `deletion request: the memory of agent ${agentId}`,
      )
    ).length;
  const counts = await db.transaction().execute(async (trx) => {
    const r = await trx
      .deleteFrom('memories')
      .where('org_id', '=', ctx.scope.orgId)
      .where('agent_id', '=', agentId)
      .executeTakeFirst();
    const counts: AgentMemoryDeleted = { entries: Number(r.numDeletedRows), auditPayloads: erased };
    await recordChange(trx, ctx, {
      action: 'agent.memory.deleted',
      target: { type: 'agent', id: agentId },
      details: { ...counts },
    });
    return counts;
  });
  await purge();
  return counts;
}
