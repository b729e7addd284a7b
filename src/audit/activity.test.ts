/** Activity over time on SQLite and PostgreSQL: counts per bucket from the log's index, one org's only. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';

for (const kind of STORE_KINDS) {
  describe(`audit activity [${kind}]`, () => {
    let t: TestStore;
    let deps: ReturnType<typeof testDeps>;
    let app: ReturnType<typeof createApp>;
    let acme: SeededOrg;
    let other: SeededOrg;

    before(async () => {
      t = await openTestStore(kind);
      deps = testDeps(t.store, t.home);
      app = createApp(deps);
      acme = await seedOrg(t.store, 'acme');
      other = await seedOrg(t.store, 'other');
    });
    after(async () => t?.cleanup());

    const agent = { type: 'agent' as const, id: 'agt_1' };
    const tool = { type: 'tool', id: 'orders/refund' };

    test('the current bucket counts this org’s calls, denials, approvals asked and model calls; earlier ones are empty', async () => {
      for (const action of [
        'tool.call.allowed',
        'tool.call.allowed',
        'tool.call.completed',
        'approval.requested',
      ])
        await deps.audit.append({ orgId: acme.id, actor: agent, action, target: tool });
      await deps.audit.append({
        orgId: acme.id,
        actor: agent,
        action: 'tool.call.denied',
        target: tool,
        outcome: 'denied',
      });
      await deps.audit.append({
        orgId: acme.id,
        actor: agent,
        action: 'model.called',
        target: { type: 'model', id: 'openai/gpt-5' },
      });
      // Another org's calls are in its own log, not counted here.
      for (let i = 0; i < 5; i++)
        await deps.audit.append({ orgId: other.id, actor: agent, action: 'tool.call.allowed', target: tool });

      const r = await call(app, 'get', '/api/v1/orgs/acme/audit/activity?unit=hour&count=3', {
        token: acme.people.auditor.token,
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.unit, 'hour');
      assert.equal(r.body.buckets.length, 3);
      const [first, second, now] = r.body.buckets;
      assert.deepEqual(
        { ...now, start: undefined },
        { start: undefined, toolCalls: 3, denied: 1, approvalsRequested: 1, modelCalls: 1, stops: 0 },
      );
      assert.equal(first.toolCalls + second.toolCalls, 0);
      assert.equal(Date.parse(now.start) % 3_600_000, 0, 'a bucket starts on the hour');
      assert.ok(Date.parse(now.start) <= Date.now() && Date.now() - Date.parse(now.start) < 3_600_000);
    });

    test('a stop counts; days are buckets of their own', async () => {
      await deps.audit.append({
        orgId: acme.id,
        actor: { type: 'person', id: 'usr_1' },
        action: 'agent.stopped',
        target: { type: 'agent', id: 'agt_1' },
      });
      const r = await call(app, 'get', '/api/v1/orgs/acme/audit/activity?unit=day&count=14', {
        token: acme.people.owner.token,
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.buckets.length, 14);
      assert.equal(r.body.buckets.at(-1).stops, 1);
      assert.equal(r.body.buckets.at(-1).toolCalls, 3);
    });

    test('members, who do not read the trail, are refused', async () => {
      const r = await call(app, 'get', '/api/v1/orgs/acme/audit/activity', {
        token: acme.people.member.token,
      });
      assert.equal(r.status, 403, r.text);
    });
  });
}
