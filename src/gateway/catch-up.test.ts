/**
 * Catching up after missed stop events, on both engines: calls on agent tokens no longer live end,
 * calls of agents stopped or deleted meanwhile end, the rest run on; sessions without a call in
 * flight close (they reopen fresh on the next call).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ConnectionToOpen, OpenSession } from '../connections/index.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { catchUp } from './catch-up.ts';
import { KillRegistry } from './kill-registry.ts';
import { SessionPool } from './session-pool.ts';

const connection: ConnectionToOpen = {
  id: 'con_1',
  org_id: 'org_1',
  transport: 'stdio',
  command: 'node',
  args: '[]',
  url: null,
  env: '{}',
  headers: '{}',
};

/** Sessions over stand-in servers, busy while the registry holds a call of their agent. */
const pool = (kills: KillRegistry) =>
  new SessionPool({
    busy: (agentId) => kills.inFlight({ agentId }) > 0,
    open: async () =>
      ({ client: { close: async () => undefined }, scrub: (x: unknown) => x }) as unknown as OpenSession,
  });

for (const kind of STORE_KINDS) {
  describe(`calls held on agent tokens catch up from the database [${kind}]`, () => {
    let t: TestStore;
    before(async () => {
      t = await openTestStore(kind);
    });
    after(async () => {
      await t?.cleanup();
    });

    test('after missed ends, calls on tokens no longer live end; the rest run on', async () => {
      const db = t.store.db;
      const now = new Date().toISOString();
      await db
        .insertInto('orgs')
        .values({
          id: 'org_1',
          slug: 'one',
          name: 'one',
          settings: '{}',
          created_at: now,
          agents_stopped_at: null,
          agents_stopped_by: null,
        })
        .execute();
      await db
        .insertInto('agents')
        .values({
          id: 'agt_1',
          org_id: 'org_1',
          name: 'a',
          description: '',
          scope: 'organization',
          owner_id: 'usr_a',
          team_id: null,
          instructions: '',
          model: '{}',
          output_schema: null,
          state: 'active',
          version: 1,
          grants_version: 0,
          created_at: now,
          updated_at: now,
        })
        .execute();
      const token = (id: string, revoked: string | null, expires: string | null) => ({
        id,
        org_id: 'org_1',
        agent_id: 'agt_1',
        name: id,
        token_hash: `hash-${id}`,
        created_by: 'usr_a',
        created_at: now,
        expires_at: expires,
        revoked_at: revoked,
      });
      await db
        .insertInto('agent_tokens')
        .values([
          token('atk_live', null, null),
          token('atk_revoked', now, null),
          token('atk_expired', null, '2000-01-01T00:00:00.000Z'),
        ])
        .execute();
      const calls = new KillRegistry();
      const sessions = pool(calls);
      const live = calls.hold(who('atk_live'), performance.now());
      const revoked = calls.hold(who('atk_revoked'), performance.now());
      const expired = calls.hold(who('atk_expired'), performance.now());
      await catchUp(db, calls, sessions);
      assert.equal(live.signal.aborted, false);
      assert.equal(revoked.signal.aborted, true);
      assert.equal(expired.signal.aborted, true);
      assert.equal(calls.inFlight(), 1);
    });

    test('after a missed stop, calls of agents stopped (or deleted) meanwhile end, and idle sessions close', async () => {
      const db = t.store.db;
      const now = new Date().toISOString();
      await db
        .insertInto('agents')
        .values(
          ['agt_2', 'agt_3'].map((id) => ({
            id,
            org_id: 'org_1',
            name: id,
            description: '',
            scope: 'organization' as const,
            owner_id: 'usr_a',
            team_id: null,
            instructions: '',
            model: '{}',
            output_schema: null,
            state: id === 'agt_2' ? ('stopped' as const) : ('active' as const),
            version: 1,
            grants_version: 0,
            created_at: now,
            updated_at: now,
          })),
        )
        .execute();
      const calls = new KillRegistry();
      const sessions = pool(calls);
      const stopped = calls.hold({ orgId: 'org_1', agentId: 'agt_2' }, performance.now());
      const deleted = calls.hold({ orgId: 'org_1', agentId: 'agt_gone' }, performance.now());
      const running = calls.hold({ orgId: 'org_1', agentId: 'agt_3' }, performance.now());
      sessions.open('agt_3', connection);
      sessions.open('agt_idle', connection);
      await catchUp(db, calls, sessions);
      assert.equal((stopped.signal.reason as { code?: string }).code, 'agent_stopped');
      assert.equal(deleted.signal.aborted, true);
      assert.equal(running.signal.aborted, false);
      assert.deepEqual(
        sessions.agentIds(),
        ['agt_3'],
        'the session of the agent with a call in flight stays',
      );
      await sessions.closeAll();
    });

    function who(tokenId: string, agentId = 'agt_1') {
      return { orgId: 'org_1', agentId, token: { id: tokenId, issuedBy: 'usr_a' } };
    }
  });
}
