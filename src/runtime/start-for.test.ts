/**
 * `RunCoordinator.startFor`, the path for a trusted system caller (a verified webhook delivery):
 * it acts for no person, yet a stopped agent or org, another org's agent, or no sandbox starts
 * nothing at all (both engines). A run it does start is tested end to end in src/webhooks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PLATFORM_LOG } from '../audit/index.ts';
import { PaddockError } from '../errors/index.ts';
import { call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { databaseSnapshot, snapshotDiff } from '../testing/snapshot.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';

for (const kind of STORE_KINDS) {
  describe(`starting a run for a system caller [${kind}]`, () => {
    let t: TestStore;
    let deps: ReturnType<typeof testDeps>;
    let app: ReturnType<typeof createApp>;
    let acme: SeededOrg;
    let agentId: string;

    before(async () => {
      t = await openTestStore(kind);
      // No sandbox: nothing here may get as far as a cell.
      deps = testDeps(t.store, t.home);
      app = createApp(deps);
      acme = await seedOrg(t.store, 'acme');
      await seedOrg(t.store, 'other');
      const agent = await call(app, 'post', '/api/v1/orgs/acme/agents', {
        token: acme.people.owner.token,
        body: {
          name: 'hooked',
          scope: 'private',
          instructions: 'x',
          model: { provider: 'openai', model: 'gpt-test' },
        },
      });
      assert.equal(agent.status, 201, agent.text);
      agentId = agent.body.id;
    });
    after(async () => t?.cleanup());

    const startFor = (orgId: string) =>
      deps.runs.startFor(
        {
          orgId,
          agentId,
          personId: null,
          actor: { type: 'system', id: 'webhook:whk_test' },
          requestId: 'req_startfor_test',
        },
        { message: 'hello', via: 'webhook' },
      );
    /** The trail's own pending work done first (entries of the setup, their checkpoints), so only a start could move it. */
    const settled = async () => {
      await deps.audit.flush();
      for (const org of await t.store.db.selectFrom('orgs').select('id').execute())
        await deps.audit.checkpoint(org.id);
      await deps.audit.checkpoint(PLATFORM_LOG); // the platform's own log signs its head too
      return databaseSnapshot(t.store);
    };
    const refusal = async (orgId: string) => {
      const before = await settled();
      const err = await startFor(orgId).then(
        () => assert.fail('a run started'),
        (e: unknown) => e,
      );
      assert.ok(PaddockError.isInstance(err), String(err));
      assert.deepEqual(snapshotDiff(before, await databaseSnapshot(t.store)), [], 'something was written');
      return `${err.status} ${err.code}`;
    };
    const owner = (method: string, path: string) =>
      call(app, method, `/api/v1/orgs/acme${path}`, { token: acme.people.owner.token });

    test('no sandbox: refused before anything is written (the agent’s owner’s scope is not asked)', async () => {
      assert.equal(await refusal(acme.id), '503 cells_unavailable');
    });

    test('another org’s agent id reads as no agent', async () => {
      const other = (
        await t.store.db.selectFrom('orgs').select('id').where('slug', '=', 'other').executeTakeFirstOrThrow()
      ).id;
      assert.equal(await refusal(other), '404 agent_not_found');
      assert.equal(await refusal('org_0000000000000000'), '404 agent_not_found');
    });

    test('a stopped agent, or an org whose agents are stopped, starts nothing', async () => {
      assert.equal((await owner('post', `/agents/${agentId}/stop`)).status, 200);
      assert.equal(await refusal(acme.id), '409 agent_stopped');
      assert.equal((await owner('post', `/agents/${agentId}/resume`)).status, 200);
      assert.equal((await owner('post', '/stop')).status, 200);
      assert.equal(await refusal(acme.id), '409 agent_stopped');
      assert.equal((await owner('post', '/resume')).status, 200);
    });
  });
}
