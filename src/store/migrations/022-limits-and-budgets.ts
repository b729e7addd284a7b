/**
 * Limits and budgets: an agent's limits (JSON: runs a minute, tool calls a run, tokens a day, a
 * spend budget a day or a month), the tool calls a run made so far (a resumed run goes on
 * counting), the org's own model prices, and the usage counters every replica reserves from —
 * in the database, so a budget holds across replicas: a reservation is one conditional update.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function limitsAndBudgets(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('agents').addColumn('limits', 'text').execute();
      await db.schema
        .alterTable('runs')
        .addColumn('tool_calls', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('model_prices')
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        // US dollars per million tokens, as the providers publish them.
        .addColumn('input_per_mtok', 'double precision', (c) => c.notNull())
        .addColumn('output_per_mtok', 'double precision', (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('model_prices_pk', ['org_id', 'provider', 'model'])
        .execute();
      await db.schema
        .createTable('usage_counters')
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('agent_id', 'text', (c) => c.notNull())
        // runs (a minute), tokens (a day), spend (micro-dollars, a day or a month)
        .addColumn('kind', 'text', (c) => c.notNull())
        // The window: `2026-12-05T03:41`, `2026-12-05` or `2026-12`.
        .addColumn('period', 'text', (c) => c.notNull())
        .addColumn('used', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('reserved', 'bigint', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('usage_counters_pk', ['org_id', 'agent_id', 'kind', 'period'])
        .execute();
      await db.schema
        .createIndex('usage_counters_by_period')
        .on('usage_counters')
        .columns(['org_id', 'kind', 'period'])
        .execute();
    },
  };
}
