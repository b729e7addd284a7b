/**
 * The token a run and its conversation were started with, when it acts for no person (a service
 * token): "your own runs" for such a token are those it started, not every run of nobody's
 * (a webhook's, another program's). Runs from before are given theirs from the audit trail (the
 * token is their `run.started` entry's actor), and a conversation the token of its runs when they all had one.
 */
import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../types.ts';

export function runToken(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('runs').addColumn('token_id', 'text').execute();
      await db.schema.alterTable('conversations').addColumn('token_id', 'text').execute();
      await backfillRunTokens(db);
    },
  };
}

/** Runs and conversations from before: their service token, from the audit trail. */
export async function backfillRunTokens(db: Kysely<unknown>): Promise<void> {
  // One pass each (UPDATE … FROM: PostgreSQL, and SQLite since 3.33).
  await sql`
    update runs set token_id = s.actor_id
    from (
      select run_id, min(actor_id) as actor_id from audit_entries
      where action = 'run.started' and actor_type = 'token' and run_id is not null
      group by run_id
    ) s
    where s.run_id = runs.id and runs.person_id is null`.execute(db);
  await sql`
    update conversations set token_id = s.token_id
    from (
      select conversation_id, min(token_id) as token_id from runs
      where person_id is null and token_id is not null
      group by conversation_id
      having count(distinct token_id) = 1
    ) s
    where s.conversation_id = conversations.id and conversations.person_id is null`.execute(db);
}
