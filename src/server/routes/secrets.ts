/** Secrets (BYOK model keys, connector credentials): values go in, only metadata comes out. */
import { z } from 'zod';
import { BadRequestError } from '../../errors/index.ts';
import { PROVIDERS } from '../../runtime/index.ts';
import {
  createSecret,
  deleteSecret,
  getSecret,
  listSecrets,
  rotateSecret,
  SECRET_KINDS,
  updateSecret,
} from '../../vault/index.ts';
import { defineRoute } from '../route.ts';
import { Id, Name, OrgParams, Timestamp } from '../schemas.ts';

export const SecretSchema = z
  .object({
    id: Id,
    name: z.string(),
    kind: z.enum(SECRET_KINDS),
    provider: z.string().nullable(),
    agentIds: z.array(z.string()).nullable().describe('null: every agent of the org'),
    version: z.number().int(),
    hint: z.string().describe('the last four characters'),
    createdAt: Timestamp,
    createdBy: z.string(),
    rotatedAt: Timestamp.nullable(),
    rotatedBy: z.string().nullable(),
    baseUrl: z.string().nullable().describe('a model key’s endpoint, when not the provider’s own'),
  })
  .meta({ id: 'Secret' });

const SecretParams = OrgParams.extend({ secret: Id });
const Value = z.string().min(8).max(16_384).describe('write-only');
const AgentIds = z.array(Id).max(1000).nullable();
const BaseUrl = z
  .string()
  .max(2000)
  .nullable()
  .describe('A model key’s endpoint (openai-compatible servers such as Ollama or vLLM, or a proxy)');

export const SecretListSchema = z.object({ secrets: z.array(SecretSchema) });
/** The providers a model key can be for: the runtime's, but the scripted demo (which takes none). */
const MODEL_KEY_PROVIDERS: readonly string[] = PROVIDERS.filter((p) => p !== 'demo');
const Provider = Name(50).describe(
  `whose key it is: for a model key one of ${MODEL_KEY_PROVIDERS.join(', ')}; for another secret its vendor, free text`,
);

/** A model key must name a provider Paddock can call with it: a typo would leave it unusable. */
function checkModelProvider(kind: string, provider: string | null | undefined): void {
  if (kind === 'model_key' && (typeof provider !== 'string' || !MODEL_KEY_PROVIDERS.includes(provider)))
    throw new BadRequestError(
      'unknown_provider',
      `A model key's provider is one of ${MODEL_KEY_PROVIDERS.join(', ')} (openai-compatible for Ollama, vLLM and other endpoints).`,
    );
}

export const SecretBodySchema = z.strictObject({
  name: Name(100),
  kind: z.enum(SECRET_KINDS),
  provider: Provider.nullable().optional(),
  agentIds: AgentIds.optional(),
  baseUrl: BaseUrl.optional(),
  value: Value,
});
export const SecretUpdateBodySchema = z.strictObject({
  agentIds: AgentIds.optional(),
  baseUrl: BaseUrl.optional(),
  provider: Provider.nullable().optional(),
});
export const SecretValueBodySchema = z.strictObject({ value: Value });

export const secretRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/secrets',
    summary: 'List secrets (metadata only; values are never returned)',
    tag: 'secrets',
    access: { permission: 'secrets.read' },
    params: OrgParams,
    response: SecretListSchema,
    handler: async ({ ctx, deps }) => ({ secrets: await listSecrets(deps.store.db, ctx.scope) }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/secrets',
    summary: 'Store a secret (sealed with the org’s data key)',
    tag: 'secrets',
    access: { permission: 'secrets.manage' },
    params: OrgParams,
    body: SecretBodySchema,
    response: SecretSchema,
    status: 201,
    handler: async ({ ctx, deps, body }) => {
      checkModelProvider(body.kind, body.provider);
      return createSecret(deps.store.db, deps.vault, ctx, body);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/secrets/{secret}',
    summary: 'Read a secret’s metadata',
    tag: 'secrets',
    access: { permission: 'secrets.read' },
    params: SecretParams,
    response: SecretSchema,
    handler: async ({ ctx, deps, params }) => getSecret(deps.store.db, ctx.scope, params.secret),
  }),
  defineRoute({
    method: 'patch',
    path: '/api/v1/orgs/{org}/secrets/{secret}',
    summary: 'Change which agents may use a secret, whose key it is, or where a model key is sent',
    tag: 'secrets',
    access: { permission: 'secrets.manage' },
    params: SecretParams,
    body: SecretUpdateBodySchema,
    response: SecretSchema,
    handler: async ({ ctx, deps, params, body }) => {
      if (body.provider !== undefined)
        checkModelProvider((await getSecret(deps.store.db, ctx.scope, params.secret)).kind, body.provider);
      const secret = await updateSecret(deps.store.db, ctx, params.secret, body);
      // Servers already holding it may no longer be entitled to it.
      await deps.sessions.publish({ kind: 'secret', orgId: ctx.scope.orgId, secretId: secret.id });
      return secret;
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/v1/orgs/{org}/secrets/{secret}/value',
    summary: 'Rotate a secret: a new value, a new version; the old one is gone',
    tag: 'secrets',
    access: { permission: 'secrets.manage' },
    params: SecretParams,
    body: SecretValueBodySchema,
    response: SecretSchema,
    handler: async ({ ctx, deps, params, body }) => {
      const secret = await rotateSecret(deps.store.db, deps.vault, ctx, params.secret, body.value);
      // Servers holding the old value restart with the new one on their next call.
      await deps.sessions.publish({ kind: 'secret', orgId: ctx.scope.orgId, secretId: secret.id });
      return secret;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/orgs/{org}/secrets/{secret}',
    summary: 'Delete a secret',
    tag: 'secrets',
    access: { permission: 'secrets.manage' },
    params: SecretParams,
    status: 204,
    handler: async ({ ctx, deps, params }) => {
      await deleteSecret(deps.store.db, ctx, params.secret);
      await deps.sessions.publish({ kind: 'secret', orgId: ctx.scope.orgId, secretId: params.secret });
      return undefined;
    },
  }),
];
