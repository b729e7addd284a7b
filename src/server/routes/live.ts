/**
 * What changes in an org while a person watches, as server-sent events: the approvals waiting,
 * that agents changed, that runs in flight changed, the cell's state, that the log grew — each only for roles that read it.
 * Heard from every replica (the log's growth is hinted over the store's notifications). Without
 * `Accept: text/event-stream` the same events come as JSON, once.
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { orgAccess } from '../../identity/index.ts';
import type { LiveEvent } from '../../live/index.ts';
import { authenticate } from '../authenticate.ts';
import { defineRoute } from '../route.ts';
import { Id, OrgParams, Timestamp } from '../schemas.ts';

export const LiveApprovalSchema = z
  .object({
    id: Id,
    agentId: Id,
    connectionId: Id,
    tool: z.string(),
    requestedBy: z.string().nullable().describe('the person answerable for the call'),
    requestedAt: Timestamp,
    expiresAt: Timestamp.describe('after this the call can no longer be approved'),
  })
  .meta({ id: 'LiveApproval' });

export const LiveEventSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('approvals'), data: z.object({ pending: z.array(LiveApprovalSchema) }) }),
    z.object({
      type: z.literal('agents'),
      data: z.object({
        version: z
          .string()
          .describe("changes when any agent's state, settings or grants, or the kill switch, change"),
      }),
    }),
    z.object({
      type: z.literal('runs'),
      data: z.object({
        version: z
          .string()
          .describe('changes when a run you may read starts, waits, goes on or ends (members: their own)'),
      }),
    }),
    z.object({
      type: z.literal('cell'),
      data: z.object({ cell: z.object({ state: z.string(), restarts: z.number() }).nullable() }),
    }),
    z.object({ type: z.literal('activity'), data: z.object({}).describe('the log grew: read it again') }),
  ])
  .meta({ id: 'LiveEvent' });
export const LiveSnapshotSchema = z.object({ events: z.array(LiveEventSchema) });

/** A stream lasts this long, then ends; the browser's EventSource opens a new one (authenticated afresh). */
const STREAM_MS = 10 * 60_000;
/** A comment this often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 25_000;
/** How long a browser waits before opening a stream again. */
const RETRY_MS = 3000;

function frame(event: LiveEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

export const liveRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/live',
    summary:
      'Live updates while you watch (Accept: text/event-stream): approvals waiting, agents changed, the cell, the log grew — what your role reads; JSON once otherwise',
    tag: 'live',
    access: { permission: 'org.read' },
    params: OrgParams,
    response: LiveSnapshotSchema,
    raw: {
      status: 200,
      description: 'events named approvals, agents, cell and activity, each with its JSON data',
      contentTypes: ['text/event-stream'],
    },
    handler: async ({ ctx, deps, c, requestId, params }) => {
      const feed = deps.live.feed;
      if (!(c.req.header('accept') ?? '').includes('text/event-stream')) {
        return { events: await feed.snapshot(ctx) };
      }
      const recheck = async () =>
        orgAccess(deps.store.db, await authenticatePerson(c, deps), params.org, requestId);
      const encoder = new TextEncoder();
      let stop: () => void = () => undefined;
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          let open = true;
          const write = (text: string) => {
            if (open) controller.enqueue(encoder.encode(text));
          };
          const finish = () => {
            if (!open) return;
            open = false;
            clearInterval(keepalive);
            clearTimeout(lifetime);
            stopWatching?.();
            controller.close();
          };
          const keepalive = setInterval(() => write(': keepalive\n\n'), KEEPALIVE_MS);
          const lifetime = setTimeout(finish, STREAM_MS);
          stop = finish;
          c.req.raw.signal.addEventListener('abort', finish, { once: true });
          write(`retry: ${RETRY_MS}\n\n`);
          let stopWatching: (() => void) | undefined;
          stopWatching = await feed.watch({
            ctx,
            send: (e) => write(frame(e)),
            recheck,
            end: (reason) => {
              write(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`);
              finish();
            },
          });
          if (!open) stopWatching();
        },
        cancel() {
          stop();
        },
      });
      return new Response(stream, {
        headers: {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          'x-accel-buffering': 'no',
          'x-request-id': requestId,
        },
      });
    },
  }),
];

/** The stream's credential read again; anything but a person or a token of theirs has lost access. */
async function authenticatePerson(c: Context, deps: Parameters<typeof authenticate>[1]) {
  const who = await authenticate(c, deps, { permission: 'org.read' });
  if (who.kind === 'agent' || who.kind === 'scraper') throw new Error('not a person');
  return who;
}
