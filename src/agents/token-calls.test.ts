/**
 * Calls held on agent tokens: an end (a token revoked, its issuer removed) aborts exactly the
 * calls it covers, with `token_revoked`; a call whose token was checked before an end it learns
 * of only afterwards never starts; a replica that missed ends catches up from the database.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { TokenCalls } from './token-calls.ts';

const reasonOf = (s: AbortSignal) => (s.reason as { code?: string; message?: string } | undefined) ?? {};

describe('calls held on agent tokens', () => {
  const who = (tokenId: string, issuedBy = 'usr_a', orgId = 'org_1') => ({ orgId, tokenId, issuedBy });

  test("removing an issuer ends their tokens' calls in that org only", () => {
    const calls = new TokenCalls();
    const mine = calls.hold(who('atk_1'), performance.now());
    const mineToo = calls.hold(who('atk_2'), performance.now());
    const someoneElse = calls.hold(who('atk_3', 'usr_b'), performance.now());
    const otherOrg = calls.hold(who('atk_4', 'usr_a', 'org_2'), performance.now());
    calls.end({ orgId: 'org_1', issuedBy: 'usr_a' });
    assert.ok(mine.signal.aborted && mineToo.signal.aborted);
    assert.equal(reasonOf(mine.signal).code, 'token_revoked');
    assert.match(reasonOf(mine.signal).message ?? '', /removed from the organization/);
    assert.equal(someoneElse.signal.aborted, false);
    assert.equal(otherOrg.signal.aborted, false);
    assert.equal(calls.size, 2);
  });

  test('revoking tokens ends the calls on those tokens only', () => {
    const calls = new TokenCalls();
    const one = calls.hold(who('atk_1'), performance.now());
    const two = calls.hold(who('atk_2'), performance.now());
    calls.end({ orgId: 'org_1', tokenIds: ['atk_2'] });
    assert.equal(one.signal.aborted, false);
    assert.equal(two.signal.aborted, true);
    assert.equal(reasonOf(two.signal).message, 'The agent token was revoked.');
  });

  test('a call whose token was checked before an end never starts; one checked after it does', () => {
    const calls = new TokenCalls();
    const checkedBefore = performance.now();
    calls.end({ orgId: 'org_1', issuedBy: 'usr_a' });
    const late = calls.hold(who('atk_1'), checkedBefore);
    assert.equal(late.signal.aborted, true, 'its check may have read the token before the revocation');
    assert.equal(reasonOf(late.signal).code, 'token_revoked');
    const fresh = calls.hold(who('atk_9'), performance.now());
    assert.equal(fresh.signal.aborted, false, 'a check after the end read the database after it');
    assert.equal(calls.size, 1);
  });

  test('a released call is no longer held; an end does not reach it', () => {
    const calls = new TokenCalls();
    const done = calls.hold(who('atk_1'), performance.now());
    done.release();
    calls.end({ orgId: 'org_1', tokenIds: ['atk_1'] });
    assert.equal(done.signal.aborted, false);
    assert.equal(calls.size, 0);
  });

  test('a hold far later than its check is refused outright (no end is remembered that long)', () => {
    const calls = new TokenCalls();
    const held = calls.hold(who('atk_1'), performance.now() - 6 * 60_000);
    assert.equal(held.signal.aborted, true);
  });
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
      const calls = new TokenCalls();
      const live = calls.hold(who('atk_live'), performance.now());
      const revoked = calls.hold(who('atk_revoked'), performance.now());
      const expired = calls.hold(who('atk_expired'), performance.now());
      await calls.resync(db);
      assert.equal(live.signal.aborted, false);
      assert.equal(revoked.signal.aborted, true);
      assert.equal(expired.signal.aborted, true);
      assert.equal(calls.size, 1);
    });

    function who(tokenId: string) {
      return { orgId: 'org_1', tokenId, issuedBy: 'usr_a' };
    }
  });
}
