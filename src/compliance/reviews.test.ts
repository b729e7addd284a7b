/**
 * Access reviews, on both engines: an agents review sets grants against the tools used in the
 * period (granted and never used shows), a revoke goes through the real grant revocation, the
 * sign-off is evidence with a figure recomputable from the log; people reviews remove through
 * the real removal; auditors comment and change nothing else; a revocation that did not take
 * fails the control.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseLeaf } from '../audit/index.ts';
import {
  type ComplianceOrg,
  complianceOrg,
  logEvent,
  makeAgent,
  makeConnection,
} from '../testing/compliance.ts';
import { STORE_KINDS } from '../testing/stores.ts';
import { computeFigure, type EvidenceRecord, type FigureEntry } from './index.ts';

for (const kind of STORE_KINDS) {
  describe(`access reviews [${kind}]`, () => {
    let o: ComplianceOrg;
    before(async () => {
      o = await complianceOrg(kind);
    });
    after(async () => o?.t.cleanup());

    const result = async (id: string) =>
      (await o.as('owner', 'post', '/compliance/collect', 201)).results.find((r: any) => r.controlId === id);

    test('agents: granted and never used shows; revoke is the real revocation; the sign-off is evidence recomputable from the log', async () => {
      const agent = await makeAgent(o, 'clerk');
      const conn = await makeConnection(o, 'orders', [
        { name: 'lookup_order', description: 'Look an order up' },
        { name: 'refund', description: 'Refund an order' },
      ]);
      const lookup = await o.as('owner', 'post', `/agents/${agent}/grants`, 201, {
        connectionId: conn,
        tool: 'lookup_order',
      });
      const refund = await o.as('owner', 'post', `/agents/${agent}/grants`, 201, {
        connectionId: conn,
        tool: 'refund',
        requiresApproval: true,
      });
      for (let i = 0; i < 2; i++)
        await logEvent(o, { type: 'agent', id: agent }, 'tool.call.allowed', {
          type: 'tool',
          id: `${conn}/lookup_order`,
        });

      const review = await o.as('admin', 'post', '/compliance/reviews', 201, { kind: 'agents' });
      assert.equal(review.status, 'open');
      const line = (grant: string) => review.lines.find((l: any) => l.item.id === grant);
      assert.equal(review.lines.length, 2);
      assert.equal(line(lookup.id).finding, 'used');
      assert.equal(line(lookup.id).facts.calls, 2);
      assert.equal(line(refund.id).finding, 'unused');
      assert.equal(line(refund.id).facts.calls, 0);

      // Not signed off while a line is undecided.
      const early = await o.as('owner', 'post', `/compliance/reviews/${review.id}/sign-off`, 409);
      assert.equal(early.error.code, 'review_incomplete');

      // The auditor reads and comments; deciding, signing off and opening reviews are refused.
      await o.as('auditor', 'post', `/compliance/reviews/${review.id}/lines/${line(refund.id).id}`, 403, {
        decision: 'keep',
      });
      await o.as('auditor', 'post', `/compliance/reviews/${review.id}/sign-off`, 403);
      await o.as('auditor', 'post', '/compliance/reviews', 403, { kind: 'people' });
      const comment = await o.as('auditor', 'post', `/compliance/reviews/${review.id}/comments`, 201, {
        body: 'Why is refund granted if never used?',
        lineId: line(refund.id).id,
      });
      assert.equal(comment.authorRole, 'auditor');

      await o.as('owner', 'post', `/compliance/reviews/${review.id}/lines/${line(lookup.id).id}`, 200, {
        decision: 'keep',
      });
      const revoked = await o.as(
        'owner',
        'post',
        `/compliance/reviews/${review.id}/lines/${line(refund.id).id}`,
        200,
        {
          decision: 'revoke',
          note: 'never used in 90 days',
        },
      );
      assert.equal(revoked.decision, 'revoke');
      const grants = await o.as('owner', 'get', `/agents/${agent}/grants`, 200);
      const after = grants.grants.find((g: any) => g.id === refund.id);
      assert.equal(after.status, 'revoked');
      assert.equal(after.revokedBy, o.org.people.owner.id);
      // A revocation is final.
      await o.as('owner', 'post', `/compliance/reviews/${review.id}/lines/${line(refund.id).id}`, 409, {
        decision: 'keep',
      });

      const signed = await o.as('admin', 'post', `/compliance/reviews/${review.id}/sign-off`, 200);
      assert.equal(signed.status, 'signed_off');
      assert.equal(signed.comments.length, 1);
      const record: EvidenceRecord = await o.as(
        'auditor',
        'get',
        `/compliance/evidence/${signed.evidenceId}`,
        200,
      );
      assert.equal(record.controlId, 'PAD-IAM-02');
      assert.deepEqual((record.data as any).decisions, { keep: 1, revoke: 1 });
      const use = (await o.as('auditor', 'get', '/compliance/evidence?kind=access_review.tool_use', 200))
        .evidence[0] as EvidenceRecord;
      assert.deepEqual((use.data as any).value, { [`tool:${conn}/lookup_order`]: 2 });
      const rows = await o.t.store.db
        .selectFrom('audit_entries')
        .select(['idx', 'leaf'])
        .where('log_id', '=', o.org.id)
        .where('idx', '>=', use.log!.range[0])
        .where('idx', '<', use.log!.range[1])
        .execute();
      const entries: FigureEntry[] = rows.map((r) => {
        const h = parseLeaf(r.leaf!)! as any;
        return { index: Number(r.idx), ...h };
      });
      assert.deepEqual(computeFigure(use.figure!, entries), (use.data as any).value);
      await o.as('owner', 'post', `/compliance/reviews/${review.id}/lines/${line(lookup.id).id}`, 409, {
        decision: 'defer',
      });
      const r = await result('PAD-IAM-02');
      assert.equal(r.status, 'warning');
      assert.match(r.reason, /No access review of people signed off in the last 90 days/);
    });

    test('people: a revoke removes the person for real; once both are reviewed the control passes, and a revocation that did not take fails it', async () => {
      const review = await o.as('owner', 'post', '/compliance/reviews', 201, { kind: 'people' });
      assert.equal(review.lines.length, 4);
      const member = review.lines.find((l: any) => l.subject.id === o.org.people.member.id);
      assert.equal(member.finding, 'dormant', 'no sign-in or token use in the period');
      for (const l of review.lines)
        await o.as('owner', 'post', `/compliance/reviews/${review.id}/lines/${l.id}`, 200, {
          decision: l.id === member.id ? 'revoke' : 'keep',
        });
      const people = await o.as('owner', 'get', '/people', 200);
      assert.ok(!people.people.some((p: any) => p.id === o.org.people.member.id), 'the member is removed');
      const signed = await o.as('owner', 'post', `/compliance/reviews/${review.id}/sign-off`, 200);
      // Last sign-ins and token use were read from the log: the record names the checkpoint.
      const record = await o.as('auditor', 'get', `/compliance/evidence/${signed.evidenceId}`, 200);
      assert.equal(record.kind, 'access_review.signed_off');
      assert.deepEqual(record.log, {
        treeSize: review.treeSize,
        checkpoint: review.checkpoint,
        range: [0, review.treeSize],
      });
      const passing = await result('PAD-IAM-02');
      assert.equal(passing.status, 'pass', passing.reason);

      // The membership comes back behind the review's back: the control fails, and so does removal.
      await o.t.store.db
        .insertInto('memberships')
        .values({
          org_id: o.org.id,
          user_id: o.org.people.member.id,
          role: 'member',
          created_at: new Date().toISOString(),
        })
        .execute();
      const collected = await o.as('owner', 'post', '/compliance/collect', 201);
      const byId = (id: string) => collected.results.find((x: any) => x.controlId === id);
      assert.equal(byId('PAD-IAM-02').status, 'fail');
      assert.match(byId('PAD-IAM-02').reason, /1 revocation decided in a review still stands: membership /);
      assert.equal(byId('PAD-IAM-01').status, 'fail');
      assert.match(
        byId('PAD-IAM-01').reason,
        /1 removed person still holds access: member@acme\.test \(a membership\)/,
      );
    });
  });
}
