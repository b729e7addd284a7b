/**
 * Retention of run records and conversations on SQLite and PostgreSQL: under an org's policy the
 * daily job deletes runs that ended before the cutoff (and the flags on them) and conversations
 * untouched since (with their runs), never a conversation with a run in flight or waiting, never
 * another org’s rows; more rows than one batch go too, and with small batches exactly the expired
 * records go across batch boundaries; each org’s deletion is on record with its
 * counts and cutoffs, and no org without a policy loses anything.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { runRow } from '../testing/run-rows.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { applyRecordRetention } from './retention.ts';

const DAY = 86_400_000;
const NOW = new Date('2027-03-01T12:00:00.000Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * DAY).toISOString();

for (const kind of STORE_KINDS) {
  describe(`run and conversation retention [${kind}]`, () => {
    let t: TestStore;
    let deps: ReturnType<typeof testDeps>;
    let app: ReturnType<typeof createApp>;
    let acme: SeededOrg;
    let other: SeededOrg;
    const agents: Record<string, string> = {};
    let n = 0;

    async function conversation(org: SeededOrg, updated: string): Promise<string> {
      const id = `cnv_r${++n}x`;
      await t.store.db
        .insertInto('conversations')
        .values({
          id,
          org_id: org.id,
          agent_id: agents[org.slug]!,
          person_id: org.people.member.id,
          title: 't',
          messages: '[]',
          created_at: updated,
          updated_at: updated,
        })
        .execute();
      return id;
    }

    async function run(
      org: SeededOrg,
      conv: string,
      ended: string | null,
      status = 'completed',
    ): Promise<string> {
      const id = `run_r${++n}x`;
      await t.store.db
        .insertInto('runs')
        .values(
          runRow({
            id,
            org_id: org.id,
            agent_id: agents[org.slug]!,
            conversation_id: conv,
            person_id: org.people.member.id,
            status: status as 'completed',
            output: 'a',
            created_at: ended ?? daysAgo(100),
            ended_at: ended,
          }),
        )
        .execute();
      return id;
    }

    const ids = async (table: 'runs' | 'conversations', org: SeededOrg) =>
      (await t.store.db.selectFrom(table).select('id').where('org_id', '=', org.id).execute())
        .map((r) => r.id)
        .sort();

    before(async () => {
      t = await openTestStore(kind);
      deps = testDeps(t.store, t.home);
      deps.audit.start();
      app = createApp(deps);
      acme = await seedOrg(t.store, 'acme');
      other = await seedOrg(t.store, 'other');
      for (const org of [acme, other]) {
        const a = await call(app, 'post', `/api/v1/orgs/${org.slug}/agents`, {
          token: org.people.admin.token,
          body: {
            name: 'a',
            scope: 'organization',
            instructions: 'x',
            model: { provider: 'openai', model: 'gpt-5' },
          },
        });
        agents[org.slug] = a.body.id;
      }
    });
    after(async () => {
      await deps?.audit.close();
      await t?.cleanup();
    });

    test('the policy is an org setting, off by default', async () => {
      const org = await call(app, 'get', '/api/v1/orgs/acme', { token: acme.people.owner.token });
      assert.deepEqual(
        [
          org.body.settings.runRetentionDays,
          org.body.settings.conversationRetentionDays,
          org.body.settings.memoryRetentionDays,
        ],
        [null, null, null],
      );
      const set = await call(app, 'patch', '/api/v1/orgs/acme', {
        token: acme.people.owner.token,
        body: { settings: { runRetentionDays: 30, conversationRetentionDays: 90, memoryRetentionDays: 60 } },
      });
      assert.equal(set.status, 200, set.text);
      const bad = await call(app, 'patch', '/api/v1/orgs/acme', {
        token: acme.people.owner.token,
        body: { settings: { runRetentionDays: 0 } },
      });
      assert.equal(bad.status, 400);
    });

    test('expired runs and conversations go, in batches; live ones, recent ones and other orgs’ stay; the deletion is on record', async () => {
      // Acme (runs: 30 days, conversations: 90 days).
      const old = await conversation(acme, daysAgo(200));
      const oldRuns = [await run(acme, old, daysAgo(199)), await run(acme, old, daysAgo(198))];
      const kept = await conversation(acme, daysAgo(10));
      const expiredRun = await run(acme, kept, daysAgo(40));
      const recentRun = await run(acme, kept, daysAgo(5));
      const waitingIn = await conversation(acme, daysAgo(300));
      const waiting = await run(acme, waitingIn, null, 'waiting_approval');
      // A backlog larger than one batch of run records.
      const busy = await conversation(acme, daysAgo(1));
      for (let i = 0; i < 1100; i += 100) {
        const rows = Array.from({ length: 100 }, (_v, j) =>
          runRow({
            id: `run_bulk${i + j}x`,
            org_id: acme.id,
            agent_id: agents.acme!,
            conversation_id: busy,
            via: 'webhook',
            output: 'a',
            created_at: daysAgo(60),
            ended_at: daysAgo(60),
          }),
        );
        await t.store.db.insertInto('runs').values(rows).execute();
      }
      // A flag on an expired run goes with it.
      await t.store.db
        .insertInto('feedback')
        .values({
          id: 'fbk_r1x',
          org_id: acme.id,
          agent_id: agents.acme!,
          run_id: expiredRun,
          entry_index: 0,
          leaf_hash: 'x',
          person_id: acme.people.member.id,
          correction: 'c',
          reason: 'r',
          status: 'open',
          resolved_by: null,
          resolution: null,
          resolved_at: null,
          created_at: daysAgo(39),
        })
        .execute();
      // Memory unchanged past 60 days goes (pinned too); a recent entry stays.
      const memory = (id: string, org: SeededOrg, agent: string, updated: string, pinned = 0) =>
        t.store.db
          .insertInto('memories')
          .values({
            id,
            org_id: org.id,
            agent_id: agent,
            person_id: null,
            text: `note ${id}`,
            pinned,
            updated_by: agent,
            created_at: daysAgo(400),
            updated_at: updated,
          })
          .execute();
      await memory('mem_old1x', acme, agents.acme!, daysAgo(100), 1);
      await memory('mem_new1x', acme, agents.acme!, daysAgo(10));
      // Another org, with no policy: nothing of it goes.
      const theirs = await conversation(other, daysAgo(500));
      const theirRun = await run(other, theirs, daysAgo(499));
      await memory('mem_their1x', other, agents.other!, daysAgo(500));

      const deleted = await applyRecordRetention(t.store.db, NOW);
      assert.deepEqual(deleted, { runs: 3 + 1100, conversations: 1, memory: 1 });
      assert.deepEqual(
        (await t.store.db.selectFrom('memories').select('id').orderBy('id').execute()).map((r) => r.id),
        ['mem_new1x', 'mem_their1x'],
      );
      assert.deepEqual(await ids('conversations', acme), [busy, kept, waitingIn].sort());
      assert.deepEqual(await ids('runs', acme), [recentRun, waiting].sort());
      for (const id of oldRuns) assert.ok(!(await ids('runs', acme)).includes(id));
      assert.equal((await t.store.db.selectFrom('feedback').select('id').execute()).length, 0);
      assert.deepEqual(await ids('conversations', other), [theirs]);
      assert.deepEqual(await ids('runs', other), [theirRun]);

      await deps.audit.flush();
      const audit = await call(app, 'get', '/api/v1/orgs/acme/audit?action=retention.records.deleted', {
        token: acme.people.auditor.token,
      });
      assert.equal(audit.body.events.length, 1);
      const d = audit.body.events[0].details;
      assert.deepEqual(d.deleted, { runs: 1103, conversations: 1, memory: 1 });
      assert.deepEqual(d.rule, {
        runRetentionDays: 30,
        conversationRetentionDays: 90,
        memoryRetentionDays: 60,
      });
      assert.equal(d.cutoffs.memory, daysAgo(60));
      assert.equal(d.cutoffs.runs, daysAgo(30));
      const theirAudit = await call(app, 'get', '/api/v1/orgs/other/audit?action=retention.records.deleted', {
        token: other.people.auditor.token,
      });
      assert.equal(theirAudit.body.events.length, 0);

      assert.deepEqual(
        await applyRecordRetention(t.store.db, NOW),
        { runs: 0, conversations: 0, memory: 0 },
        'idempotent',
      );
    });

    test('in small batches, exactly the expired records go across batch boundaries, and the counts are on record', async () => {
      const third = await seedOrg(t.store, 'third');
      const a = await call(app, 'post', '/api/v1/orgs/third/agents', {
        token: third.people.admin.token,
        body: {
          name: 'a',
          scope: 'organization',
          instructions: 'x',
          model: { provider: 'openai', model: 'gpt-5' },
        },
      });
      agents.third = a.body.id;
      const set = await call(app, 'patch', '/api/v1/orgs/third', {
        token: third.people.owner.token,
        body: { settings: { runRetentionDays: 30, conversationRetentionDays: 30, memoryRetentionDays: 30 } },
      });
      assert.equal(set.status, 200, set.text);
      // Batches of 7: 46 expired runs (6 full batches and 4), 23 expired conversations, 28 expired
      // memory entries (exactly 4 full batches); held and recent ones interleaved among them.
      const keep = { runs: [] as string[], conversations: [] as string[], memories: [] as string[] };
      for (let i = 0; i < 23; i++) {
        const c = await conversation(third, daysAgo(200 + i));
        await run(third, c, daysAgo(199 + i));
        await run(third, c, daysAgo(198 + i));
        if (i % 5 === 0) {
          const held = await conversation(third, daysAgo(200 + i));
          keep.conversations.push(held);
          keep.runs.push(await run(third, held, null, 'waiting_approval'));
          const fresh = await conversation(third, daysAgo(2));
          keep.conversations.push(fresh);
          keep.runs.push(await run(third, fresh, daysAgo(3)));
        }
      }
      for (let i = 0; i < 33; i++) {
        const id = `mem_b${i}x`;
        const fresh = i % 6 === 5;
        await t.store.db
          .insertInto('memories')
          .values({
            id,
            org_id: third.id,
            agent_id: agents.third!,
            person_id: null,
            text: 'n',
            pinned: 0,
            updated_by: agents.third!,
            created_at: daysAgo(400),
            updated_at: fresh ? daysAgo(1) : daysAgo(31 + i),
          })
          .execute();
        if (fresh) keep.memories.push(id);
      }
      const deleted = await applyRecordRetention(t.store.db, NOW, undefined, { batch: 7 });
      assert.deepEqual(deleted, { runs: 46, conversations: 23, memory: 28 });
      assert.deepEqual(await ids('runs', third), keep.runs.sort());
      assert.deepEqual(await ids('conversations', third), keep.conversations.sort());
      assert.deepEqual(
        (await t.store.db.selectFrom('memories').select('id').where('org_id', '=', third.id).execute())
          .map((r) => r.id)
          .sort(),
        keep.memories.sort(),
      );
      await deps.audit.flush();
      const audit = await call(app, 'get', '/api/v1/orgs/third/audit?action=retention.records.deleted', {
        token: third.people.auditor.token,
      });
      assert.equal(audit.body.events.length, 1);
      assert.deepEqual(audit.body.events[0].details.deleted, { runs: 46, conversations: 23, memory: 28 });
    });
  });
}
