/**
 * The approve step alone, on both engines: `return` answers approval_required at once (one request
 * however often asked); a granted approval is used up; `pause` goes on when a person approves
 * meanwhile, is refused when they deny, and ends on record when its caller gives up.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readAgentStanding } from '../../agents/index.ts';
import { trustedScope } from '../../identity/index.ts';
import { activeGrants } from '../../policy/grants-service.ts';
import { call as api, createApp, type SeededOrg, seedOrg, testDeps } from '../../testing/fixtures.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../../testing/stores.ts';
import { until } from '../../testing/until.ts';
import { CancelledError, Refusal } from '../refusals.ts';
import type { CallInFlight } from '../request.ts';
import { approve, WaitingRoom } from './approve.ts';
import { Decider, unixNow } from './decide.ts';

for (const kind of STORE_KINDS) {
  describe(`the approve step [${kind}]`, () => {
    let t: TestStore;
    let acme: SeededOrg;
    let agentId: string;
    let connectionId: string;
    let decider: Decider;
    const waiting = new WaitingRoom();

    before(async () => {
      t = await openTestStore(kind);
      const app = createApp(testDeps(t.store, t.home));
      acme = await seedOrg(t.store, 'acme');
      const token = acme.people.admin.token;
      const agent = await api(app, 'post', '/api/v1/orgs/acme/agents', {
        token,
        body: {
          name: 'a',
          scope: 'organization',
          instructions: 'x',
          model: { provider: 'openai', model: 'm' },
        },
      });
      agentId = agent.body.id;
      const conn = await api(app, 'post', '/api/v1/orgs/acme/connections', {
        token,
        body: { name: 'c', transport: 'stdio', command: 'node', args: [] },
      });
      connectionId = conn.body.id;
      await t.store.db
        .insertInto('grants')
        .values({
          id: 'grt_sum',
          org_id: acme.id,
          agent_id: agentId,
          connection_id: connectionId,
          tool: 'get-sum',
          effect: 'allow',
          constraints: '[]',
          not_before: null,
          not_after: null,
          requires_approval: 1,
          tool_digest: null,
          status: 'active',
          created_by: 'test',
          created_at: new Date().toISOString(),
          revoked_by: null,
          revoked_at: null,
        })
        .execute();
      decider = new Decider((scope, agent) => activeGrants(t.store.db, scope, agent));
    });
    after(async () => t?.cleanup());

    /** Runs the step for `get-sum` with `args`, as `approval` asks, by the admin. */
    async function step(
      args: Record<string, unknown>,
      approval: 'pause' | 'return',
      signal = new AbortController().signal,
    ) {
      const scope = trustedScope(acme.id);
      const standing = (await readAgentStanding(t.store.db, scope, agentId))!;
      await decider.prepare(scope, agentId, standing.grantsVersion);
      const ask = { agentId, connectionId, tool: 'get-sum', args, now: unixNow() };
      const verdict = decider.verdict(ask);
      assert.equal(verdict.kind, 'needs-approval');
      const call: CallInFlight = {
        caller: {
          orgId: acme.id,
          agentId,
          onBehalfOf: acme.people.admin.id,
          requestId: 'req_t',
          runId: 'run_t',
        },
        connectionId,
        tool: 'get-sum',
        args,
        approval,
        scope,
        signal,
      };
      return approve(
        { db: t.store.db, decider, waiting },
        call,
        { ...standing, approvals: { waitSeconds: 10, minutes: 60 } },
        ask,
        verdict.decision,
      );
    }
    const refusalOf = (p: Promise<unknown>) =>
      p.then(
        () => assert.fail('expected a refusal'),
        (e) => {
          assert.ok(e instanceof Refusal, String(e));
          return e;
        },
      );
    const pending = (a: number) =>
      t.store.db
        .selectFrom('approvals')
        .selectAll()
        .where('agent_id', '=', agentId)
        .where('status', '=', 'pending')
        .where('args', '=', JSON.stringify({ a, b: 1 }))
        .executeTakeFirst();
    const decide = (id: string, status: 'approved' | 'denied') =>
      t.store.db
        .updateTable('approvals')
        .set({ status, decided_by: acme.people.owner.id })
        .where('id', '=', id)
        .execute();

    test('`return`: approval_required at once, one request however often asked; granted, it is used once', async () => {
      const first = await refusalOf(step({ a: 1, b: 1 }, 'return'));
      assert.equal(first.error.code, 'approval_required');
      assert.equal(first.denial, null, 'a wait is not a denial');
      const again = await refusalOf(step({ a: 1, b: 1 }, 'return'));
      assert.deepEqual((again.error.details as any).approvalId, (first.error.details as any).approvalId);
      const row = (await pending(1))!;
      assert.equal(row.id, (first.error.details as any).approvalId);
      await decide(row.id, 'approved');
      const used = await step({ a: 1, b: 1 }, 'return');
      assert.equal(used.id, row.id);
      assert.equal(used.status, 'used');
      assert.equal((await refusalOf(step({ a: 1, b: 1 }, 'return'))).error.code, 'approval_required');
    });

    test('`pause`: approved meanwhile it goes on; denied it is refused on record', async () => {
      const going = step({ a: 2, b: 1 }, 'pause');
      const req = await until(() => pending(2), { what: 'the paused call’s request' });
      await decide(req.id, 'approved');
      assert.equal((await going).id, req.id);
      const refused = refusalOf(step({ a: 3, b: 1 }, 'pause'));
      await decide((await until(() => pending(3), { what: 'the second request' })).id, 'denied');
      const r = await refused;
      assert.equal(r.error.code, 'approval_denied');
      assert.match(r.denial!.reason, /^approval apr_\w+ was denied$/);
      assert.deepEqual(r.denial!.grants, ['grt_sum']);
    });

    test('`pause`: a caller that gives up while waiting ends the call, on record', async () => {
      const gone = new AbortController();
      const refused = refusalOf(step({ a: 4, b: 1 }, 'pause', gone.signal));
      await until(() => pending(4), { what: 'the request' });
      gone.abort(new CancelledError());
      const r = await refused;
      assert.equal(r.error.code, 'call_cancelled');
      assert.equal(r.denial!.reason, 'the caller gave up while waiting for approval');
    });
  });
}

test('the waiting room seats five calls of an agent; the sixth answers at once', () => {
  const room = new WaitingRoom();
  const seats = Array.from({ length: 6 }, () => room.enter('agt_a'));
  assert.deepEqual(
    seats.map((s) => s.admitted),
    [true, true, true, true, true, false],
  );
  assert.equal(room.enter('agt_b').admitted, true, 'another agent has its own room');
  for (const s of seats) s.leave();
  assert.equal(room.enter('agt_a').admitted, true);
});
