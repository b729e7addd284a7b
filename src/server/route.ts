/**
 * How an API route is declared: method, path, who may call it, and the schemas of what it takes
 * and returns. The same declaration drives request checking and the OpenAPI document, and a
 * route that declares no access cannot be registered at all (deny by default).
 *
 * @example
 *   defineRoute({
 *     method: 'get', path: '/api/v1/orgs/{org}/people', summary: 'List people', tag: 'people',
 *     access: { permission: 'people.read' }, response: z.object({ people: z.array(PersonSchema) }),
 *     handler: async ({ ctx, deps }) => ({ people: await listPeople(deps.store.db, ctx.scope) }),
 *   });
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import type { AuthenticatedAgent } from '../agents/index.ts';
import type { OrgContext, Permission, Principal } from '../identity/index.ts';
import type { Deps } from './deps.ts';

/**
 * `public`: anyone; `signed-in`: any person or token; a permission: a role in the path's org that
 * has it; `agent`: an agent token of the path's org (and nothing else: an agent token opens no
 * other route); `scrape`: the configured metrics scrape token (and nothing else).
 */
export type Access = 'public' | 'signed-in' | { permission: Permission } | 'agent' | 'scrape';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface HandlerInput<P, Q, B, A extends Access> {
  ctx: A extends { permission: Permission } ? OrgContext : undefined;
  /** The agent whose token was sent, on `agent` routes. */
  agent: A extends 'agent' ? AuthenticatedAgent : undefined;
  principal: A extends 'agent' ? undefined : Principal;
  requestId: string;
  params: P;
  query: Q;
  body: B;
  deps: Deps;
  c: Context;
}

export interface RouteDef<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
  A extends Access = Access,
> {
  method: Method;
  /** OpenAPI-style path: `/api/v1/orgs/{org}/people/{person}`. */
  path: string;
  summary: string;
  tag: string;
  access: A;
  params?: P;
  query?: Q;
  body?: B;
  response?: R;
  /** 200 by default; 201 for creations; 202 for work started, not done; 204 when there is no body. */
  status?: 200 | 201 | 202 | 204;
  /**
   * A body taken as it is sent, any content type, for the handler to read itself (a webhook
   * delivery, whose signature covers its exact bytes); never parsed as JSON by the pipeline.
   */
  rawBody?: {
    description: string;
    /**
     * This route's own size limit instead of the JSON API's 64 KiB (a customer's document): the
     * declared length is refused at once over it, and the handler enforces it as it streams.
     */
    maxBytes?: number;
  };
  /** This route's JSON body limit instead of the API's 64 KiB (the MCP endpoint: a sampling answer may hold an image). */
  maxJsonBytes?: number;
  /** Routes that answer with their own Response (a redirect, a file) rather than JSON. */
  raw?: { status: number; description: string; contentTypes?: string[] };
  handler: (
    input: HandlerInput<z.output<P>, z.output<Q>, z.output<B>, A>,
  ) => Promise<z.input<R> | Response | undefined>;
}

export function defineRoute<
  P extends z.ZodType,
  Q extends z.ZodType,
  B extends z.ZodType,
  R extends z.ZodType,
  A extends Access,
>(def: RouteDef<P, Q, B, R, A>): RouteDef {
  return def as unknown as RouteDef;
}
