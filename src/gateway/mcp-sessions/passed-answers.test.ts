/**
 * Answers held for another replica (both engines): sealed, taken once and only by their own
 * session in their own org, unreadable with another session's key, bounded per session and org, and
 * forgotten after a minute.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { seedOrg } from '../../testing/fixtures.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../../testing/stores.ts';
import {
  type AnswerSession,
  expireHeldAnswers,
  holdAnswer,
  KEEP_MS,
  MAX_HELD_PER_ORG,
  MAX_HELD_PER_SESSION,
  sessionKey,
  takeHeldAnswer,
} from './passed-answers.ts';

const answer = (id: number) => ({ jsonrpc: '2.0' as const, id, result: { text: 'the model says hi' } });

for (const kind of STORE_KINDS) {
  describe(`answers held between replicas [${kind}]`, () => {
    let t: TestStore;
    let mine: AnswerSession;
    let other: AnswerSession;
    before(async () => {
      t = await openTestStore(kind);
      const acme = await seedOrg(t.store, 'acme');
      const globex = await seedOrg(t.store, 'globex');
      mine = { orgId: acme.id, idHash: 'h'.repeat(64), key: sessionKey('a'.repeat(43)) };
      other = { orgId: globex.id, idHash: 'g'.repeat(64), key: sessionKey('b'.repeat(43)) };
    });
    after(() => t.cleanup());
    const rows = () => t.store.db.selectFrom('mcp_passed_answers').selectAll().execute();

    test('held sealed, taken once by its session, then gone', async () => {
      const ref = await holdAnswer(t.store.db, mine, answer(7));
      assert.ok(ref);
      const [row] = await rows();
      assert.doesNotMatch(row!.sealed, /model says/);
      assert.deepEqual(await takeHeldAnswer(t.store.db, mine, ref), answer(7));
      assert.equal(await takeHeldAnswer(t.store.db, mine, ref), undefined, 'taken once');
      assert.deepEqual(await rows(), []);
    });

    test('another org or session cannot take it, nor read it with its own key; it stays for its own', async () => {
      const ref = (await holdAnswer(t.store.db, mine, answer(8)))!;
      assert.equal(await takeHeldAnswer(t.store.db, other, ref), undefined);
      assert.equal(await takeHeldAnswer(t.store.db, { ...other, orgId: mine.orgId }, ref), undefined);
      assert.equal(await takeHeldAnswer(t.store.db, { ...mine, orgId: other.orgId }, ref), undefined);
      // The right row, the wrong key (someone who knows the digest but not the id): nothing, and it is spent.
      assert.equal(await takeHeldAnswer(t.store.db, { ...mine, key: other.key }, ref), undefined);
      const again = (await holdAnswer(t.store.db, mine, answer(9)))!;
      for (const bad of ['', 'x'.repeat(65), "' or 1=1 --"])
        assert.equal(await takeHeldAnswer(t.store.db, mine, bad), undefined);
      assert.deepEqual(await takeHeldAnswer(t.store.db, mine, again), answer(9));
    });

    test(`at most ${MAX_HELD_PER_SESSION} held per session; those left over go after a minute`, async () => {
      for (let i = 0; i < MAX_HELD_PER_SESSION; i++) assert.ok(await holdAnswer(t.store.db, mine, answer(i)));
      assert.equal(await holdAnswer(t.store.db, mine, answer(99)), undefined, 'one too many');
      assert.ok(await holdAnswer(t.store.db, other, answer(1)), 'another session is not held back');
      assert.equal(await expireHeldAnswers(t.store.db, Date.now()), 0, 'not yet');
      assert.equal(
        await expireHeldAnswers(t.store.db, Date.now() + KEEP_MS + 1_000),
        MAX_HELD_PER_SESSION + 1,
      );
      assert.deepEqual(await rows(), []);
    });

    test(`at most ${MAX_HELD_PER_ORG} held per org, across its sessions`, async () => {
      for (let i = 0; i < MAX_HELD_PER_ORG; i++)
        assert.ok(await holdAnswer(t.store.db, { ...mine, idHash: `s${i}`.padEnd(64, '0') }, answer(i)));
      assert.equal(await holdAnswer(t.store.db, { ...mine, idHash: 'n'.repeat(64) }, answer(1)), undefined);
      assert.ok(await holdAnswer(t.store.db, other, answer(1)), 'another org is not held back');
      await expireHeldAnswers(t.store.db, Date.now() + KEEP_MS + 1_000);
    });
  });
}
