/**
 * Approval requests on SQLite and PostgreSQL: single-use even when calls race for one, bound to
 * the exact call (arguments, person, policy version, the run making it) and to an expiry, and not
 * piling up.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { policyVersion } from '../policy/engine.ts';
import { call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { type CallBinding, consumeApproval, expireApprovals, requestApproval } from './approvals.ts';

for (const kind of STORE_KINDS) {
  describe(`approvals [${kind}]`, () => {
    let t: TestStore;
    let app: ReturnType<typeof createApp>;
    let acme: SeededOrg;
    let binding: CallBinding;
    let otherAgent: string;

    const ask = (b: CallBinding) => requestApproval(t.store.db, { ...b, requestId: 'req_test', minutes: 5 });
    const approve = async (id: string) => {
      const r = await call(app, 'post', `/api/v1/orgs/acme/approvals/${id}/approve`, {
        token: acme.people.owner.token,
        body: {},
      });
      assert.equal(r.status, 200, r.text);
    };

    before(async () => {
      t = await openTestStore(kind);
      app = createApp(testDeps(t.store, t.home));
      acme = await seedOrg(t.store, 'acme');
      const admin = acme.people.admin.token;
      const agent = await call(app, 'post', '/api/v1/orgs/acme/agents', {
        token: admin,
        body: {
          name: 'adder',
          scope: 'organization',
          instructions: 'x',
          model: { provider: 'openai', model: 'gpt-5' },
        },
      });
      const other = await call(app, 'post', '/api/v1/orgs/acme/agents', {
        token: admin,
        body: {
          name: 'other',
          scope: 'organization',
          instructions: 'x',
          model: { provider: 'openai', model: 'gpt-5' },
        },
      });
      otherAgent = other.body.id;
      const conn = await call(app, 'post', '/api/v1/orgs/acme/connections', {
        token: admin,
        body: { name: 'calc', transport: 'stdio', command: 'node', args: [] },
      });
      assert.deepEqual([agent.status, conn.status], [201, 201]);
      binding = {
        orgId: acme.id,
        agentId: agent.body.id,
        connectionId: conn.body.id,
        tool: 'get-sum',
        args: { a: 1, b: 2 },
        // The agent has no grants: an approval given now fits this version.
        policyVersion: policyVersion([]),
        requestedBy: acme.people.admin.id,
      };
    });
    after(async () => t?.cleanup());

    test('an approval is used once, even when calls race for it', async () => {
      const request = await ask(binding);
      await approve(request.id);
      const racing = await Promise.all(Array.from({ length: 8 }, () => consumeApproval(t.store.db, binding)));
      assert.deepEqual(
        racing.filter((a) => a !== null).map((a) => [a!.id, a!.status]),
        [[request.id, 'used']],
      );
      assert.equal(await consumeApproval(t.store.db, binding), null, 'and it is gone');
    });

    test('an approval serves only its exact call: the arguments, the person, the policy version; and only until it expires', async () => {
      const b = { ...binding, args: { a: 40, b: 2 } };
      const request = await ask(b);
      await approve(request.id);
      for (const other of [
        { ...b, args: { a: 40, b: 3 } },
        { ...b, args: { b: 2, a: 40, c: 0 } },
        { ...b, requestedBy: acme.people.owner.id },
        { ...b, policyVersion: policyVersion([{ id: 'grt_other' }]) },
        { ...b, tool: 'get-product' },
      ])
        assert.equal(await consumeApproval(t.store.db, other), null, JSON.stringify(other));
      await t.store.db
        .updateTable('approvals')
        .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .where('id', '=', request.id)
        .execute();
      assert.equal(await consumeApproval(t.store.db, b), null, 'an expired approval is no approval');
    });

    test("a run's approval serves that run's call only, its decision is among the run's entries, and it ends with the run", async () => {
      const b = { ...binding, args: { run: 'bound' }, runId: 'run_asking' };
      const request = await ask(b);
      assert.equal(request.runId, 'run_asking');
      assert.notEqual(
        (await ask({ ...b, runId: undefined })).id,
        request.id,
        'a call outside a run asks its own',
      );
      await approve(request.id);
      for (const other of [
        { ...b, runId: 'run_later' },
        { ...b, runId: undefined },
      ])
        assert.equal(
          await consumeApproval(t.store.db, other),
          null,
          `not usable by ${other.runId ?? 'no run'}`,
        );
      const granted = async () => {
        // The outbox first: an entry moves from there to its log, never back.
        for (const table of ['audit_outbox', 'audit_entries'] as const) {
          const row = await t.store.db
            .selectFrom(table)
            .select(['run_id', 'action'])
            .where('target_id', '=', request.id)
            .where('action', '=', 'approval.granted')
            .executeTakeFirst();
          if (row) return row.run_id;
        }
        return undefined;
      };
      assert.equal(await granted(), 'run_asking', "approval.granted carries the run's id");
      // The run ended without using it: it can no longer be used, nor a pending one approved.
      const pending = await ask({ ...b, args: { run: 'pending' } });
      assert.equal(await expireApprovals(t.store.db, acme.id, { runId: 'run_asking' }), 2);
      assert.equal(await consumeApproval(t.store.db, b), null, 'an approval of an ended run is no approval');
      const late = await call(app, 'post', `/api/v1/orgs/acme/approvals/${pending.id}/approve`, {
        token: acme.people.owner.token,
        body: {},
      });
      assert.deepEqual([late.status, late.body.error.code], [409, 'approval_expired']);
      assert.match(late.body.error.message, /the run that asked for it ended/);
      // The inbox says what closed both, lists both as expired, and neither as approved or pending.
      const listed = async (status: string) =>
        (
          await call(app, 'get', `/api/v1/orgs/acme/approvals?status=${status}`, {
            token: acme.people.owner.token,
          })
        ).body.approvals.filter((a: { runId: string | null }) => a.runId === 'run_asking');
      const expired = await listed('expired');
      assert.deepEqual(
        expired.map((a: { id: string; endedBecause: string }) => [a.id, a.endedBecause]).sort(),
        [
          [pending.id, 'run-ended'],
          [request.id, 'run-ended'],
        ].sort(),
      );
      assert.deepEqual([await listed('approved'), await listed('pending')], [[], []]);
    });

    test('what ends a request before its time is kept on it: a stop of its agent, of every agent, the removal of its person', async () => {
      for (const [of, because] of [
        [{ agentId: binding.agentId }, 'agent-stopped'],
        [{ all: true }, 'all-agents-stopped'],
        [{ personId: acme.people.admin.id }, 'person-removed'],
      ] as const) {
        const request = await ask({ ...binding, args: { endedBy: because } });
        assert.equal(request.endedBecause, null, 'an open request was ended by nothing');
        await expireApprovals(t.store.db, acme.id, of);
        const late = await call(app, 'post', `/api/v1/orgs/acme/approvals/${request.id}/approve`, {
          token: acme.people.owner.token,
          body: {},
        });
        assert.equal(late.status, 409);
        const [row] = (
          await call(app, 'get', '/api/v1/orgs/acme/approvals?status=expired', {
            token: acme.people.owner.token,
          })
        ).body.approvals.filter((a: { id: string }) => a.id === request.id);
        assert.equal(row?.endedBecause, because, JSON.stringify(of));
      }
    });

    test('nothing is asked for an agent stopped (or an org whose agents are stopped) since its call read its standing', async () => {
      const b = { ...binding, args: { after: 'stop' } };
      for (const [table, set, back] of [
        ['agents', { state: 'stopped' }, { state: 'active' }],
        ['orgs', { agents_stopped_at: new Date().toISOString() }, { agents_stopped_at: null }],
      ] as const) {
        const where = table === 'agents' ? binding.agentId : acme.id;
        await t.store.db.updateTable(table).set(set).where('id', '=', where).execute();
        await assert.rejects(ask(b), (err: Error & { code?: string; org?: boolean }) => {
          assert.deepEqual([err.code, err.org], ['agent_stopped', table === 'orgs']);
          return true;
        });
        await t.store.db.updateTable(table).set(back).where('id', '=', where).execute();
      }
      const none = await t.store.db
        .selectFrom('approvals')
        .select('id')
        .where('args', '=', JSON.stringify(b.args))
        .execute();
      assert.deepEqual(none, [], 'no request was made');
    });

    test('the inbox lists by status, or all of them (`status=all`, as no status); an unknown status is refused', async () => {
      const list = (q: string) =>
        call(app, 'get', `/api/v1/orgs/acme/approvals${q}`, { token: acme.people.owner.token });
      const [all, none, pending, bad] = await Promise.all([
        list('?status=all'),
        list(''),
        list('?status=pending'),
        list('?status=sometimes'),
      ]);
      assert.deepEqual([all.status, none.status, pending.status, bad.status], [200, 200, 200, 400]);
      assert.deepEqual(
        all.body.approvals.map((a: { id: string }) => a.id),
        none.body.approvals.map((a: { id: string }) => a.id),
      );
      assert.ok(all.body.approvals.length > pending.body.approvals.length);
    });

    test('the same call asked at once by several callers makes one request', async () => {
      const b = { ...binding, args: { racing: true } };
      const asked = await Promise.all(Array.from({ length: 6 }, () => ask(b)));
      assert.equal(new Set(asked.map((a) => a.id)).size, 1, asked.map((a) => a.id).join(', '));
    });

    test('asking again returns the waiting request', async () => {
      const b = { ...binding, args: { n: 0 } };
      const first = await ask(b);
      assert.equal((await ask({ ...b, args: { n: 0 } })).id, first.id);
    });

    test('at most 20 requests wait per agent, even when asked at once', async () => {
      const b = { ...binding, agentId: otherAgent };
      const asked = await Promise.allSettled(
        Array.from({ length: 25 }, (_, n) => ask({ ...b, args: { n } })),
      );
      assert.equal(asked.filter((r) => r.status === 'fulfilled').length, 20);
      for (const r of asked.filter((r) => r.status === 'rejected'))
        assert.deepEqual([r.reason.status, r.reason.code], [429, 'rate_limited']);
    });
  });
}
