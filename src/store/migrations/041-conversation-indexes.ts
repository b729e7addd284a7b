/**
 * Reading conversations: a conversation's runs by org (the data layer always names it) in time
 * order, and a service token's conversations, most recent first — found by index, not by a walk
 * of the org's runs or of every conversation of nobody's.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../types.ts';

export function conversationIndexes(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('runs_by_org_conversation')
        .on('runs')
        .columns(['org_id', 'conversation_id', 'created_at'])
        .execute();
      await db.schema
        .createIndex('conversations_by_token')
        .on('conversations')
        .columns(['org_id', 'token_id', 'updated_at'])
        .execute();
    },
  };
}
