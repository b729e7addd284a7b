/** API tokens: shown once, stored hashed, expiring, revocable. */
import { z } from 'zod';
import { createToken, listTokens, revokeToken } from '../../identity/index.ts';
import { defineRoute } from '../route.ts';
import { Id, Name, OrgParams, RoleSchema, TokenSchema } from '../schemas.ts';

export const TokenListSchema = z.object({ tokens: z.array(TokenSchema) });
export const TokenBodySchema = z.strictObject({
  name: Name(100),
  role: RoleSchema,
  expiresInDays: z.number().int().min(1).max(3650).nullable().default(90),
  service: z.boolean().default(false).describe('A service token acts for nobody (owners and admins only)'),
});
export const TokenCreatedSchema = z.object({
  token: z.string().describe('Shown once; store it now'),
  info: TokenSchema,
});

export const tokenRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/tokens',
    summary: 'List API tokens (members see their own)',
    tag: 'tokens',
    access: { permission: 'tokens.read' },
    params: OrgParams,
    response: TokenListSchema,
    handler: async ({ ctx, deps }) => ({ tokens: await listTokens(deps.store.db, ctx) }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/tokens',
    summary: 'Create an API token; its value is in this response only',
    tag: 'tokens',
    access: { permission: 'tokens.write' },
    params: OrgParams,
    body: TokenBodySchema,
    response: TokenCreatedSchema,
    status: 201,
    handler: async ({ ctx, deps, body }) => createToken(deps.store.db, ctx, body),
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/orgs/{org}/tokens/{token}',
    summary: 'Revoke an API token (members revoke their own)',
    tag: 'tokens',
    access: { permission: 'tokens.write' },
    params: OrgParams.extend({ token: Id }),
    response: TokenSchema,
    handler: async ({ ctx, deps, params }) => revokeToken(deps.store.db, ctx, params.token),
  }),
];
