/**
 * Deletion of a person's data on request, on SQLite and PostgreSQL: their conversations, runs and
 * feedback go; the audit entries that held their messages keep their headers but lose their
 * payloads, so nothing of what they said remains in the database or an export, and the log still
 * verifies (on SQLite not even the database's files, WAL included, hold them); one entry records
 * the request with counts. Another person's data stays; a person with
 * a run in flight is refused; only owners and admins may ask; someone removed can be asked for.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { journalFiles, recordAudit, verifyLog } from '../audit/index.ts';
import { call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { runRow } from '../testing/run-rows.ts';
import { databaseSnapshot } from '../testing/snapshot.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';

const THEIRS = 'MEMBER-PRIVATE-QUESTION-7c1d';
const FLAG = 'MEMBER-PRIVATE-CORRECTION-3b9e';
const OTHERS = 'OWNER-QUESTION-kept-42';

for (const kind of STORE_KINDS) {
  describe(`deleting a person's data [${kind}]`, () => {
    let t: TestStore;
    let deps: ReturnType<typeof testDeps>;
    let app: ReturnType<typeof createApp>;
    let acme: SeededOrg;
    let agentId: string;
    let n = 0;

    const api = (method: 'get' | 'post' | 'delete', path: string, token: string, body?: unknown) =>
      call(app, method, `/api/v1/orgs/acme${path}`, { token, ...(body === undefined ? {} : { body }) });

    /** A thread the admin started and the member wrote in: both their words in its conversation. */
    async function sharedThread(k: number) {
      const theirs = await talk(acme.people.admin.id, `ADMIN-started-thread-${k}`);
      const conv = (
        await t.store.db
          .selectFrom('runs')
          .select('conversation_id')
          .where('id', '=', theirs)
          .executeTakeFirstOrThrow()
      ).conversation_id;
      const mine = await talk(acme.people.member.id, `MEMBER-words-in-thread-${k}`);
      const messages = [`ADMIN-started-thread-${k}`, `MEMBER-words-in-thread-${k}`].map((content) => ({
        role: 'user',
        content,
      }));
      await t.store.db
        .updateTable('conversations')
        .set({ messages: JSON.stringify(messages) })
        .where('id', '=', conv)
        .execute();
      return { theirs, conv, mine };
    }

    /** A conversation and one run in it, recorded as the runtime records them. */
    async function talk(personId: string, message: string, status: 'completed' | 'running' = 'completed') {
      const now = new Date().toISOString();
      const conv = `cnv_d${++n}x`;
      const run = `run_d${n}x`;
      await t.store.db
        .insertInto('conversations')
        .values({
          id: conv,
          org_id: acme.id,
          agent_id: agentId,
          person_id: personId,
          title: message,
          messages: JSON.stringify([{ role: 'user', content: message }]),
          created_at: now,
          updated_at: now,
        })
        .execute();
      await t.store.db
        .insertInto('runs')
        .values(
          runRow({
            id: run,
            org_id: acme.id,
            agent_id: agentId,
            conversation_id: conv,
            person_id: personId,
            status,
            input: message,
            output: status === 'completed' ? `answer to ${message}` : null,
            created_at: now,
            ended_at: status === 'completed' ? now : null,
          }),
        )
        .execute();
      for (const [action, details] of [
        ['run.started', { message }],
        ['run.completed', { output: `answer to ${message}` }],
      ] as const)
        await recordAudit(t.store.db, {
          orgId: acme.id,
          runId: run,
          actor: action === 'run.started' ? { type: 'person', id: personId } : { type: 'agent', id: agentId },
          action,
          target: { type: 'agent', id: agentId },
          details,
        });
      return run;
    }

    before(async () => {
      t = await openTestStore(kind);
      deps = testDeps(t.store, t.home);
      deps.audit.start();
      app = createApp(deps);
      acme = await seedOrg(t.store, 'acme');
      const agent = await api('post', '/agents', acme.people.admin.token, {
        name: 'helper',
        scope: 'organization',
        instructions: 'x',
        model: { provider: 'openai', model: 'gpt-5' },
      });
      agentId = agent.body.id;
    });
    after(async () => {
      await deps?.audit.close();
      await t?.cleanup();
    });

    test('their conversations, runs and feedback go; their messages are in no table and no export; the log verifies', async () => {
      const mine = await talk(acme.people.member.id, THEIRS);
      await talk(acme.people.member.id, `${THEIRS} again`);
      const owners = await talk(acme.people.owner.id, OTHERS);
      const flagged = await api('post', `/runs/${mine}/feedback`, acme.people.member.token, {
        correction: FLAG,
        reason: 'wrong',
      });
      assert.equal(flagged.status, 201, flagged.text);

      const member = await api(
        'post',
        `/people/${acme.people.member.id}/data-deletion`,
        acme.people.member.token,
      );
      assert.equal(member.status, 403, 'members cannot ask');
      const done = await api(
        'post',
        `/people/${acme.people.member.id}/data-deletion`,
        acme.people.admin.token,
      );
      assert.equal(done.status, 200, done.text);
      assert.deepEqual(done.body, {
        conversations: 2,
        runs: 2,
        feedback: 1,
        memory: 0,
        slackLinks: 0,
        auditPayloads: 5,
      });

      await deps.audit.flush();
      const texts: string[] = [
        (await api('get', '/audit/export?format=jsonl', acme.people.owner.token)).text,
        (await api('get', '/audit?limit=500', acme.people.owner.token)).text,
      ];
      for (const table of ['conversations', 'runs', 'feedback', 'audit_entries', 'audit_outbox'])
        texts.push(JSON.stringify((await sql`select * from ${sql.table(table)}`.execute(t.store.db)).rows));
      const all = texts.join('\n');
      for (const secret of [THEIRS, FLAG]) assert.ok(!all.includes(secret), `${secret} remains`);
      // The database's own files too (SQLite: the file, its WAL and the audit journal's two files, as bytes).
      if (kind === 'sqlite') {
        const file = join(t.home, 'paddock.db');
        const bytes = [file, `${file}-wal`, ...journalFiles(t.store.auditJournal!)]
          .filter((f) => existsSync(f))
          .map((f) => readFileSync(f).toString('latin1'))
          .join('\n');
        assert.ok(bytes.includes(OTHERS), 'the files are read as they are');
        for (const secret of [THEIRS, FLAG])
          assert.ok(!bytes.includes(secret), `${secret} remains in a file`);
      }
      assert.ok(all.includes(OTHERS), 'another person’s data stays');
      assert.equal(
        (await t.store.db.selectFrom('runs').select('id').where('id', '=', owners).execute()).length,
        1,
      );
      const report = await verifyLog(t.store.db, acme.id);
      assert.ok(report.ok, JSON.stringify(report));
      assert.ok(report.erased >= 5);
      const record = await api('get', '/audit?action=person.data.deleted', acme.people.auditor.token);
      assert.deepEqual(record.body.events[0].details, {
        conversations: 2,
        runs: 2,
        feedback: 1,
        memory: 0,
        slackLinks: 0,
        auditPayloads: 5,
        member: true,
      });
      assert.equal(record.body.events[0].target.id, acme.people.member.id);
    });

    test('their Slack link, its record and a pending link code go; another person’s link stays', async () => {
      const now = new Date().toISOString();
      const later = new Date(Date.now() + 600_000).toISOString();
      const person = acme.people.admin.id;
      await t.store.db
        .insertInto('slack_links')
        .values([
          { org_id: acme.id, slack_user_id: 'U0ADMINLINK', person_id: person, linked_at: now },
          { org_id: acme.id, slack_user_id: 'U0OWNERLINK', person_id: acme.people.owner.id, linked_at: now },
        ])
        .execute();
      await t.store.db
        .insertInto('slack_link_codes')
        .values({
          code_hash: 'hash-of-a-pending-code',
          org_id: acme.id,
          person_id: person,
          expires_at: later,
        })
        .execute();
      // As redeemLinkCode records it: the Slack user id is the person's data too.
      await recordAudit(t.store.db, {
        orgId: acme.id,
        actor: { type: 'person', id: person },
        action: 'slack.linked',
        target: { type: 'person', id: person },
        details: { slackUserId: 'U0ADMINLINK' },
      });
      const done = await api('post', `/people/${person}/data-deletion`, acme.people.owner.token);
      assert.equal(done.status, 200, done.text);
      assert.equal(done.body.slackLinks, 1);
      await deps.audit.flush();
      const links = await t.store.db.selectFrom('slack_links').select('slack_user_id').execute();
      assert.deepEqual(
        links.map((l) => l.slack_user_id),
        ['U0OWNERLINK'],
      );
      const codes = await t.store.db
        .selectFrom('slack_link_codes')
        .select('code_hash')
        .where('person_id', '=', person)
        .execute();
      assert.equal(codes.length, 0);
      const entries = JSON.stringify((await sql`select * from audit_entries`.execute(t.store.db)).rows);
      assert.ok(!entries.includes('U0ADMINLINK'), 'the Slack user id remains in the audit trail');
      const report = await verifyLog(t.store.db, acme.id);
      assert.ok(report.ok, JSON.stringify(report));
    });

    test('a conversation they continued in someone else’s Slack thread goes whole; a run in flight there refuses the deletion', async () => {
      // The admin started it; the member wrote in it (a Slack thread anyone in it continues).
      const { theirs, conv, mine } = await sharedThread(7);
      await t.store.db.updateTable('runs').set({ conversation_id: conv }).where('id', '=', mine).execute();
      // The admin's run in that thread still waits: the member's deletion is refused, nothing goes.
      await t.store.db
        .updateTable('runs')
        .set({ status: 'waiting_approval' })
        .where('id', '=', theirs)
        .execute();
      const busy = await api(
        'post',
        `/people/${acme.people.member.id}/data-deletion`,
        acme.people.owner.token,
      );
      assert.deepEqual([busy.status, busy.body.error.code], [409, 'runs_in_flight']);
      assert.ok(
        await t.store.db.selectFrom('conversations').select('id').where('id', '=', conv).executeTakeFirst(),
      );
      await t.store.db.updateTable('runs').set({ status: 'completed' }).where('id', '=', theirs).execute();
      const done = await api(
        'post',
        `/people/${acme.people.member.id}/data-deletion`,
        acme.people.owner.token,
      );
      assert.equal(done.status, 200, done.text);
      // Their words are nowhere: not in the thread's conversation, not in a run, not in an audit payload.
      const dump = JSON.stringify(await databaseSnapshot(t.store));
      assert.ok(!dump.includes('MEMBER-words-in-thread-7'), 'their words stayed somewhere');
      assert.equal(
        (await t.store.db.selectFrom('runs').select('id').where('conversation_id', '=', conv).execute())
          .length,
        0,
      );
    });

    test('after run retention deleted their runs, their words still go: from the thread someone else started, and from those runs’ audit entries', async () => {
      const { conv, mine } = await sharedThread(8);
      // As the runtime records a run continuing someone else's thread (slack.test.ts shows it written).
      await t.store.db
        .insertInto('conversation_writers')
        .values({ org_id: acme.id, conversation_id: conv, person_id: acme.people.member.id })
        .execute();
      // Run retention deleted the member's run; the thread's conversation (kept longer) holds their words.
      await t.store.db.deleteFrom('runs').where('id', '=', mine).execute();
      const done = await api(
        'post',
        `/people/${acme.people.member.id}/data-deletion`,
        acme.people.owner.token,
      );
      assert.equal(done.status, 200, done.text);
      const dump = JSON.stringify(await databaseSnapshot(t.store));
      assert.ok(
        !dump.includes('MEMBER-words-in-thread-8'),
        'their words stayed in the thread’s conversation or the deleted run’s audit entries',
      );
      assert.ok(done.body.auditPayloads >= 2, done.text);
      assert.equal(
        (await t.store.db.selectFrom('conversation_writers').select('person_id').execute()).length,
        0,
      );
    });

    test('a person with a run in flight is refused; someone removed can be asked for; a stranger is not found', async () => {
      await talk(acme.people.auditor.id, 'still going', 'running');
      const busy = await api(
        'post',
        `/people/${acme.people.auditor.id}/data-deletion`,
        acme.people.owner.token,
      );
      assert.deepEqual([busy.status, busy.body.error.code], [409, 'runs_in_flight']);
      const gone = await api('delete', `/people/${acme.people.admin.id}`, acme.people.owner.token, {});
      assert.ok(gone.status === 200 || gone.status === 204, gone.text);
      const removed = await api(
        'post',
        `/people/${acme.people.admin.id}/data-deletion`,
        acme.people.owner.token,
      );
      assert.equal(removed.status, 200, removed.text);
      assert.equal(removed.body.runs, 0);
      const stranger = await api(
        'post',
        '/people/usr_0000000000000000/data-deletion',
        acme.people.owner.token,
      );
      assert.equal(stranger.status, 404);
    });
  });
}
