/**
 * The demo end to end, as a new user meets it: added to an org, its one message runs in the
 * org's real cell with no model key — a call allowed, one denied by the grant's constraint, one
 * waiting for a person — and once approved the run completes, every step on record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bubblewrap } from '../cells/index.ts';
import { call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { openTestStore, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';

describe('the demo', () => {
  let t: TestStore;
  let deps: ReturnType<typeof testDeps>;
  let app: ReturnType<typeof createApp>;
  let acme: SeededOrg;
  const api = (method: 'get' | 'post', path: string, body?: unknown, token = acme.people.owner.token) =>
    call(app, method, `/api/v1/orgs/acme${path}`, { token, ...(body === undefined ? {} : { body }) });

  before(async () => {
    const check = await bubblewrap.check();
    assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
    t = await openTestStore('sqlite');
    deps = testDeps(t.store, t.home, {}, { provider: bubblewrap, problem: null });
    deps.audit.start();
    app = createApp(deps);
    acme = await seedOrg(t.store, 'acme');
  });
  after(() => t?.cleanup());

  test('one message: allowed, denied, waiting; approved, the answer; all on record; added only once', async () => {
    const demo = await api('post', '/demo');
    assert.equal(demo.status, 201, demo.text);
    assert.equal(demo.body.listed, true, demo.body.problem);
    assert.equal((await api('post', '/demo')).body.error.code, 'demo_exists');
    const r = await api('post', `/agents/${demo.body.agentId}/runs`, { message: demo.body.message });
    assert.equal(r.body.status, 'waiting_approval', r.text);
    await deps.audit.flush();
    const before = (await api('get', `/runs/${r.body.id}`)).body.audit as Array<{
      action: string;
      details: any;
    }>;
    const calls = before.filter(
      (e) => e.action.startsWith('tool.call.') || e.action === 'approval.requested',
    );
    assert.deepEqual(
      calls.map((e) => e.action),
      ['tool.call.allowed', 'tool.call.completed', 'tool.call.denied', 'approval.requested'],
      'A-1001 read, B-2002 refused by the constraint, the refund waiting',
    );
    const approved = await api('post', `/approvals/${r.body.waitingFor[0].approvalId}/approve`, {
      reason: 'demo',
    });
    assert.equal(approved.status, 200, approved.text);
    const done = await until(
      async () => {
        const x = (await api('get', `/runs/${r.body.id}`)).body.run;
        return x.status === 'completed' || x.status === 'failed' ? x : undefined;
      },
      { what: 'the demo run to end' },
    );
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
    assert.match(done.output, /^\(Replay\)/);
    await deps.audit.flush();
    const after = (await api('get', `/runs/${r.body.id}`)).body.audit as Array<{
      action: string;
      details: any;
    }>;
    assert.ok(
      after.some((e) => e.action === 'tool.call.allowed' && e.details.approvalId),
      'the refund ran with its approval',
    );
  });
});
