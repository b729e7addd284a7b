/**
 * Inbound webhooks: an agent's endpoints (made, listed, rotated, deleted by whoever may change
 * the agent; the signing secret is in the answer that makes or rotates it, and never again), and
 * the public `POST /hooks/{id}` that senders deliver to, authenticated by its signature alone.
 */
import { z } from 'zod';
import { PaddockError } from '../../errors/index.ts';
import {
  createWebhook,
  deleteWebhook,
  listWebhooks,
  rotateWebhookSecret,
  TOLERANCE_SECONDS,
  type WebhookInfo,
} from '../../webhooks/index.ts';
import type { Deps } from '../deps.ts';
import { clientAddress } from '../request.ts';
import { defineRoute } from '../route.ts';
import { Id, Name, OrgParams, Timestamp } from '../schemas.ts';

const WebhookSchema = z
  .object({
    id: Id,
    agentId: Id,
    name: z.string(),
    path: z.string().describe('where senders POST deliveries, on this server'),
    url: z.string().describe('the same, on this server’s public URL'),
    secretHint: z.string().describe('the last characters of the signing secret'),
    secretVersion: z.number().int(),
    createdBy: z.string(),
    createdAt: Timestamp,
    rotatedBy: z.string().nullable(),
    rotatedAt: Timestamp.nullable(),
  })
  .meta({ id: 'Webhook' });

const WithSecret = z.object({
  secret: z.string().describe('the Standard Webhooks signing secret (whsec_…), shown in this answer only'),
  webhook: WebhookSchema,
});

const AgentParams = OrgParams.extend({ agent: Id });
const WebhookParams = AgentParams.extend({ webhook: Id });

const withUrl = (deps: Deps, w: WebhookInfo) => ({ ...w, url: new URL(w.path, deps.config.publicUrl).href });

export const webhookRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/agents/{agent}/webhooks',
    summary: "An agent's webhook endpoints (metadata only, never a secret)",
    tag: 'webhooks',
    access: { permission: 'agents.read' },
    params: AgentParams,
    response: z.object({ webhooks: z.array(WebhookSchema) }),
    handler: async ({ ctx, deps, params }) => ({
      webhooks: (await listWebhooks(deps.store.db, ctx, params.agent)).map((w) => withUrl(deps, w)),
    }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/agents/{agent}/webhooks',
    summary:
      'Make a webhook endpoint: a signed delivery to it starts a run of the agent; its signing secret is in this answer only',
    tag: 'webhooks',
    access: { permission: 'agents.write' },
    params: AgentParams,
    body: z.strictObject({ name: Name(100) }),
    response: WithSecret,
    status: 201,
    handler: async ({ ctx, deps, params, body }) => {
      const made = await createWebhook(deps.store.db, deps.vault, ctx, params.agent, body);
      return { secret: made.secret, webhook: withUrl(deps, made.webhook) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/agents/{agent}/webhooks/{webhook}/rotate',
    summary:
      'Give a webhook endpoint a new signing secret (in this answer only); the old one is refused at once',
    tag: 'webhooks',
    access: { permission: 'agents.write' },
    params: WebhookParams,
    response: WithSecret,
    handler: async ({ ctx, deps, params }) => {
      const made = await rotateWebhookSecret(deps.store.db, deps.vault, ctx, params.agent, params.webhook);
      return { secret: made.secret, webhook: withUrl(deps, made.webhook) };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/orgs/{org}/agents/{agent}/webhooks/{webhook}',
    summary: 'Delete a webhook endpoint: its secret is erased and deliveries to it are refused',
    tag: 'webhooks',
    access: { permission: 'agents.write' },
    params: WebhookParams,
    status: 204,
    handler: async ({ ctx, deps, params }) => {
      await deleteWebhook(deps.store.db, ctx, params.agent, params.webhook);
      return undefined;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/hooks/{id}',
    summary: `A webhook delivery (Standard Webhooks: webhook-id, webhook-timestamp within ${TOLERANCE_SECONDS / 60} minutes, webhook-signature); verified, it starts a run of the endpoint's agent and answers 202 at once`,
    tag: 'webhooks',
    // The signature is the credential: the receiver verifies it before anything else is said.
    access: 'public',
    params: z.strictObject({ id: Id }),
    rawBody: { description: 'any content type; what the agent is given (see docs/webhooks.md)' },
    response: z.object({ runId: Id, deliveryId: z.string() }),
    status: 202,
    handler: async ({ deps, params, requestId, c }) => {
      try {
        return await deps.webhooks.receive({
          webhookId: params.id,
          header: (name) => c.req.header(name),
          body: new Uint8Array(await c.req.arrayBuffer()),
          requestId,
          from: clientAddress(c, deps.config.trustedProxies),
        });
      } catch (err) {
        if (PaddockError.isInstance(err) && err.status === 429) c.header('retry-after', '60');
        throw err;
      }
    },
  }),
];
