/**
 * Limits and budgets: an agent's runs a minute, tool calls a run, tokens a day and spend budget
 * (priced from the org's own model price table), enforced by reservations in the database.
 */
export { type CounterKey, counter } from './ledger.ts';
export {
  type AgentLimits,
  AgentLimitsSchema,
  isMetered,
  limitsOf,
  METERED_MAX_OUTPUT_TOKENS,
  periodOf,
} from './limits.ts';
export { admitRun, type LimitReached, type MeterFor, RunMeter } from './meter.ts';
export {
  DEFAULT_PRICES,
  listPrices,
  type ModelPrice,
  microUsd,
  priceOf,
  removePrice,
  setPrice,
} from './prices.ts';
export { type OrgUsage, orgUsage } from './usage.ts';
