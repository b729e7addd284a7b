/**
 * Runs and conversations as stored: the data access of the runtime, always scoped to the org.
 * A run's capability is stored only as its SHA-256 and cleared when the run ends, so a
 * capability dies with its run.
 */
import { createHash } from 'node:crypto';
import type { ModelMessage } from 'ai';
import type { ExpressionBuilder } from 'kysely';
import { requireAgentRow } from '../agents/index.ts';
import { ConflictError, NotFoundError } from '../errors/index.ts';
import type { Caller, OrgContext } from '../identity/index.ts';
import type { OrgScope } from '../identity/scope.ts';
import type { Database, Db } from '../store/index.ts';
import type { ConversationTable, RunStatus, RunTable } from '../store/schema.ts';

export type { RunStatus };

export interface Run {
  id: string;
  agentId: string;
  conversationId: string;
  personId: string | null;
  via: string;
  status: RunStatus;
  input: string;
  output: string | null;
  steps: number;
  usage: { inputTokens: number; outputTokens: number };
  error: { code: string; message: string } | null;
  /** The calls the run waits for, while it waits. */
  waitingFor: Array<{ approvalId: string; tool: string; expiresAt: string }>;
  createdAt: string;
  endedAt: string | null;
}

export const capabilityHash = (capability: string) => createHash('sha256').update(capability).digest('hex');

export function toRun(r: RunTable): Run {
  const pending = r.pending
    ? (JSON.parse(r.pending) as Array<{ approvalId: string; toolName: string; expiresAt: string }>)
    : [];
  return {
    id: r.id,
    agentId: r.agent_id,
    conversationId: r.conversation_id,
    personId: r.person_id,
    via: r.via,
    status: r.status,
    input: r.input,
    output: r.output,
    steps: Number(r.steps),
    usage: { inputTokens: Number(r.input_tokens), outputTokens: Number(r.output_tokens) },
    error: r.error_code ? { code: r.error_code, message: r.error_message ?? '' } : null,
    waitingFor:
      r.status === 'waiting_approval'
        ? pending.map((p) => ({ approvalId: p.approvalId, tool: p.toolName, expiresAt: p.expiresAt }))
        : [],
    createdAt: r.created_at,
    endedAt: r.ended_at,
  };
}

/** Who a run or conversation acts for: its person, or, for none, the token that started it. */
export type Starter = Pick<Caller, 'userId' | 'tokenId'>;

/**
 * Whether a run or conversation is the caller's own: a person's, theirs; for a token acting for
 * no person (a service's), one it started — not every run of nobody's (a webhook's, another
 * program's).
 */
export function startedBy(caller: Starter, row: Pick<RunTable, 'person_id' | 'token_id'>): boolean {
  return caller.userId !== null
    ? row.person_id === caller.userId
    : row.person_id === null && caller.tokenId !== null && row.token_id === caller.tokenId;
}

/** The same, as a query's condition on `runs` or `conversations`. */
export const startedByQuery =
  (caller: Starter) =>
  <T extends 'runs' | 'conversations'>(eb: ExpressionBuilder<Database, T>) => {
    // Both tables name whom they act for alike (`person_id`, `token_id`).
    const e = eb as unknown as ExpressionBuilder<Database, 'runs'>;
    return caller.userId !== null
      ? e('person_id', '=', caller.userId)
      : e.and([e('person_id', 'is', null), e('token_id', '=', caller.tokenId ?? '')]);
  };

/** A run the caller may see: members (and tokens with a member's role) their own; others every run of an agent they may see. */
export async function requireVisibleRun(db: Db, ctx: OrgContext, id: string): Promise<RunTable> {
  const row = await requireRunRow(db, ctx.scope, id);
  if (ctx.role === 'member' && !startedBy(ctx, row))
    throw new NotFoundError('run_not_found', 'No run with that id in this organization.');
  await requireAgentRow(db, ctx, row.agent_id);
  return row;
}

