/**
 * The live feed on SQLite and PostgreSQL, over HTTP as a browser's EventSource reads it: a call
 * asked for approval reaches an owner's stream without asking (on PostgreSQL through another
 * replica: the request made on one, the stream open on the other), and leaves it once decided;
 * an agent stopped is noticed; a member hears no approvals, another org's viewer nothing; runs
 * that start, wait and end are heard (a member of their own only); without
 * Accept: text/event-stream the same state comes as JSON; a viewer whose access ends is cut off.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { requestApproval } from '../approvals/approvals.ts';
import { policyVersion } from '../policy/engine.ts';
import { openStore, type Store } from '../store/index.ts';
import { call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { onCleanup, openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';
import { LiveFeed } from './feed.ts';
import { LiveSignals } from './signals.ts';

interface Heard {
  events: Array<{ type: string; data: any }>;
  ended: boolean;
  close(): Promise<void>;
}

/** Opens the live stream as a browser would and collects its events. */
async function listen(app: ReturnType<typeof createApp>, slug: string, token: string): Promise<Heard> {
  const res = await app.request(`/api/v1/orgs/${slug}/live`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = res.body!.getReader();
  const heard: Heard = { events: [], ended: false, close: () => reader.cancel() };
  let buffer = '';
  void (async () => {
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut = buffer.indexOf('\n\n');
      while (cut >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const type = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (type && data) heard.events.push({ type, data: JSON.parse(data) });
        cut = buffer.indexOf('\n\n');
      }
    }
    heard.ended = true;
  })();
  return heard;
}

const last = (h: Heard, type: string) => h.events.filter((e) => e.type === type).at(-1)?.data;

