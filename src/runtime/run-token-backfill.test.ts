/**
 * Migration 039's backfill: runs from before it get the service token that started them from
 * the audit trail (their `run.started` entry's actor), a person's and a webhook's none; a
 * conversation gets its runs' token when they all had the same one, on both engines.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { backfillRunTokens } from '../store/migrations/039-run-token.ts';
import { call, createApp, seedOrg, testDeps } from '../testing/fixtures.ts';
import { runRow } from '../testing/run-rows.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';

for (const kind of STORE_KINDS) {
  describe(`migration 039: runs and conversations from before get their token [${kind}]`, () => {
    let t: TestStore | undefined;
    after(() => t?.cleanup());

    test('from the audit trail: a service token’s runs and its conversation; a person’s and a webhook’s none; a shared one none', async () => {
      t = await openTestStore(kind);
      const db = t.store.db;
      const acme = await seedOrg(t.store, 'acme');
      const agent = await call(createApp(testDeps(t.store, t.home)), 'post', '/api/v1/orgs/acme/agents', {
        token: acme.people.admin.token,
        body: {
          name: 'a',
          scope: 'organization',
          instructions: 'x',
          model: { provider: 'openai', model: 'm' },
        },
      });
      assert.equal(agent.status, 201, agent.text);
      const now = new Date().toISOString();
      const conversation = async (id: string, person: string | null) =>
        db
          .insertInto('conversations')
          .values({
            id,
            org_id: acme.id,
            agent_id: agent.body.id,
            person_id: person,
            title: 't',
            messages: '[]',
            created_at: now,
            updated_at: now,
          })
          .execute();
      let idx = 0;
      const started = async (
        runId: string,
        conversationId: string,
        person: string | null,
        actor: [string, string],
      ) => {
        await db
          .insertInto('runs')
          .values(
            runRow({
              id: runId,
              org_id: acme.id,
              agent_id: agent.body.id,
              conversation_id: conversationId,
              person_id: person,
            }),
          )
          .execute();
        await db
          .insertInto('audit_entries')
          .values({
            log_id: 'log_backfill',
            idx: idx++,
            format: 2,
            id: `evt_${runId}`,
            time: now,
            actor_type: actor[0],
            actor_id: actor[1],
            action: 'run.started',
            target_type: 'agent',
            target_id: agent.body.id,
            outcome: 'success',
            request_id: null,
            run_id: runId,
            leaf: null,
            leaf_hash: 'x',
            details: null,
            salt: null,
            erased_at: null,
            erased_by: null,
          })
          .execute();
      };
      await conversation('cnv_svc', null);
      await started('run_svc1', 'cnv_svc', null, ['token', 'tok_svc']);
      await started('run_svc2', 'cnv_svc', null, ['token', 'tok_svc']);
      await conversation('cnv_shared', null);
      await started('run_sh1', 'cnv_shared', null, ['token', 'tok_a']);
      await started('run_sh2', 'cnv_shared', null, ['token', 'tok_b']);
      await conversation('cnv_hook', null);
      await started('run_hook', 'cnv_hook', null, ['system', 'webhook:wh_1']);
      await conversation('cnv_person', acme.people.member.id);
      await started('run_person', 'cnv_person', acme.people.member.id, ['person', acme.people.member.id]);

      await backfillRunTokens(db as never);

      const runs = Object.fromEntries(
        (await db.selectFrom('runs').select(['id', 'token_id']).execute()).map((r) => [
          r.id,
          r.token_id ?? null,
        ]),
      );
      assert.deepEqual(runs, {
        run_svc1: 'tok_svc',
        run_svc2: 'tok_svc',
        run_sh1: 'tok_a',
        run_sh2: 'tok_b',
        run_hook: null,
        run_person: null,
      });
      const conversations = Object.fromEntries(
        (await db.selectFrom('conversations').select(['id', 'token_id']).execute()).map((c) => [
          c.id,
          c.token_id ?? null,
        ]),
      );
      assert.deepEqual(conversations, {
        cnv_svc: 'tok_svc',
        cnv_shared: null,
        cnv_hook: null,
        cnv_person: null,
      });
    });
  });
}