export async function requireRunRow(db: Db, scope: OrgScope, id: string): Promise<RunTable> {
  const row = await db
    .selectFrom('runs')
    .selectAll()
    .where('org_id', '=', scope.orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new NotFoundError('run_not_found', 'No run with that id in this organization.');
  return row;
}

export async function listRunRows(
  db: Db,
  scope: OrgScope,
  filter: { agentId?: string | undefined; status?: RunStatus | undefined; limit: number },
): Promise<RunTable[]> {
  let q = db.selectFrom('runs').selectAll().where('org_id', '=', scope.orgId);
  if (filter.agentId) q = q.where('agent_id', '=', filter.agentId);
  if (filter.status) q = q.where('status', '=', filter.status);
  return q.orderBy('created_at', 'desc').limit(filter.limit).execute();
}

/**
 * The conversation to continue, or a new one for this agent and person. A thread's conversation
 * (`thread`: a chat thread anyone in it continues) may be continued by another person.
 */
export async function openConversation(
  db: Db,
  scope: OrgScope,
  agentId: string,
  starter: Starter,
  conversationId: string | undefined,
  title: string,
  newId: () => string,
  thread = false,
): Promise<ConversationTable> {
  if (conversationId) {
    const row = await db
      .selectFrom('conversations')
      .selectAll()
      .where('org_id', '=', scope.orgId)
      .where('id', '=', conversationId)
      .where('agent_id', '=', agentId)
      .executeTakeFirst();
    // Another person's (or program's) conversation reads as missing, as another org's does.
    if (!row || (!startedBy(starter, row) && !thread))
      throw new NotFoundError('conversation_not_found', 'No conversation with that id with this agent.');
    return row;
  }
  const now = new Date().toISOString();
  const row: ConversationTable = {
    id: newId(),
    org_id: scope.orgId,
    agent_id: agentId,
    person_id: starter.userId,
    token_id: starter.userId === null ? starter.tokenId : null,
    title: title.slice(0, 80),
    messages: '[]',
    created_at: now,
    updated_at: now,
  };
  await db.insertInto('conversations').values(row).execute();
  return row;
}

export const messagesOf = (c: Pick<ConversationTable, 'messages'>) =>
  JSON.parse(c.messages) as ModelMessage[];

/**
 * A conversation's history for the person continuing it. In a Slack thread (`thread`), all of it
 * while they wrote all of it; else what the thread shows — what was said and answered — without
 * the tool calls and results of others' runs, which may come from those people's own accounts
 * (per-person connections). Anywhere else (the API, the chat) a conversation is continued only
 * while it is not a thread's: what is added there would reach whoever writes in the thread next.
 */
export async function historyFor(
  db: Db,
  conversation: ConversationTable,
  personId: string | null,
  thread: boolean,
): Promise<ModelMessage[]> {
  const messages = messagesOf(conversation);
  if (thread && conversation.person_id !== personId) return saidOnly(messages);
  const notMine = (eb: ExpressionBuilder<Database, 'runs'>) =>
    personId === null
      ? eb('person_id', 'is not', null)
      : eb.or([eb('person_id', 'is', null), eb('person_id', '!=', personId)]);
  const other = await db
    .selectFrom('runs')
    .select('id')
    .where('org_id', '=', conversation.org_id)
    .where('conversation_id', '=', conversation.id)
    .where((eb) => (thread ? notMine(eb) : eb.or([notMine(eb), eb('via', '=', 'slack')])))
    .limit(1)
    .executeTakeFirst();
  // The thread carrying it says so too, after its runs are deleted (retention).
  const carried =
    !thread &&
    !other &&
    (await db
      .selectFrom('slack_threads')
      .select('conversation_id')
      .where('org_id', '=', conversation.org_id)
      .where('conversation_id', '=', conversation.id)
      .limit(1)
      .executeTakeFirst());
  if ((other || carried) && !thread)
    throw new ConflictError(
      'conversation_in_slack',
      'This conversation is a Slack thread: continue it in the thread, where everyone in it sees it.',
    );
  return other ? saidOnly(messages) : messages;
}

/**
 * What the conversation keeps of a completed run's messages: all of them, unless someone other
 * than the person who started it wrote in it (a Slack thread) — then what the thread shows, so
 * what one person's tools read is never kept for the next, even once the runs that show the
 * thread was shared are deleted (run retention is independent of conversation retention).
 */
export async function keptMessages(
  db: Db,
  run: Pick<RunTable, 'org_id' | 'conversation_id' | 'via'>,
  messages: ModelMessage[],
): Promise<ModelMessage[]> {
  // Only a thread's conversation is continued by several people (elsewhere another's reads as missing).
  if (run.via !== 'slack') return messages;
  const owner = await db
    .selectFrom('conversations')
    .select('person_id')
    .where('org_id', '=', run.org_id)
    .where('id', '=', run.conversation_id)
    .executeTakeFirst();
  if (!owner) return messages;
  const other = await db
    .selectFrom('runs')
    .select('id')
    .where('org_id', '=', run.org_id)
    .where('conversation_id', '=', run.conversation_id)
    .where((eb) =>
      owner.person_id === null
        ? eb('person_id', 'is not', null)
        : eb.or([eb('person_id', 'is', null), eb('person_id', '!=', owner.person_id)]),
    )
    .limit(1)
    .executeTakeFirst();
  return other ? saidOnly(messages) : messages;
}

/**
 * What was said: people's words and the agent's answers as text; tool calls, results and reasoning
 * left out, and so is the text of a step that called tools (a run's answer is its last step's
 * text, all a thread shows: a step's words beside its calls may repeat what an earlier call read).
 */
export function saidOnly(messages: ModelMessage[]): ModelMessage[] {
  const said: ModelMessage[] = [];
  for (const [i, m] of messages.entries()) {
    if (m.role !== 'user' && m.role !== 'assistant') continue;
    if (
      m.role === 'assistant' &&
      (messages[i + 1]?.role === 'tool' ||
        (typeof m.content !== 'string' && m.content.some((p) => p.type === 'tool-call')))
    )
      continue;
    const text =
      typeof m.content === 'string'
        ? m.content
        : m.content
            .filter((p): p is { type: 'text'; text: string } => p.type === 'text')
            .map((p) => p.text)
            .join('');
    if (text.trim()) said.push({ role: m.role, content: text });
  }
  return said;
}