for (const kind of STORE_KINDS) {
  describe(`live feed [${kind}]`, () => {
    let t: TestStore;
    let other: Store | undefined;
    /** Where requests are made, and (on PostgreSQL) a second replica where streams are open. */
    let here: ReturnType<typeof createApp>;
    let there: ReturnType<typeof createApp>;
    let acme: SeededOrg;
    let beta: SeededOrg;
    let agentId = '';
    let connectionId = '';
    const streams: Heard[] = [];
    const open = async (slug: string, token: string) => {
      const h = await listen(there, slug, token);
      streams.push(h);
      return h;
    };

    before(async () => {
      t = await openTestStore(kind);
      here = createApp(testDeps(t.store, t.home));
      if (t.databaseUrl) {
        other = await openStore({ home: t.home, databaseUrl: t.databaseUrl });
        there = createApp(testDeps(other, t.home));
      } else there = here;
      acme = await seedOrg(t.store, 'acme');
      beta = await seedOrg(t.store, 'beta');
      const admin = acme.people.admin.token;
      const agent = await call(here, 'post', '/api/v1/orgs/acme/agents', {
        token: admin,
        body: {
          name: 'adder',
          scope: 'organization',
          instructions: 'x',
          model: { provider: 'openai', model: 'gpt-5' },
        },
      });
      const conn = await call(here, 'post', '/api/v1/orgs/acme/connections', {
        token: admin,
        body: { name: 'calc', transport: 'stdio', command: 'node', args: [] },
      });
      assert.deepEqual([agent.status, conn.status], [201, 201]);
      agentId = agent.body.id;
      connectionId = conn.body.id;
    });
    after(async () => {
      for (const s of streams) await s.close().catch(() => undefined);
      if (other) {
        const o = other;
        onCleanup(t.store, async () => {
          await o.close();
        });
      }
      await t?.cleanup();
    });

    test('an approval asked for reaches an owner’s open stream and leaves it once decided', async () => {
      const owner = await open('acme', acme.people.owner.token);
      await until(() => last(owner, 'approvals'), { what: 'the first approvals event' });
      assert.deepEqual(last(owner, 'approvals').pending, []);
      const asked = await requestApproval(t.store.db, {
        orgId: acme.id,
        agentId,
        connectionId,
        tool: 'get-sum',
        args: { a: 1, b: 2 },
        policyVersion: policyVersion([]),
        requestedBy: acme.people.admin.id,
        requestId: 'req_live',
        minutes: 5,
      });
      const pending = await until(() => last(owner, 'approvals')?.pending[0], {
        what: 'the approval on the stream',
      });
      assert.deepEqual(
        [pending.id, pending.agentId, pending.tool, pending.requestedBy, pending.expiresAt],
        [asked.id, agentId, 'get-sum', acme.people.admin.id, asked.expiresAt],
      );
      assert.equal('args' in pending, false, 'the arguments stay in the inbox');
      const denied = await call(here, 'post', `/api/v1/orgs/acme/approvals/${asked.id}/deny`, {
        token: acme.people.owner.token,
        body: { reason: 'not now' },
      });
      assert.equal(denied.status, 200, denied.text);
      await until(() => last(owner, 'approvals')?.pending.length === 0, { what: 'the approval gone' });
      assert.ok(
        owner.events.some((e) => e.type === 'activity'),
        'the log grew, and the owner heard it',
      );
    });

    test('an agent stopped is noticed; a member hears no approvals, another org’s owner nothing of it', async () => {
      const owner = await open('acme', acme.people.owner.token);
      const member = await open('acme', acme.people.member.token);
      const stranger = await open('beta', beta.people.owner.token);
      await until(() => last(member, 'agents') && last(owner, 'agents') && last(stranger, 'agents'), {
        what: 'the first agents events',
      });
      // The stranger's whole first set (an owner's: agents, runs, approvals, cell) before counting.
      await until(() => ['runs', 'approvals', 'cell'].every((type) => last(stranger, type) !== undefined), {
        what: "the stranger's first events",
      });
      const before = { owner: last(owner, 'agents').version, member: last(member, 'agents').version };
      const strangerHeard = stranger.events.length;
      const strangerAgents = last(stranger, 'agents').version;
      const stop = await call(here, 'post', `/api/v1/orgs/acme/agents/${agentId}/stop`, {
        token: acme.people.owner.token,
      });
      assert.equal(stop.status, 200, stop.text);
      await until(() => last(owner, 'agents').version !== before.owner, { what: 'the owner told' });
      await until(() => last(member, 'agents').version !== before.member, { what: 'the member told' });
      assert.deepEqual(
        [...new Set(member.events.map((e) => e.type))].sort(),
        ['agents', 'runs'],
        'a member hears that agents and runs changed, and nothing of approvals, the cell or the log',
      );
      // Another org hears nothing of it: no agents, runs, approvals or cell event. (Its own log may
      // grow meanwhile — a checkpoint of its own, signed in the background — and say so: one CI run
      // heard such an `activity`.)
      assert.deepEqual(
        stranger.events.slice(strangerHeard).filter((e) => e.type !== 'activity'),
        [],
        'another org hears nothing',
      );
      assert.equal(last(stranger, 'agents').version, strangerAgents);
      const resume = await call(here, 'post', `/api/v1/orgs/acme/agents/${agentId}/resume`, {
        token: acme.people.owner.token,
      });
      assert.equal(resume.status, 200, resume.text);
    });

    test('without Accept: text/event-stream the same state comes as JSON, once', async () => {
      const owner = await call(here, 'get', '/api/v1/orgs/acme/live', { token: acme.people.owner.token });
      assert.equal(owner.status, 200, owner.text);
      assert.deepEqual(owner.body.events.map((e: any) => e.type).sort(), [
        'agents',
        'approvals',
        'cell',
        'runs',
      ]);
      const member = await call(here, 'get', '/api/v1/orgs/acme/live', { token: acme.people.member.token });
      assert.deepEqual(
        member.body.events.map((e: any) => e.type),
        ['agents', 'runs'],
      );
      const stranger = await call(here, 'get', '/api/v1/orgs/acme/live', { token: beta.people.owner.token });
      assert.equal(stranger.status, 404);
    });

    test('runs that start, wait and end are heard by who may read them: a member of their own only', async () => {
      const signals = new LiveSignals(t.store);
      const feed = new LiveFeed({ db: t.store.db, signals, cell: () => null });
      const heard: Record<'owner' | 'member', string[]> = { owner: [], member: [] };
      const watch = (who: 'owner' | 'member') => {
        const ctx = { scope: { orgId: acme.id }, role: who, userId: acme.people[who].id } as any;
        return feed.watch({
          ctx,
          send: (e) => {
            if (e.type === 'runs') heard[who].push(e.data.version);
          },
          recheck: async () => ctx,
          end: () => undefined,
        });
      };
      const stops = [await watch('owner'), await watch('member')];
      assert.deepEqual([heard.owner.length, heard.member.length], [1, 1], 'the state at once');
      // Hinted again on each check: a PostgreSQL listener may not be listening yet at the first.
      const told = (who: 'owner' | 'member', n: number, what: string) =>
        until(
          () => {
            signals.grew([acme.id]);
            return heard[who].length >= n;
          },
          { what },
        );
      const now = new Date().toISOString();
      await t.store.db
        .insertInto('conversations')
        .values({
          id: 'conv_live',
          org_id: acme.id,
          agent_id: agentId,
          person_id: null,
          title: 'live',
          messages: '[]',
          created_at: now,
          updated_at: now,
        })
        .execute();
      const run = (id: string, person: string) => ({
        id,
        org_id: acme.id,
        agent_id: agentId,
        conversation_id: 'conv_live',
        person_id: person,
        via: 'chat',
        status: 'running' as const,
        input: 'hello',
        steps: 0,
        input_tokens: 0,
        output_tokens: 0,
        created_at: now,
        updated_at: now,
      });
      await t.store.db.insertInto('runs').values(run('run_admin', acme.people.admin.id)).execute();
      await told('owner', 2, 'the owner told of the admin’s run');
      assert.equal(heard.member.length, 1, 'a member is not told of another person’s run');
      await t.store.db.insertInto('runs').values(run('run_member', acme.people.member.id)).execute();
      await told('member', 2, 'the member told of their run');
      await t.store.db
        .updateTable('runs')
        .set({ status: 'waiting_approval', updated_at: new Date(Date.now() + 1).toISOString() })
        .where('id', '=', 'run_member')
        .execute();
      await told('member', 3, 'the member told their run waits');
      await t.store.db
        .updateTable('runs')
        .set({ status: 'completed', steps: 2, ended_at: now })
        .where('id', 'in', ['run_member', 'run_admin'])
        .execute();
      await told('member', 4, 'the member told their run ended');
      await told('owner', 5, 'the owner told both ended');
      assert.equal(heard.owner.at(-1), heard.owner[0], 'nothing in flight again: the first state');
      for (const stop of stops) stop();
      await signals.close();
    });

    test('a viewer whose access ends is cut off at the next check', async () => {
      const signals = new LiveSignals(t.store);
      const feed = new LiveFeed({ db: t.store.db, signals, cell: () => null, recheckMs: 50 });
      let allowed = true;
      const ended: string[] = [];
      const ctx = {
        scope: { orgId: acme.id },
        role: 'auditor',
        userId: acme.people.auditor.id,
      } as any;
      const stop = await feed.watch({
        ctx,
        send: () => undefined,
        recheck: async () => {
          if (!allowed) throw new Error('removed');
          return ctx;
        },
        end: (reason) => ended.push(reason),
      });
      allowed = false;
      await until(() => ended.length > 0, { what: 'the viewer cut off' });
      assert.deepEqual(ended, ['access_ended']);
      stop();
      await signals.close();
    });
  });
}
