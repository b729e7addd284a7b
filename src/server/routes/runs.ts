/**
 * Agent runs: talk to an agent (answered when the run ends or waits, or streamed as the AI SDK's
 * UI message stream), list and read runs with their audit trail, stop one.
 */
import { createUIMessageStreamResponse, type UIMessageChunk } from 'ai';
import { z } from 'zod';
import { requireAgentRow } from '../../agents/index.ts';
import { queryAudit } from '../../audit/index.ts';
import {
  listRunRows,
  type Run,
  type RunListener,
  requireVisibleRun,
  startedBy,
  toRun,
} from '../../runtime/index.ts';
import { defineRoute } from '../route.ts';
import { AuditEventSchema, Id, OrgParams, Timestamp } from '../schemas.ts';

const RunStatus = z.enum(['running', 'waiting_approval', 'completed', 'failed', 'stopped']);

export const RunSchema = z
  .object({
    id: Id,
    agentId: Id,
    conversationId: Id,
    personId: z.string().nullable().describe('who the run acts for (approvals bind to them)'),
    via: z.string().describe('api, chat, webhook or slack'),
    status: RunStatus,
    input: z.string(),
    output: z.string().nullable(),
    steps: z.number().int(),
    usage: z.object({ inputTokens: z.number().int(), outputTokens: z.number().int() }),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    waitingFor: z
      .array(z.object({ approvalId: Id, tool: z.string(), expiresAt: Timestamp }))
      .describe('the calls a waiting run waits for a person on'),
    createdAt: Timestamp,
    endedAt: Timestamp.nullable(),
  })
  .meta({ id: 'Run' });

export const RunBodySchema = z.strictObject({
  message: z.string().min(1).max(32_000),
  conversationId: Id.optional().describe('continue this conversation (yours, with this agent)'),
  wait: z.boolean().optional().describe('false: answer 202 at once, read the run later'),
});
export const RunListQuerySchema = z.strictObject({
  agent: Id.optional(),
  status: RunStatus.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export const RunListSchema = z.object({ runs: z.array(RunSchema) });
export const RunDetailSchema = z.object({ run: RunSchema, audit: z.array(AuditEventSchema) });

const AgentParams = OrgParams.extend({ agent: Id });
const RunParams = OrgParams.extend({ run: Id });

/**
 * A run as a UI message stream: the cell's chunks, plus data parts for the run and its waits —
 * the run as it stands (`first`, or as `start` answers) and as it ends.
 */
function streamed(start: (listener: RunListener) => Promise<{ run: Run }>, first?: Run): Promise<Response> {
  return new Promise((resolve, reject) => {
    let controller!: ReadableStreamDefaultController<UIMessageChunk>;
    const stream = new ReadableStream<UIMessageChunk>({
      start(c) {
        controller = c;
      },
    });
    const write = (chunk: UIMessageChunk) => {
      try {
        controller.enqueue(chunk);
      } catch {}
    };
    if (first) write({ type: 'data-run', data: first });
    start((event) => {
      if (event.kind === 'chunk') write(event.chunk);
      else if (event.kind === 'approval')
        write({
          type: 'data-approval',
          data: {
            approvalId: event.call.approvalId,
            tool: event.call.toolName,
            toolCallId: event.call.toolCallId,
            expiresAt: event.call.expiresAt,
          },
        });
      else if (event.kind === 'end') {
        write({ type: 'data-run', data: event.run });
        try {
          controller.close();
        } catch {}
      }
    }).then(({ run }) => {
      if (!first) write({ type: 'data-run', data: run });
      resolve(createUIMessageStreamResponse({ stream }));
    }, reject);
  });
}

export const runRoutes = [
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/agents/{agent}/runs',
    summary:
      'Send an agent a message: it runs in the org’s cell and answers when the run ends or waits for an approval; with Accept: text/event-stream, streamed (AI SDK UI message stream); with "wait": false, 202 at once',
    tag: 'runs',
    access: { permission: 'runs.start' },
    params: AgentParams,
    body: RunBodySchema,
    response: RunSchema,
    raw: {
      status: 202,
      description: 'the run, started (with "wait": false)',
      contentTypes: ['text/event-stream'],
    },
    handler: async ({ ctx, deps, params, body, c, principal }) => {
      // A person signed in to the dashboard talks in its chat; a token is a program's call.
      const via = principal?.kind === 'session' ? ('chat' as const) : ('api' as const);
      const input = { message: body.message, conversationId: body.conversationId, via };
      if ((c.req.header('accept') ?? '').includes('text/event-stream')) {
        return streamed((listener) => deps.runs.start(ctx, params.agent, input, listener));
      }
      const { run, done } = await deps.runs.start(ctx, params.agent, input);
      if (body.wait === false) return c.json(run, 202);
      return done;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/runs',
    summary: 'List runs (members: their own), newest first',
    tag: 'runs',
    access: { permission: 'runs.read' },
    params: OrgParams,
    query: RunListQuerySchema,
    response: RunListSchema,
    handler: async ({ ctx, deps, query }) => {
      const rows = await listRunRows(deps.store.db, ctx.scope, {
        agentId: query.agent,
        status: query.status,
        limit: query.limit,
      });
      const seen = new Map<string, boolean>();
      const mayRead = async (agentId: string) => {
        if (!seen.has(agentId))
          seen.set(
            agentId,
            await requireAgentRow(deps.store.db, ctx, agentId).then(
              () => true,
              () => false,
            ),
          );
        return seen.get(agentId)!;
      };
      const runs = [];
      for (const r of rows) {
        if (ctx.role === 'member' && !startedBy(ctx, r)) continue;
        if (await mayRead(r.agent_id)) runs.push(toRun(r));
      }
      return { runs };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/runs/{run}',
    summary: 'A run, with its audit entries (message, model calls, tool calls, output)',
    tag: 'runs',
    access: { permission: 'runs.read' },
    params: RunParams,
    response: RunDetailSchema,
    handler: async ({ ctx, deps, params }) => {
      const row = await requireVisibleRun(deps.store.db, ctx, params.run);
      // Members do not read the audit trail; they see their run only.
      if (ctx.role !== 'member') await deps.audit.flush();
      const audit =
        ctx.role === 'member'
          ? []
          : (await queryAudit(deps.store.db, ctx.scope, { run: row.id, limit: 500, order: 'asc' })).events;
      return { run: toRun(row), audit };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/runs/{run}/stream',
    summary:
      'Follow a run (AI SDK UI message stream): what it streamed since it started or resumed, then live to its end, ending with the run; a run not in flight on this server answers with the run alone',
    tag: 'runs',
    access: { permission: 'runs.read' },
    params: RunParams,
    response: RunSchema,
    raw: { status: 200, description: 'the run, streamed', contentTypes: ['text/event-stream'] },
    handler: async ({ ctx, deps, params }) => {
      const run = toRun(await requireVisibleRun(deps.store.db, ctx, params.run));
      return streamed(async (listener) => {
        // In flight (or just ended) here: its stream; otherwise the run as it stands, at once.
        if (!deps.runs.follow(run.id, listener)) listener({ kind: 'end', run });
        return { run };
      }, run);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/runs/{run}/stop',
    summary: 'Stop a run: in flight, it ends at once; waiting, it never resumes',
    tag: 'runs',
    access: { permission: 'runs.start' },
    params: RunParams,
    response: RunSchema,
    handler: async ({ ctx, deps, params }) => {
      await requireVisibleRun(deps.store.db, ctx, params.run);
      return deps.runs.stopRun(ctx, params.run);
    },
  }),
];
