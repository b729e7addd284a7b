/**
 * An agent's memory, as people see it: list (with a search), edit the text, pin or unpin, delete
 * an entry. Owners, admins and auditors see every entry of an agent they may see; a member sees
 * the agent's general entries and those about themselves, never those about someone else. Edits
 * and deletions are on record by id, length and pinned state — never the text, so nothing of it
 * has to be erased from the log later.
 */
import type { Kysely } from 'kysely';
import { assertCanChangeAgent, requireAgentRow } from '../agents/index.ts';
import { recordChange } from '../audit/index.ts';
import { BadRequestError, NotFoundError } from '../errors/index.ts';
import type { OrgContext } from '../identity/index.ts';
import type { Database, Db } from '../store/index.ts';
import type { MemoryTable } from '../store/schema.ts';

/** What bounds one agent's memory: a tenant (or a tool) writes it, so every part is capped. */
export const MEMORY_LIMITS = {
  /** Characters of one entry's text. */
  textChars: 2000,
  /** Entries one agent keeps; `remember` is refused beyond it until some are forgotten. */
  entriesPerAgent: 1000,
  /** Entries one recall answers with. */
  recallResults: 10,
  /** Characters of a recall's query. */
  queryChars: 500,
} as const;

export interface MemoryEntry {
  id: string;
  agentId: string;
  /** The person of the org it is about; null for what the agent knows in general. */
  personId: string | null;
  text: string;
  /** Given to every run of the agent (otherwise found by recall). */
  pinned: boolean;
  /** Who wrote it last: the agent's id (through the tool) or a person's (an edit). */
  updatedBy: string;
  createdAt: string;
  updatedAt: string;
}

export const toMemoryEntry = (r: MemoryTable): MemoryEntry => ({
  id: r.id,
  agentId: r.agent_id,
  personId: r.person_id,
  text: r.text,
  pinned: Number(r.pinned) === 1,
  updatedBy: r.updated_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Text an entry may hold: trimmed, not empty, within the limit, no control characters but newlines and tabs. */
export function memoryText(text: string): string {
  const t = text.trim();
  if (t.length === 0) throw new BadRequestError('invalid_memory', 'A memory entry needs some text.');
  if (t.length > MEMORY_LIMITS.textChars)
    throw new BadRequestError(
      'memory_too_long',
      `A memory entry holds at most ${MEMORY_LIMITS.textChars} characters (this one has ${t.length}).`,
    );
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(t))
    throw new BadRequestError('invalid_memory', 'A memory entry may not hold control characters.');
  return t;
}

/** Whether a member may see an entry: general ones and those about themselves. */
const visibleTo = (ctx: OrgContext, r: Pick<MemoryTable, 'person_id'>) =>
  ctx.role !== 'member' || r.person_id === null || r.person_id === ctx.userId;

/**
 * The agent's memory, pinned first then newest; `q` keeps the entries holding every word of it
 * (case-insensitive).
 */
export async function listMemory(
  db: Db,
  ctx: OrgContext,
  agentId: string,
  opts: { q?: string | undefined; limit: number },
): Promise<MemoryEntry[]> {
  await requireAgentRow(db, ctx, agentId);
  const rows = await db
    .selectFrom('memories')
    .selectAll()
    .where('org_id', '=', ctx.scope.orgId)
    .where('agent_id', '=', agentId)
    .orderBy('pinned', 'desc')
    .orderBy('updated_at', 'desc')
    .orderBy('id')
    .limit(MEMORY_LIMITS.entriesPerAgent)
    .execute();
  const words = (opts.q ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  return rows
    .filter((r) => visibleTo(ctx, r))
    .filter((r) => words.every((w) => r.text.toLowerCase().includes(w)))
    .slice(0, opts.limit)
    .map(toMemoryEntry);
}

async function requireEntry(db: Db, ctx: OrgContext, agentId: string, id: string): Promise<MemoryTable> {
  const row = await db
    .selectFrom('memories')
    .selectAll()
    .where('org_id', '=', ctx.scope.orgId)
    .where('agent_id', '=', agentId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row || !visibleTo(ctx, row))
    throw new NotFoundError('memory_not_found', 'No memory entry with that id for this agent.');
  return row;
}

/** Changes an entry's text, its pinning, or both (the agent's owner, owners and admins). */
export async function updateMemory(
  db: Kysely<Database>,
  ctx: OrgContext,
  agentId: string,
  id: string,
  patch: { text?: string | undefined; pinned?: boolean | undefined },
): Promise<MemoryEntry> {
  const text = patch.text === undefined ? undefined : memoryText(patch.text);
  return db.transaction().execute(async (trx) => {
    assertCanChangeAgent(ctx, await requireAgentRow(trx, ctx, agentId));
    const row = await requireEntry(trx, ctx, agentId, id);
    const next: MemoryTable = {
      ...row,
      text: text ?? row.text,
      pinned: patch.pinned === undefined ? Number(row.pinned) : patch.pinned ? 1 : 0,
      updated_by: ctx.actor.id,
      updated_at: new Date().toISOString(),
    };
    await trx
      .updateTable('memories')
      .set({ text: next.text, pinned: next.pinned, updated_by: next.updated_by, updated_at: next.updated_at })
      .where('org_id', '=', ctx.scope.orgId)
      .where('id', '=', id)
      .execute();
    await recordChange(trx, ctx, {
      action: 'memory.entry.updated',
      target: { type: 'agent', id: agentId },
      details: {
        entryId: id,
        // The text stays out of the log: its length says an edit happened.
        textChanged: text !== undefined && text !== row.text,
        chars: next.text.length,
        pinned: { before: Number(row.pinned) === 1, after: next.pinned === 1 },
      },
    });
    return toMemoryEntry(next);
  });
}

/** Deletes one entry (the agent's owner, owners and admins); on record without its text. */
export async function deleteMemoryEntry(
  db: Kysely<Database>,
  ctx: OrgContext,
  agentId: string,
  id: string,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    assertCanChangeAgent(ctx, await requireAgentRow(trx, ctx, agentId));
    const row = await requireEntry(trx, ctx, agentId, id);
    await trx.deleteFrom('memories').where('org_id', '=', ctx.scope.orgId).where('id', '=', id).execute();
    await recordChange(trx, ctx, {
      action: 'memory.entry.deleted',
      target: { type: 'agent', id: agentId },
      details: { entryId: id, chars: row.text.length, pinned: Number(row.pinned) === 1 },
    });
  });
}
