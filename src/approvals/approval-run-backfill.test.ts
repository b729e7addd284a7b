/**
 * Migration 042's backfill: approvals from before it get the run that asked them from the audit
 * trail (their `approval.requested` entry's run, in its log or still in the outbox); an approval
 * asked outside a run gets none; those still live whose run has ended, or whose agent is
 * stopped, end; on both engines.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { policyVersion } from '../policy/engine.ts';
import { backfillApprovalRuns } from '../store/migrations/042-approval-run.ts';
import { call, createApp, seedOrg, testDeps } from '../testing/fixtures.ts';
import { runRow } from '../testing/run-rows.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { requestApproval } from './approvals.ts';

for (const kind of STORE_KINDS) {
  describe(`migration 042: approvals from before get their run [${kind}]`, () => {
    let t: TestStore | undefined;
    after(() => t?.cleanup());

    test('from the audit trail, written or waiting in the outbox; one asked outside a run none', async () => {
      t = await openTestStore(kind);
      const db = t.store.db;
      const deps = testDeps(t.store, t.home);
      const acme = await seedOrg(t.store, 'acme');
      const app = createApp(deps);
      const made = await Promise.all([
        call(app, 'post', '/api/v1/orgs/acme/agents', {
          token: acme.people.admin.token,
          body: {
            name: 'a',
            scope: 'organization',
            instructions: 'x',
            model: { provider: 'openai', model: 'm' },
          },
        }),
        call(app, 'post', '/api/v1/orgs/acme/connections', {
          token: acme.people.admin.token,
          body: { name: 'calc', transport: 'stdio', command: 'node', args: [] },
        }),
      ]);
      assert.deepEqual(
        made.map((r) => r.status),
        [201, 201],
      );
      const ask = (args: Record<string, unknown>, runId?: string) =>
        requestApproval(db, {
          orgId: acme.id,
          agentId: made[0].body.id,
          connectionId: made[1].body.id,
          tool: 'get-sum',
          args,
          policyVersion: policyVersion([]),
          requestedBy: acme.people.admin.id,
          runId,
          requestId: 'req_backfill',
          minutes: 5,
        });
      const runOf = async () =>
        Object.fromEntries(
          (await db.selectFrom('approvals').select(['id', 'run_id']).execute()).map((r) => [r.id, r.run_id]),
        );
      const forget = () => db.updateTable('approvals').set({ run_id: null }).execute();

      // The run that asked the first has ended; the one that asked the last still waits.
      const now = new Date().toISOString();
      await db
        .insertInto('conversations')
        .values({
          id: 'cnv_backfill',
          org_id: acme.id,
          agent_id: made[0].body.id,
          person_id: null,
          title: 't',
          messages: '[]',
          created_at: now,
          updated_at: now,
        })
        .execute();
      for (const [id, status] of [
        ['run_written', 'completed'],
        ['run_in_outbox', 'waiting_approval'],
      ] as const)
        await db
          .insertInto('runs')
          .values(
            runRow({
              id,
              org_id: acme.id,
              agent_id: made[0].body.id,
              conversation_id: 'cnv_backfill',
              status,
            }),
          )
          .execute();
      const written = await ask({ n: 1 }, 'run_written');
      const outside = await ask({ n: 2 });
      await deps.audit.flush();
      // The writer stopped, the next request's entry stays in the outbox.
      await deps.audit.close();
      const waiting = await ask({ n: 3 }, 'run_in_outbox');
      const inOutbox = await db
        .selectFrom('audit_outbox')
        .select('id')
        .where('target_id', '=', waiting.id)
        .executeTakeFirst();
      assert.ok(inOutbox, 'the last request is still in the outbox');
      await forget();
      await backfillApprovalRuns(db as never);
      assert.deepEqual(await runOf(), {
        [written.id]: 'run_written',
        [outside.id]: null,
        [waiting.id]: 'run_in_outbox',
      });
      const live = async () =>
        (
          await db
            .selectFrom('approvals')
            .select('id')
            .where('expires_at', '>', new Date().toISOString())
            .execute()
        )
          .map((r) => r.id)
          .sort();
      assert.deepEqual(await live(), [outside.id, waiting.id].sort(), 'the ended run’s approval ended');
      // Its agent stopped before the upgrade: nothing it asked is live after it.
      await db.updateTable('agents').set({ state: 'stopped' }).where('id', '=', made[0].body.id).execute();
      await backfillApprovalRuns(db as never);
      assert.deepEqual(await live(), []);
    });
  });
}
