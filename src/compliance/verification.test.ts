/**
 * PAD-LOG-01's verification across collections, on both engines: the first is full, the next
 * ones verify only the new entries with a consistency proof from the checkpoint verified before
 * (the proof is in the evidence, checkable with the org's verifier key alone); a tampered new
 * entry fails the incremental one, a tampered old entry is found by the full one (on request,
 * after a failure, and when the last full one is older than the policy), and the evidence says
 * which kind ran and why.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { verifyConsistency } from '../audit/index.ts';
import { openCheckpoint, parseVerifierKey } from '../audit/note.ts';
import { compliancePlatform } from '../server/deps.ts';
import { type ComplianceOrg, complianceOrg, logEvent } from '../testing/compliance.ts';
import { STORE_KINDS } from '../testing/stores.ts';
import { collectEvidence, type EvidenceRecord } from './index.ts';

interface Verification {
  ok: boolean;
  mode: 'full' | 'incremental';
  why: string;
  verifiedFrom: number;
  verifiedToSize: number;
  checkpoint: { treeSize: number; note: string };
  since: { treeSize: number; note: string } | null;
  consistency: string[] | null;
  lastFull: { at: string; treeSize: number; daysAgo: number } | null;
}

type Collected = { id: string; log: { treeSize: number; range: [number, number] }; results: any[] };

for (const kind of STORE_KINDS) {
  describe(`audit-log verification across collections [${kind}]`, () => {
    let o: ComplianceOrg;
    before(async () => {
      o = await complianceOrg(kind);
    });
    after(async () => o?.t.cleanup());

    const collect = (query = ''): Promise<Collected> =>
      o.as('owner', 'post', `/compliance/collect${query}`, 201);
    const logResult = (c: Collected) => c.results.find((r) => r.controlId === 'PAD-LOG-01')!;
    const verification = async (c: Collected): Promise<EvidenceRecord & { data: Verification }> => {
      const id = logResult(c).evidence[0];
      return o.as('auditor', 'get', `/compliance/evidence/${id}`, 200);
    };
    const event = () =>
      logEvent(o, { type: 'system', id: 'test' }, 'test.happened', { type: 'thing', id: 't1' });

    /** Replaces entry `index`'s stored content, runs `fn`, and puts the content back. */
    async function withTampered<T>(index: number, fn: () => Promise<T>): Promise<T> {
      const entries = () =>
        o.t.store.db.updateTable('audit_entries').where('log_id', '=', o.org.id).where('idx', '=', index);
      const { leaf } = await o.t.store.db
        .selectFrom('audit_entries')
        .select('leaf')
        .where('log_id', '=', o.org.id)
        .where('idx', '=', index)
        .executeTakeFirstOrThrow();
      await entries().set({ leaf: '{"tampered":true}' }).execute();
      try {
        return await fn();
      } finally {
        await entries().set({ leaf }).execute();
      }
    }

    test('the first collection verifies the whole log; the next verifies the new entries with a consistency proof from the verified checkpoint', async () => {
      for (let i = 0; i < 5; i++) await event();
      const first = await collect();
      const v1 = await verification(first);
      assert.equal(v1.data.mode, 'full');
      assert.equal(v1.data.why, 'first verification');
      assert.deepEqual(v1.log?.range, [0, first.log.treeSize]);
      assert.match(
        logResult(first).reason,
        /^Audit log verified in full to size [\d,]+ .*first verification/,
      );

      for (let i = 0; i < 5; i++) await event();
      const second = await collect();
      const v2 = await verification(second);
      assert.equal(v2.data.mode, 'incremental', v2.data.why);
      assert.equal(v2.data.verifiedFrom, first.log.treeSize);
      assert.equal(v2.data.verifiedToSize, second.log.treeSize);
      assert.deepEqual(v2.log?.range, [first.log.treeSize, second.log.treeSize]);
      assert.equal(v2.log?.treeSize, second.log.treeSize);
      assert.equal(v2.data.since?.note, v1.data.checkpoint.note);
      assert.equal(v2.data.lastFull?.treeSize, first.log.treeSize);
      const r = logResult(second);
      assert.equal(r.status === 'fail', false, r.reason);
      assert.match(
        r.reason,
        new RegExp(
          `^Audit log verified incrementally from size ${first.log.treeSize} to ${second.log.treeSize}: .* the whole log was last verified in full 0 days ago, to size ${first.log.treeSize}`,
        ),
      );

      // The proof stands on its own: the two signed checkpoints and the org's verifier key.
      const { verifierKey } = await o.as('auditor', 'get', '/audit/key', 200);
      const key = parseVerifierKey(verifierKey);
      const a = openCheckpoint(v2.data.since!.note, key);
      const b = openCheckpoint(v2.data.checkpoint.note, key);
      const proof = v2.data.consistency!.map((h) => Buffer.from(h, 'base64'));
      assert.ok(verifyConsistency(a.size, b.size, a.root, b.root, proof));
      assert.equal(verifyConsistency(a.size, b.size, b.root, b.root, proof), false);
    });

    test('a tampered new entry fails the incremental verification, naming it; the next collection verifies in full', async () => {
      const { index } = await event();
      const c = await withTampered(index, () => collect());
      const v = await verification(c);
      assert.equal(v.data.mode, 'incremental');
      const r = logResult(c);
      assert.equal(r.status, 'fail');
      assert.match(
        r.reason,
        new RegExp(`^Audit log verification \\(incremental\\) failed \\(entry #${index}\\)`),
      );

      const next = await collect();
      const n = await verification(next);
      assert.equal(n.data.mode, 'full');
      assert.equal(n.data.why, 'the previous verification failed');
      assert.notEqual(logResult(next).status, 'fail', logResult(next).reason);
    });

    test('a tampered old entry is found by the full verification, on request', async () => {
      await event();
      await withTampered(2, async () => {
        // The daily collection reads only what is new: it does not see the old entry.
        const daily = await collect();
        assert.equal((await verification(daily)).data.mode, 'incremental');
        assert.notEqual(logResult(daily).status, 'fail', logResult(daily).reason);
        const full = await collect('?verify=full');
        const v = await verification(full);
        assert.equal(v.data.mode, 'full');
        assert.equal(v.data.why, 'requested');
        assert.deepEqual(v.log?.range, [0, full.log.treeSize]);
        assert.match(logResult(full).reason, /^Audit log verification \(full\) failed \(entry #2\)/);
      });
      await o.as('owner', 'post', '/compliance/collect?verify=sometimes', 400);
    });

    test('the whole log is verified again when the last full verification is older than the policy', async () => {
      const platform = { ...compliancePlatform(o.deps), fullVerificationDays: 3 };
      const by = { trigger: 'request' as const, actor: { type: 'system' as const, id: 'test' } };
      // Passed, full (the previous one failed); then incremental while the full one is recent.
      await collectEvidence(o.t.store.db, o.org.id, platform, by);
      await event();
      const soon = await collectEvidence(o.t.store.db, o.org.id, platform, by, {
        now: new Date(Date.now() + 2 * 86_400_000),
      });
      assert.equal((await verification(soon)).data.mode, 'incremental');
      await event();
      const later = await collectEvidence(o.t.store.db, o.org.id, platform, by, {
        now: new Date(Date.now() + 3 * 86_400_000 + 60_000),
      });
      const v = await verification(later);
      assert.equal(v.data.mode, 'full');
      assert.match(v.data.why, /^scheduled: the whole log was last verified 3 days ago/);
    });
  });
}
