/**
 * Team feedback on SQLite and PostgreSQL: a person who may talk to an agent flags a run's answer
 * with a correction and a reason; the flag names the audit entry that recorded the answer (its
 * index and leaf hash, as the log itself gives them, even when the entry was still on its way into
 * the tree); it is listed per agent with the flagged rate per day; an admin resolves it with a
 * note, once; flagging and resolving are on record. Who may do what is checked in the service.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { recordAudit } from '../audit/index.ts';
import { call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { runRow } from '../testing/run-rows.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';

for (const kind of STORE_KINDS) {
  describe(`team feedback [${kind}]`, () => {
    let t: TestStore;
    let deps: ReturnType<typeof testDeps>;
    let app: ReturnType<typeof createApp>;
    let acme: SeededOrg;
    let agentId: string;
    let n = 0;

    const api = (method: 'get' | 'post', path: string, token: string, body?: unknown) =>
      call(app, method, `/api/v1/orgs/acme${path}`, { token, ...(body === undefined ? {} : { body }) });

    /** A run of the agent for `personId` that ended with `output`, its end recorded as the runtime does. */
    async function endedRun(
      personId: string,
      status: 'completed' | 'running' = 'completed',
    ): Promise<string> {
      const now = new Date().toISOString();
      const id = `run_fb${++n}x`;
      const conversation = `cnv_fb${n}x`;
      await t.store.db
        .insertInto('conversations')
        .values({
          id: conversation,
          org_id: acme.id,
          agent_id: agentId,
          person_id: personId,
          title: 'q',
          messages: '[]',
          created_at: now,
          updated_at: now,
        })
        .execute();
      await t.store.db
        .insertInto('runs')
        .values(
          runRow({
            id,
            org_id: acme.id,
            agent_id: agentId,
            conversation_id: conversation,
            person_id: personId,
            status,
            input: 'What is our refund window?',
            output: status === 'completed' ? '90 days.' : null,
            created_at: now,
            ended_at: status === 'completed' ? now : null,
          }),
        )
        .execute();
      // In the outbox only: the flag must wait for the log's writer to place it.
      if (status === 'completed')
        await recordAudit(t.store.db, {
          orgId: acme.id,
          runId: id,
          actor: { type: 'agent', id: agentId },
          action: 'run.completed',
          target: { type: 'agent', id: agentId },
          details: { output: '90 days.' },
        });
      return id;
    }

    before(async () => {
      t = await openTestStore(kind);
      deps = testDeps(t.store, t.home);
      deps.audit.start();
      app = createApp(deps);
      acme = await seedOrg(t.store, 'acme');
      const agent = await api('post', '/agents', acme.people.admin.token, {
        name: 'support',
        scope: 'organization',
        instructions: 'Answer policy questions.',
        model: { provider: 'openai', model: 'gpt-5' },
      });
      agentId = agent.body.id;
    });
    after(async () => {
      await deps?.audit.close();
      await t?.cleanup();
    });

    test('a member flags their run’s answer; the flag names the audit entry that recorded it, and is itself on record', async () => {
      const runId = await endedRun(acme.people.member.id);
      const flagged = await api('post', `/runs/${runId}/feedback`, acme.people.member.token, {
        correction: 'Our refund window is 30 days.',
        reason: 'The policy changed in March.',
      });
      assert.equal(flagged.status, 201, flagged.text);
      assert.match(flagged.body.id, /^fbk_/);
      assert.equal(flagged.body.status, 'open');
      const entry = await api('get', `/audit/entries/${flagged.body.entry.index}`, acme.people.auditor.token);
      assert.equal(entry.status, 200, entry.text);
      const event = entry.body.event ?? entry.body;
      assert.equal(event.action, 'run.completed');
      assert.equal(event.runId, runId);
      assert.equal(event.leafHash, flagged.body.entry.leafHash);
      await deps.audit.flush();
      const audit = await api('get', '/audit?action=feedback.flagged', acme.people.auditor.token);
      const record = audit.body.events[0];
      assert.equal(record.actor.id, acme.people.member.id);
      assert.equal(record.runId, runId);
      assert.deepEqual(record.details.entry, flagged.body.entry);
      assert.equal(record.details.correction, 'Our refund window is 30 days.');
    });

    test('only someone who may see the run flags it: not another member’s, not an auditor, not before it ends', async () => {
      const ownersRun = await endedRun(acme.people.owner.id);
      const body = { correction: 'x', reason: 'y' };
      assert.equal(
        (await api('post', `/runs/${ownersRun}/feedback`, acme.people.member.token, body)).status,
        404,
      );
      const auditor = await api('post', `/runs/${ownersRun}/feedback`, acme.people.auditor.token, body);
      assert.deepEqual([auditor.status, auditor.body.error.code], [403, 'forbidden']);
      assert.equal(
        (await api('post', `/runs/${ownersRun}/feedback`, acme.people.admin.token, body)).status,
        201,
      );
      const running = await endedRun(acme.people.member.id, 'running');
      const early = await api('post', `/runs/${running}/feedback`, acme.people.member.token, body);
      assert.deepEqual([early.status, early.body.error.code], [409, 'run_not_ended']);
      const empty = await api('post', `/runs/${ownersRun}/feedback`, acme.people.admin.token, {
        correction: ' ',
        reason: 'y',
      });
      assert.equal(empty.status, 400);
    });

    test('listed per agent with the flagged rate per day; members see their own flags only', async () => {
      const all = await api('get', `/agents/${agentId}/feedback`, acme.people.auditor.token);
      assert.equal(all.status, 200, all.text);
      assert.equal(all.body.feedback.length, 2);
      assert.equal(all.body.days.length, 30);
      const today = all.body.days.at(-1);
      assert.equal(today.day, new Date().toISOString().slice(0, 10));
      assert.deepEqual(
        [today.runs, today.flagged],
        [2, 2],
        'two of the two answers that ended today were flagged',
      );
      const mine = await api('get', `/agents/${agentId}/feedback`, acme.people.member.token);
      assert.deepEqual(
        mine.body.feedback.map((f: any) => f.personId),
        [acme.people.member.id],
      );
      const open = await api(
        'get',
        `/agents/${agentId}/feedback?status=resolved&days=7`,
        acme.people.admin.token,
      );
      assert.deepEqual([open.body.feedback.length, open.body.days.length], [0, 7]);
    });

    test('an admin resolves a flag with a note, once; a member cannot; the resolution is on record', async () => {
      const list = await api('get', `/agents/${agentId}/feedback`, acme.people.admin.token);
      const id = list.body.feedback[0].id;
      const member = await api('post', `/feedback/${id}/resolve`, acme.people.member.token, { note: 'no' });
      assert.equal(member.status, 403);
      const done = await api('post', `/feedback/${id}/resolve`, acme.people.admin.token, {
        note: 'Instructions updated with the new policy.',
      });
      assert.equal(done.status, 200, done.text);
      assert.deepEqual(
        [done.body.status, done.body.resolvedBy, done.body.resolution],
        ['resolved', acme.people.admin.id, 'Instructions updated with the new policy.'],
      );
      const again = await api('post', `/feedback/${id}/resolve`, acme.people.admin.token, { note: 'again' });
      assert.deepEqual([again.status, again.body.error.code], [409, 'feedback_resolved']);
      await deps.audit.flush();
      const audit = await api('get', '/audit?action=feedback.resolved', acme.people.auditor.token);
      assert.equal(audit.body.events.length, 1);
      assert.equal(audit.body.events[0].details.feedbackId, id);
      assert.equal(audit.body.events[0].details.note, 'Instructions updated with the new policy.');
      const missing = await api('post', '/feedback/fbk_0000000000000000/resolve', acme.people.admin.token, {
        note: 'x',
      });
      assert.equal(missing.status, 404);
    });

    test('the org’s text recording applies to what the record keeps of a flag', async () => {
      await call(app, 'patch', '/api/v1/orgs/acme', {
        token: acme.people.owner.token,
        body: { settings: { runTextRecording: 'digest' } },
      });
      const runId = await endedRun(acme.people.member.id);
      const flagged = await api('post', `/runs/${runId}/feedback`, acme.people.member.token, {
        correction: 'A private correction.',
        reason: 'Because.',
      });
      assert.equal(flagged.status, 201, flagged.text);
      await deps.audit.flush();
      const audit = await api('get', '/audit?action=feedback.flagged', acme.people.auditor.token);
      assert.match(audit.body.events[0].details.correction, /^sha256:[0-9a-f]{64}$/);
    });
  });
}
