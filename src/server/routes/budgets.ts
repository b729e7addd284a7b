/** Limits and budgets: the org's model price table (its own prices over the defaults) and its usage. */
import { z } from 'zod';
import { listPrices, orgUsage, removePrice, setPrice } from '../../budgets/index.ts';
import { PROVIDERS } from '../../runtime/index.ts';
import { defineRoute } from '../route.ts';
import { OrgParams } from '../schemas.ts';

const Provider = z.enum(PROVIDERS);
const ModelName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\w.:/@-]+$/, 'a model id: letters, digits and . : / @ - _');
const Usd = z.number().min(0).max(10_000).describe('US dollars per million tokens');

const ModelPriceSchema = z
  .object({
    provider: z.string(),
    model: z.string(),
    inputPerMTok: z.number(),
    outputPerMTok: z.number(),
    source: z.enum(['org', 'default']).describe('org: set by the organization; default: Paddock’s default'),
  })
  .meta({ id: 'ModelPrice' });

const Totals = z.object({
  runs: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  spendUsd: z.number().describe('priced from the org’s price table at each agent’s model'),
  unpricedTokens: z.number().describe('tokens of models the price table cannot price'),
});

export const OrgUsageSchema = z.object({ today: Totals, month: Totals }).meta({ id: 'OrgUsage' });

const Which = z.strictObject({ provider: Provider, model: ModelName });

export const budgetRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/model-prices',
    summary: 'The model price table spend budgets are priced from: the org’s own prices, then the defaults',
    tag: 'agents',
    access: { permission: 'agents.read' },
    params: OrgParams,
    response: z.object({ prices: z.array(ModelPriceSchema) }),
    handler: async ({ ctx, deps }) => ({ prices: await listPrices(deps.store.db, ctx.scope) }),
  }),
  defineRoute({
    method: 'put',
    path: '/api/v1/orgs/{org}/model-prices',
    summary: 'Set the org’s price of a model (replaces a default); audited',
    tag: 'agents',
    access: { permission: 'org.update' },
    params: OrgParams,
    body: Which.extend({ inputPerMTok: Usd, outputPerMTok: Usd }),
    response: ModelPriceSchema,
    handler: async ({ ctx, deps, body }) =>
      deps.store.db.transaction().execute((trx) => setPrice(trx, ctx, body)),
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/orgs/{org}/model-prices',
    summary: 'Remove the org’s price of a model (a default, if any, applies again); audited',
    tag: 'agents',
    access: { permission: 'org.update' },
    params: OrgParams,
    query: Which,
    status: 204,
    handler: async ({ ctx, deps, query }) => {
      await deps.store.db.transaction().execute((trx) => removePrice(trx, ctx, query.provider, query.model));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/usage',
    summary: 'Org-wide runs, tokens and spend today and this month (UTC), for the Overview',
    tag: 'agents',
    access: { permission: 'org.read' },
    params: OrgParams,
    response: OrgUsageSchema,
    handler: async ({ ctx, deps }) => orgUsage(deps.store.db, ctx.scope),
  }),
];
