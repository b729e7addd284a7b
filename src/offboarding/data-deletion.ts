/**
 * Deletion on request of one person's data in an org (a member's, or someone removed from it):
 * their conversations with agents and the runs in them (a conversation they continued in
 * someone else's Slack thread included, whole), the feedback they gave, agents' memory
 * about them, their Slack link, and the payloads of the audit entries that hold their messages
 * (every entry of their runs, their flags, memory tool calls about them, the records of their
 * Slack link) — erased the way the audit log allows, the hashed headers kept, so the log still verifies. One `person.data.deleted` entry
 * records the request with counts, never content. Then the store's files are purged of the
 * deleted rows' old copies (`purge`).
 */
import type { Kysely } from 'kysely';
import { eraseEntries, recordChange } from '../audit/index.ts';
import { ConflictError, NotFoundError } from '../errors/index.ts';
import { findPerson, type OrgContext } from '../identity/index.ts';
import { deleteMemoryAbout, memoryEntriesAbout } from '../memory/index.ts';
import { deleteSlackLinksOf, slackLinkEntriesOf } from '../slack/index.ts';
import type { Database } from '../store/index.ts';

export interface PersonDataDeleted {
  conversations: number;
  runs: number;
  feedback: number;
  /** Agents' memory entries about them. */
  memory: number;
  /** Their Slack link (which Slack user they are): 0 or 1. */
  slackLinks: number;
  /** Audit entries whose payload was erased (their headers stay in the tree). */
  auditPayloads: number;
}

/** Ids per query: well under either engine's limit of bound parameters. */
const CHUNK = 500;

function chunks<T>(list: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += CHUNK) out.push(list.slice(i, i + CHUNK));
  return out;
}

/**
 * Deletes the person's data. `placed` waits for the audit log's writer, so that entries still on
 * their way into the tree are erased too.
 */
export async function deletePersonData(
  db: Kysely<Database>,
  ctx: OrgContext,
  personId: string,
  placed: () => Promise<void>,
  purge: () => Promise<void> = async () => undefined,
): Promise<PersonDataDeleted> {
  const orgId = ctx.scope.orgId;
  const member = await findPerson(db, ctx.scope, personId);
  const removed = member
    ? undefined
    : await db
        .selectFrom('removed_people')
        .select(['user_id', 'email'])
        .where('org_id', '=', orgId)
        .where('user_id', '=', personId)
        .executeTakeFirst();
  if (!member && !removed)
    throw new NotFoundError('person_not_found', 'No person with that id in this organization.');
  // A conversation they wrote in that someone else started (a Slack thread, which anyone in it
  // continues) holds their words too: it goes whole, with the others' runs in it — found by their
  // runs, and by the record of who wrote in it (their runs may be gone to retention, their words not).
  const conversationIds = [
    ...new Set(
      (
        await db
          .selectFrom('runs')
          .select('conversation_id')
          .where('org_id', '=', orgId)
          .where('person_id', '=', personId)
          .union(
            db
              .selectFrom('conversation_writers')
              .select('conversation_id')
              .where('org_id', '=', orgId)
              .where('person_id', '=', personId),
          )
          .execute()
      ).map((r) => r.conversation_id),
    ),
  ];
  let live = 0;
  for (const part of [null, ...chunks(conversationIds)]) {
    const q = db
      .selectFrom('runs')
      .select('id')
      .where('org_id', '=', orgId)
      .where('status', 'in', ['running', 'waiting_approval']);
    live += (
      await (part ? q.where('conversation_id', 'in', part) : q.where('person_id', '=', personId)).execute()
    ).length;
  }
  if (live)
    throw new ConflictError(
      'runs_in_flight',
      "Runs of this person's, or runs in conversations they wrote in, are running or waiting for approval: stop them first.",
    );

  await placed();
  // Their runs: those still on record, and those run retention deleted (whose entries the audit
  // trail keeps, with their messages, longer) — each begins with a run.started entry in their name.
  const runIds = [
    ...new Set(
      (
        await db
          .selectFrom('runs')
          .select('id')
          .where('org_id', '=', orgId)
          .where('person_id', '=', personId)
          .execute()
      )
        .map((r) => r.id)
        .concat(
          (
            await db
              .selectFrom('audit_entries')
              .select('run_id')
              .where('log_id', '=', orgId)
              .where('actor_type', '=', 'person')
              .where('actor_id', '=', personId)
              .where('action', '=', 'run.started')
              .where('run_id', 'is not', null)
              .execute()
          ).map((r) => r.run_id!),
        ),
    ),
  ];
  const indexes: number[] = [];
  for (const part of chunks(runIds)) {
    const rows = await db
      .selectFrom('audit_entries')
      .select('idx')
      .where('log_id', '=', orgId)
      .where('run_id', 'in', part)
      .execute();
    indexes.push(...rows.map((r) => Number(r.idx)));
  }
  const flags = await db
    .selectFrom('audit_entries')
    .select('idx')
    .where('log_id', '=', orgId)
    .where('actor_id', '=', personId)
    .where('action', '=', 'feedback.flagged')
    .execute();
  indexes.push(...flags.map((r) => Number(r.idx)));
  const emails = [member?.email, removed?.email].filter((e): e is string => typeof e === 'string');
  indexes.push(...(await memoryEntriesAbout(db, orgId, personId, emails)));
  indexes.push(...(await slackLinkEntriesOf(db, orgId, personId)));
  let erased = 0;
  for (const part of chunks([...new Set(indexes)]))
    erased += (await eraseEntries(db, ctx, part, `deletion request: the data of person ${personId}`)).length;

  const counts = await db.transaction().execute(async (trx) => {
    const memory = await deleteMemoryAbout(trx, orgId, personId);
    const slackLinks = await deleteSlackLinksOf(trx, orgId, personId);
    const feedback = await trx
      .deleteFrom('feedback')
      .where('org_id', '=', orgId)
      .where('person_id', '=', personId)
      .executeTakeFirst();
    let runs = Number(
      (
        await trx
          .deleteFrom('runs')
          .where('org_id', '=', orgId)
          .where('person_id', '=', personId)
          .executeTakeFirst()
      ).numDeletedRows,
    );
    let conversations = Number(
      (
        await trx
          .deleteFrom('conversations')
          .where('org_id', '=', orgId)
          .where('person_id', '=', personId)
          .executeTakeFirst()
      ).numDeletedRows,
    );
    for (const part of chunks(conversationIds)) {
      runs += Number(
        (
          await trx
            .deleteFrom('runs')
            .where('org_id', '=', orgId)
            .where('conversation_id', 'in', part)
            .executeTakeFirst()
        ).numDeletedRows,
      );
      conversations += Number(
        (
          await trx
            .deleteFrom('conversations')
            .where('org_id', '=', orgId)
            .where('id', 'in', part)
            .executeTakeFirst()
        ).numDeletedRows,
      );
    }
    const counts: PersonDataDeleted = {
      conversations,
      runs,
      feedback: Number(feedback.numDeletedRows),
      memory,
      slackLinks,
      auditPayloads: erased,
    };
    await recordChange(trx, ctx, {
      action: 'person.data.deleted',
      target: { type: 'person', id: personId },
      details: { ...counts, member: member !== undefined },
    });
    return counts;
  });
  await purge();
  return counts;
}
