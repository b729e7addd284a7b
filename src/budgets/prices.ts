/**
 * Model prices, in US dollars per million tokens: the org's own table (data it owns and edits,
 * every change audited) over defaults for common models as the providers published them. A
 * model neither prices cannot be metered by spend, so a spend budget refuses it.
 */
import { recordChange } from '../audit/index.ts';
import type { ChangeContext } from '../audit/outbox.ts';
import { ConflictError, NotFoundError } from '../errors/index.ts';
import type { OrgScope } from '../identity/scope.ts';
import type { Db } from '../store/index.ts';

export interface ModelPrice {
  provider: string;
  model: string;
  inputPerMTok: number;
  outputPerMTok: number;
  /** `org`: the org set it; `default`: Paddock's default, until the org sets its own. */
  source: 'org' | 'default';
}

type Default = [provider: string, model: string, input: number, output: number];

/** Published list prices (standard tier, USD per million tokens) when these defaults were written. */
export const DEFAULT_PRICES: readonly Default[] = [
  ['openai', 'gpt-5', 1.25, 10],
  ['openai', 'gpt-5-mini', 0.25, 2],
  ['openai', 'gpt-5-nano', 0.05, 0.4],
  ['openai', 'gpt-4.1', 2, 8],
  ['openai', 'gpt-4.1-mini', 0.4, 1.6],
  ['openai', 'gpt-4.1-nano', 0.1, 0.4],
  ['openai', 'gpt-4o', 2.5, 10],
  ['openai', 'gpt-4o-mini', 0.15, 0.6],
  ['openai', 'o3', 2, 8],
  ['openai', 'o4-mini', 1.1, 4.4],
  ['anthropic', 'claude-opus-4-1', 15, 75],
  ['anthropic', 'claude-opus-4', 15, 75],
  ['anthropic', 'claude-sonnet-4-5', 3, 15],
  ['anthropic', 'claude-sonnet-4', 3, 15],
  ['anthropic', 'claude-haiku-4-5', 1, 5],
  ['anthropic', 'claude-3-5-haiku', 0.8, 4],
  ['google', 'gemini-2.5-pro', 1.25, 10],
  ['google', 'gemini-2.5-flash', 0.3, 2.5],
  ['google', 'gemini-2.5-flash-lite', 0.1, 0.4],
  ['demo', 'demo', 0, 0],
];

/** A default for the model, by its exact id or the longest known id it extends (`gpt-4o-2024-08-06`). */
function defaultPrice(provider: string, model: string): ModelPrice | null {
  const mine = DEFAULT_PRICES.filter((d) => d[0] === provider);
  const best =
    mine.find((d) => d[1] === model) ??
    mine.filter((d) => model.startsWith(`${d[1]}-`)).sort((a, b) => b[1].length - a[1].length)[0] ??
    // A scripted replay costs nothing, whatever its script is called.
    (provider === 'demo' ? mine[0] : undefined);
  return best ? { provider, model, inputPerMTok: best[2], outputPerMTok: best[3], source: 'default' } : null;
}

/** The price of one model for the org: its own, else the default, else null (unpriced). */
export async function priceOf(
  db: Db,
  orgId: string,
  provider: string,
  model: string,
): Promise<ModelPrice | null> {
  const row = await db
    .selectFrom('model_prices')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('provider', '=', provider)
    .where('model', '=', model)
    .executeTakeFirst();
  if (row)
    return {
      provider,
      model,
      inputPerMTok: Number(row.input_per_mtok),
      outputPerMTok: Number(row.output_per_mtok),
      source: 'org',
    };
  return defaultPrice(provider, model);
}

/** The org's table: its own prices, then the defaults it has not replaced. */
export async function listPrices(db: Db, scope: OrgScope): Promise<ModelPrice[]> {
  const rows = await db.selectFrom('model_prices').selectAll().where('org_id', '=', scope.orgId).execute();
  const own: ModelPrice[] = rows.map((r) => ({
    provider: r.provider,
    model: r.model,
    inputPerMTok: Number(r.input_per_mtok),
    outputPerMTok: Number(r.output_per_mtok),
    source: 'org',
  }));
  const taken = new Set(own.map((p) => `${p.provider}/${p.model}`));
  const defaults: ModelPrice[] = DEFAULT_PRICES.filter(([p, m]) => !taken.has(`${p}/${m}`)).map(
    ([provider, model, inputPerMTok, outputPerMTok]) => ({
      provider,
      model,
      inputPerMTok,
      outputPerMTok,
      source: 'default',
    }),
  );
  const key = (p: ModelPrice) => `${p.provider}/${p.model}`;
  return [...own, ...defaults].sort((a, b) => key(a).localeCompare(key(b)));
}

/** Prices an org may set: far more models than any org uses, and a bound on what an admin can store. */
export const MAX_ORG_PRICES = 500;

/** Sets the org's price of a model (replacing a default), audited with before and after. */
export async function setPrice(
  db: Db,
  ctx: ChangeContext,
  input: { provider: string; model: string; inputPerMTok: number; outputPerMTok: number },
): Promise<ModelPrice> {
  const before = await priceOf(db, ctx.scope.orgId, input.provider, input.model);
  if (before?.source !== 'org') {
    const { n } = await db
      .selectFrom('model_prices')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('org_id', '=', ctx.scope.orgId)
      .executeTakeFirstOrThrow();
    if (Number(n) >= MAX_ORG_PRICES)
      throw new ConflictError(
        'price_table_full',
        `The organization's price table holds ${MAX_ORG_PRICES} prices, its limit: remove one it no longer needs first.`,
      );
  }
  const now = new Date().toISOString();
  const actorId = ctx.actor.id;
  await db
    .insertInto('model_prices')
    .values({
      org_id: ctx.scope.orgId,
      provider: input.provider,
      model: input.model,
      input_per_mtok: input.inputPerMTok,
      output_per_mtok: input.outputPerMTok,
      updated_by: actorId,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.columns(['org_id', 'provider', 'model']).doUpdateSet({
        input_per_mtok: input.inputPerMTok,
        output_per_mtok: input.outputPerMTok,
        updated_by: actorId,
        updated_at: now,
      }),
    )
    .execute();
  const after: ModelPrice = { ...input, source: 'org' };
  await recordChange(db, ctx, {
    action: 'model_price.set',
    target: { type: 'model', id: `${input.provider}/${input.model}` },
    details: { before, after },
  });
  return after;
}

/** Removes the org's own price of a model (a default, if any, applies again), audited. */
export async function removePrice(
  db: Db,
  ctx: ChangeContext,
  provider: string,
  model: string,
): Promise<void> {
  const before = await priceOf(db, ctx.scope.orgId, provider, model);
  const r = await db
    .deleteFrom('model_prices')
    .where('org_id', '=', ctx.scope.orgId)
    .where('provider', '=', provider)
    .where('model', '=', model)
    .executeTakeFirst();
  if (Number(r.numDeletedRows) !== 1)
    throw new NotFoundError('price_not_found', 'The organization has set no price for that model.');
  await recordChange(db, ctx, {
    action: 'model_price.removed',
    target: { type: 'model', id: `${provider}/${model}` },
    details: { before, after: defaultPrice(provider, model) },
  });
}

/** Micro-dollars for a number of tokens at a price per million (the units cancel). */
export const microUsd = (
  p: Pick<ModelPrice, 'inputPerMTok' | 'outputPerMTok'>,
  input: number,
  output: number,
) => Math.ceil(input * p.inputPerMTok + output * p.outputPerMTok);
