/**
 * Your conversations with agents: listed (the chat's "Your conversations"), and one read back as
 * the chat showed it — each message and its answer with the tool calls made and what they
 * answered. Yours only, whatever your role: what your tools read is not another's to read here
 * (an admin reads a run and its audit trail instead); a service token's are those it started.
 */
import { z } from 'zod';
import { requireAgentRow } from '../../agents/index.ts';
import { applyToValue, checkSetOf } from '../../checks/index.ts';
import { NotFoundError } from '../../errors/index.ts';
import { conversationMessages, startedBy, startedByQuery } from '../../runtime/index.ts';
import { defineRoute } from '../route.ts';
import { Id, OrgParams, Timestamp } from '../schemas.ts';
import { RunSchema } from './runs.ts';

/** A part of an agent's answer as the AI SDK's UI messages have it: text, a tool call, the run. */
const AnswerPartSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string() }),
  z.object({
    type: z.literal('dynamic-tool'),
    toolName: z.string(),
    toolCallId: z.string(),
    state: z.enum(['input-available', 'output-available', 'output-error', 'output-denied']),
    input: z.unknown(),
    output: z.unknown().optional(),
    errorText: z.string().optional(),
    toolMetadata: z
      .object({ paddock: z.object({ notRun: z.literal(true) }) })
      .optional()
      .describe('Paddock’s word on the call: it waited for a person, and the run ended before it ran'),
    approval: z
      .object({ id: Id, approved: z.boolean() })
      .optional()
      .describe('a person’s decision on the call (its approval request), from the run’s record'),
  }),
  z.object({ type: z.literal('data-run'), data: RunSchema }),
]);

export const ConversationSchema = z
  .object({
    id: Id,
    agentId: Id,
    title: z.string(),
    messages: z
      .array(
        z.object({
          id: z.string(),
          role: z.enum(['user', 'assistant']),
          parts: z.array(AnswerPartSchema),
        }),
      )
      .describe(
        'as the AI SDK’s UI messages: each message and the answer, with its tool calls and results and its run',
      ),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Conversation' });

export const ConversationSummarySchema = z
  .object({
    id: Id,
    agentId: Id,
    title: z.string().describe('its first message, shortened'),
    runs: z.number().int().describe('your runs in it still kept'),
    latestRun: z
      .object({ id: Id, status: RunSchema.shape.status, createdAt: Timestamp })
      .nullable()
      .describe('your newest run in it'),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'ConversationSummary' });
export const ConversationListSchema = z.object({ conversations: z.array(ConversationSummarySchema) });
export const ConversationListQuerySchema = z.strictObject({
  agent: Id.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const ConversationParams = OrgParams.extend({ conversation: Id });
/** The most runs a conversation is read back with, its newest (a chat, not an archive: the runs list has the rest). */
const CONVERSATION_RUNS = 500;

export const conversationRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/conversations',
    summary: 'Your conversations with agents (of agents you may see), the most recently continued first',
    tag: 'runs',
    access: { permission: 'runs.read' },
    params: OrgParams,
    query: ConversationListQuerySchema,
    response: ConversationListSchema,
    handler: async ({ ctx, deps, query }) => {
      const db = deps.store.db;
      let q = db
        .selectFrom('conversations')
        .select(['id', 'agent_id', 'title', 'created_at', 'updated_at'])
        .where('org_id', '=', ctx.scope.orgId)
        .where(startedByQuery(ctx));
      if (query.agent) q = q.where('agent_id', '=', query.agent);
      const rows = await q.orderBy('updated_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
      const mayRead = new Map<string, boolean>();
      const seen = [];
      for (const r of rows) {
        if (!mayRead.has(r.agent_id))
          mayRead.set(
            r.agent_id,
            await requireAgentRow(db, ctx, r.agent_id).then(
              () => true,
              () => false,
            ),
          );
        if (mayRead.get(r.agent_id)) seen.push(r);
      }
      const ids = seen.map((r) => r.id);
      // Each one's runs of yours: how many and when the newest began, counted by the database;
      // then the newest ones themselves (their status shows in the list).
      const counts = ids.length
        ? await db
            .selectFrom('runs')
            .select((eb) => [
              'conversation_id',
              eb.fn.countAll<number>().as('n'),
              eb.fn.max('created_at').as('latest'),
            ])
            .where('org_id', '=', ctx.scope.orgId)
            .where('conversation_id', 'in', ids)
            .where(startedByQuery(ctx))
            .groupBy('conversation_id')
            .execute()
        : [];
      const newest = counts.length
        ? await db
            .selectFrom('runs')
            .select(['id', 'conversation_id', 'status', 'created_at'])
            .where('org_id', '=', ctx.scope.orgId)
            .where((eb) =>
              eb.or(
                counts.map((c) =>
                  eb.and([
                    eb('conversation_id', '=', c.conversation_id),
                    eb('created_at', '=', String(c.latest)),
                  ]),
                ),
              ),
            )
            .where(startedByQuery(ctx))
            .execute()
        : [];
      const byConversation = new Map(
        counts.map((c) => [
          c.conversation_id,
          {
            n: Number(c.n),
            latest: newest.find((r) => r.conversation_id === c.conversation_id) ?? null,
          },
        ]),
      );
      return {
        conversations: seen.map((r) => {
          const c = byConversation.get(r.id);
          return {
            id: r.id,
            agentId: r.agent_id,
            title: r.title,
            runs: c?.n ?? 0,
            latestRun: c?.latest
              ? { id: c.latest.id, status: c.latest.status, createdAt: c.latest.created_at }
              : null,
            createdAt: r.created_at,
            updatedAt: r.updated_at,
          };
        }),
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/conversations/{conversation}',
    summary:
      'One of your conversations with an agent, read back as the chat showed it: each message and its answer, with the tool calls made and what they answered',
    tag: 'runs',
    access: { permission: 'runs.read' },
    params: ConversationParams,
    response: ConversationSchema,
    handler: async ({ ctx, deps, params }) => {
      const db = deps.store.db;
      const row = await db
        .selectFrom('conversations')
        .selectAll()
        .where('org_id', '=', ctx.scope.orgId)
        .where('id', '=', params.conversation)
        .executeTakeFirst();
      // Another's reads as missing, as another org's does.
      if (!row || !startedBy(ctx, row))
        throw new NotFoundError('conversation_not_found', 'No conversation of yours with that id.');
      const agent = await requireAgentRow(db, ctx, row.agent_id);
      const newest = await db
        .selectFrom('runs')
        .selectAll()
        .where('org_id', '=', ctx.scope.orgId)
        .where('conversation_id', '=', row.id)
        .where(startedByQuery(ctx))
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(CONVERSATION_RUNS)
        .execute();
      // Tool calls as the stream showed them: through the agent's output checks.
      const scanner = checkSetOf(agent.checks)?.output;
      const mask = scanner ? (v: unknown) => applyToValue(scanner, v).value : undefined;
      return {
        id: row.id,
        agentId: row.agent_id,
        title: row.title,
        messages: conversationMessages(JSON.parse(row.messages), newest.reverse(), mask),
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      };
    },
  }),
];
