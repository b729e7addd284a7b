/**
 * An agent's limits and budgets, as the org sets them: runs a minute, tool calls a run, tokens a
 * day (UTC), and a spend budget a day or a month priced from the org's model price table. Each
 * is off when absent or null.
 */
import { z } from 'zod';

export const AgentLimitsSchema = z
  .strictObject({
    runsPerMinute: z.number().int().min(1).max(100_000).nullable().optional(),
    toolCallsPerRun: z.number().int().min(1).max(100_000).nullable().optional(),
    tokensPerDay: z.number().int().min(1).max(1e12).nullable().optional(),
    spend: z
      .strictObject({
        usd: z.number().positive().max(10_000_000).describe('US dollars'),
        per: z.enum(['day', 'month']).describe('the window, in UTC'),
      })
      .nullable()
      .optional()
      .describe('a spend budget, priced from the org’s model price table'),
  })
  .meta({ id: 'AgentLimits' });

export type AgentLimits = z.infer<typeof AgentLimitsSchema>;

/** The limits stored on an agent row (JSON), or none. */
export function limitsOf(stored: string | null | undefined): AgentLimits {
  return stored ? (JSON.parse(stored) as AgentLimits) : {};
}

/** Whether each model call must reserve from a budget before it is made. */
export const isMetered = (l: AgentLimits) => Boolean(l.tokensPerDay || l.spend);

/** The output bound a metered call is given when its agent sets none (a reservation needs one). */
export const METERED_MAX_OUTPUT_TOKENS = 4096;

/** UTC windows: a minute, a day, a month. */
export const periodOf = {
  minute: (at: Date) => at.toISOString().slice(0, 16),
  day: (at: Date) => at.toISOString().slice(0, 10),
  month: (at: Date) => at.toISOString().slice(0, 7),
};
