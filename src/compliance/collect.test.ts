/**
 * Collections, on both engines: evidence hashed and recomputable from the log's hashed headers
 * under its signed checkpoint; collections tiling the log; controls failing with their reason
 * when their evidence shows a failure (a destructive tool granted with no approval rule, a model
 * key older than the rotation policy); the scheduled job; the grid and its customer criteria.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseLeaf } from '../audit/index.ts';
import { openCheckpoint, parseVerifierKey } from '../audit/note.ts';
import { silentLogger } from '../log/index.ts';
import { recentRuns, Scheduler } from '../scheduler/index.ts';
import { compliancePlatform, platformJobs } from '../server/deps.ts';
import {
  type ComplianceOrg,
  complianceOrg,
  logEvent,
  makeAgent,
  makeConnection,
} from '../testing/compliance.ts';
import { STORE_KINDS } from '../testing/stores.ts';
import { until } from '../testing/until.ts';
import { CONTROLS, computeFigure, type EvidenceRecord, evidenceHash, type FigureEntry } from './index.ts';

type Collected = { id: string; log: { treeSize: number; range: [number, number] }; results: any[] };

for (const kind of STORE_KINDS) {
  describe(`evidence collection [${kind}]`, () => {
    let o: ComplianceOrg;
    before(async () => {
      o = await complianceOrg(kind);
    });
    after(async () => o?.t.cleanup());

    const collect = (): Promise<Collected> => o.as('owner', 'post', '/compliance/collect', 201);
    const result = (c: Collected, id: string) => c.results.find((r) => r.controlId === id)!;
    const evidenceOf = async (c: Collected) =>
      (await o.as('auditor', 'get', '/compliance/evidence?limit=500', 200)).evidence.filter(
        (e: EvidenceRecord) => c.results.some((r) => r.evidence.includes(e.id)),
      ) as EvidenceRecord[];

    /** The hashed headers of entries [a, b), read from the leaves (not the indexed columns). */
    const headers = async (a: number, b: number): Promise<FigureEntry[]> => {
      const rows = await o.t.store.db
        .selectFrom('audit_entries')
        .select(['idx', 'leaf'])
        .where('log_id', '=', o.org.id)
        .where('idx', '>=', a)
        .where('idx', '<', b)
        .orderBy('idx')
        .execute();
      assert.equal(rows.length, b - a, 'every entry of the range is in the log');
      return rows.map((r) => {
        const h = parseLeaf(r.leaf!)!;
        return {
          index: Number(r.idx),
          time: h.time,
          actor: h.actor,
          action: h.action,
          target: h.target,
          outcome: h.outcome,
          run: h.v === 2 ? h.run : null,
        };
      });
    };

    test('every record is hashed as types.ts says, and every figure recomputes from the hashed headers of its range under its signed checkpoint', async () => {
      const agent = await makeAgent(o, 'clerk');
      const conn = await makeConnection(o, 'orders', [
        { name: 'lookup_order', description: 'Look an order up' },
      ]);
      await o.as('owner', 'post', `/agents/${agent}/grants`, 201, {
        connectionId: conn,
        tool: 'lookup_order',
      });
      const tool = { type: 'tool', id: `${conn}/lookup_order` };
      for (let i = 0; i < 3; i++) await logEvent(o, { type: 'agent', id: agent }, 'tool.call.allowed', tool);
      await logEvent(o, { type: 'agent', id: agent }, 'tool.call.denied', tool, 'denied');
      await logEvent(o, { type: 'agent', id: agent }, 'model.called', { type: 'model', id: 'openai/gpt-5' });

      const first = await collect();
      assert.equal(first.results.length, CONTROLS.length);
      assert.equal(first.log.range[0], 0);
      const records = await evidenceOf(first);
      assert.ok(records.length >= CONTROLS.length, `${records.length} records`);
      const { verifierKey } = await o.as('auditor', 'get', '/audit/key', 200);
      let figures = 0;
      for (const r of records) {
        assert.equal(evidenceHash(r), r.hash, `${r.kind}: the hash covers {kind, data, figure}`);
        if (!r.figure) continue;
        figures++;
        assert.ok(r.log, `${r.kind}: a figure carries the log it was computed at`);
        const cp = openCheckpoint(r.log.checkpoint, parseVerifierKey(verifierKey));
        assert.equal(cp.size, r.log.treeSize, `${r.kind}: the checkpoint is signed for its tree size`);
        const entries = await headers(r.log.range[0], r.log.range[1]);
        assert.deepEqual(
          (r.data as { value: unknown }).value,
          computeFigure(r.figure, entries),
          `${r.kind}: recomputed from the entries`,
        );
      }
      assert.ok(figures >= 8, `${figures} figures`);
      // Records read from entries that are not counts carry the log they read too: the whole log
      // up to the checkpoint (last sign-ins, model providers in use, the verification).
      for (const k of ['people.roles', 'vendors.register', 'audit.verification', 'drills.kill_switch']) {
        const r = records.find((x) => x.kind === k)!;
        assert.deepEqual(r.log?.range, [0, first.log.treeSize], k);
      }
      // Every record read from entries carries the tree size and the checkpoint signed for it.
      const fromEntries = records.filter((r) => r.figure || r.log);
      for (const k of ['stops', 'tool_calls.coverage', 'retention.erasures', 'grants.history'])
        assert.ok(
          fromEntries.some((r) => r.kind === k),
          `${k} carries the log it was computed at`,
        );
      for (const r of fromEntries) {
        const cp = openCheckpoint(r.log!.checkpoint, parseVerifierKey(verifierKey));
        assert.equal(cp.size, r.log!.treeSize, r.kind);
        assert.ok(r.log!.range[1] <= r.log!.treeSize, r.kind);
      }
      // Records of state alone carry none.
      assert.equal(records.find((x) => x.kind === 'secrets.inventory')!.log, null);
      const calls = records.find((r) => r.kind === 'tool_calls.by_action')!.data as {
        value: Record<string, number>;
      };
      assert.equal(calls.value['tool.call.allowed'], 3);
      assert.equal(calls.value['tool.call.denied'], 1);

      // The next collection continues where this one ended: nothing counted twice.
      await logEvent(o, { type: 'agent', id: agent }, 'tool.call.allowed', tool);
      const second = await collect();
      assert.equal(second.log.range[0], first.log.range[1]);
      const again = (await evidenceOf(second)).find((r) => r.kind === 'tool_calls.by_action')!;
      assert.deepEqual((again.data as { value: unknown }).value, { 'tool.call.allowed': 1 });
      assert.equal(result(second, 'PAD-GATE-01').status, 'pass', result(second, 'PAD-GATE-01').reason);

      // Tampered data no longer matches its hash.
      const tampered = { ...again, data: { value: { 'tool.call.allowed': 0 } } };
      assert.notEqual(evidenceHash(tampered), again.hash);
    });

    test('an allowed call no grant covered fails PAD-GATE-01 with the entry', async () => {
      const agent = await makeAgent(o, 'rogue');
      const conn = await makeConnection(o, 'files', [{ name: 'read_file', description: 'Read a file' }]);
      const { index } = await logEvent(o, { type: 'agent', id: agent }, 'tool.call.allowed', {
        type: 'tool',
        id: `${conn}/read_file`,
      });
      const c = await collect();
      const r = result(c, 'PAD-GATE-01');
      assert.equal(r.status, 'fail');
      assert.match(r.reason, new RegExp(`entry #${index}, ${agent} calling ${conn}/read_file`));
    });

    test('an agent granted a destructive tool with no approval rule fails PAD-GATE-02, naming it; with approval it passes', async () => {
      const agent = await makeAgent(o, 'cleaner');
      const conn = await makeConnection(o, 'warehouse', [
        { name: 'list_items', description: 'List the items' },
        { name: 'purgeItems', description: 'Removes every item of a shelf' },
      ]);
      await o.as('owner', 'post', `/agents/${agent}/grants`, 201, { connectionId: conn, tool: 'list_items' });
      const risky = await o.as('owner', 'post', `/agents/${agent}/grants`, 201, {
        connectionId: conn,
        tool: 'purgeItems',
      });
      const failing = result(await collect(), 'PAD-GATE-02');
      assert.equal(failing.status, 'fail');
      assert.match(
        failing.reason,
        /1 high-risk tool granted with no approval rule: cleaner may call purgeItems \(its name says "purge"\)/,
      );

      await o.as('owner', 'delete', `/agents/${agent}/grants/${risky.id}`, 200);
      await o.as('owner', 'post', `/agents/${agent}/grants`, 201, {
        connectionId: conn,
        tool: 'purgeItems',
        requiresApproval: true,
      });
      const passing = result(await collect(), 'PAD-GATE-02');
      assert.equal(passing.status, 'pass', passing.reason);
      assert.match(passing.reason, /1 high-risk tool granted, each needs a person’s approval/);
    });

    test('a model key older than the rotation policy fails PAD-VAULT-01; the evidence holds no value nor its last characters', async () => {
      const value = 'sk-proj-0123456789abcdefWXYZ';
      const secret = await o.as('owner', 'post', '/secrets', 201, {
        name: 'openai-prod',
        kind: 'model_key',
        provider: 'openai',
        value,
      });
      const old = new Date(Date.now() - 100 * 86_400_000).toISOString();
      await o.t.store.db
        .updateTable('secrets')
        .set({ created_at: old })
        .where('id', '=', secret.id)
        .execute();
      const c = await collect();
      const r = result(c, 'PAD-VAULT-01');
      assert.equal(r.status, 'fail');
      assert.match(r.reason, /^1 model key not rotated in 90 days: openai-prod \(100 days\)\.$/);
      const stored = JSON.stringify(
        await o.t.store.db.selectFrom('compliance_evidence').selectAll().execute(),
      );
      assert.ok(!stored.includes(value) && !stored.includes('WXYZ'), 'no secret value or hint in evidence');

      // The policy is the org's: 120 days makes the same key current; rotating it resets its age.
      await o.as('owner', 'patch', '', 200, { settings: { keyRotationDays: 120 } });
      assert.equal(result(await collect(), 'PAD-VAULT-01').status, 'pass');
      await o.as('owner', 'patch', '', 200, { settings: { keyRotationDays: 90 } });
      await o.as('owner', 'put', `/secrets/${secret.id}/value`, 200, { value: `${value}2` });
      assert.equal(result(await collect(), 'PAD-VAULT-01').status, 'pass');
    });

    test('output validation says what it found, with its reason; the grid shows customer criteria and control states', async () => {
      const c = await collect();
      const pi = result(c, 'PAD-PI-01');
      assert.ok(['pass', 'not_applicable'].includes(pi.status), pi.reason);
      assert.match(pi.reason, /output schema|no agents/);
      const grid = await o.as('auditor', 'get', '/compliance/criteria', 200);
      const row = (id: string) => grid.criteria.find((x: any) => x.id === id);
      assert.equal(grid.criteria.length, 61);
      for (const id of ['CC1.2', 'CC6.4', 'CC1.4']) {
        assert.equal(row(id).responsibility, 'customer');
        assert.equal(row(id).state, 'customer');
      }
      assert.ok(grid.coverage.paddock.includes('CC6.1'));
      // CC6.1 is supported by several controls; without a sandbox here isolation fails, so it shows fail.
      assert.equal(row('CC6.1').state, 'fail');
      assert.equal(result(c, 'PAD-CELL-01').status, 'fail');
      const controls = await o.as('auditor', 'get', '/compliance/controls', 200);
      assert.equal(controls.controls.length, CONTROLS.length);
      assert.ok(controls.controls.every((k: any) => k.latest?.collectionId === c.id));
      const detail = await o.as('auditor', 'get', '/compliance/controls/PAD-LOG-01', 200);
      assert.equal(detail.control.latest.status === 'fail', false, detail.control.latest.reason);
      assert.match(
        detail.control.latest.reason,
        /^Audit log verified (in full to size|incrementally from size) \d/,
      );
      assert.ok(detail.history.length >= 2, 'history kept');
      assert.equal(detail.evidence[0].kind, 'audit.verification');
      // Auditors read; they cannot collect; members see none of it.
      await o.as('auditor', 'post', '/compliance/collect', 403);
      await o.as('member', 'get', '/compliance/criteria', 403);
    });

    test('the scheduled job compliance.collect collects for every org, on record', async () => {
      const before = await o.t.store.db.selectFrom('compliance_collections').select('id').execute();
      const s = new Scheduler({
        store: o.t.store,
        databaseUrl: o.t.databaseUrl,
        log: silentLogger,
        firstRunAfterMs: 0,
        jitterMs: 0,
        jobs: platformJobs(undefined, () => compliancePlatform(o.deps)).filter(
          (j) => j.name === 'compliance.collect',
        ),
      });
      s.start();
      try {
        const [run] = await until(
          async () => {
            const runs = await recentRuns(o.t.store.db, 'compliance.collect', 1);
            return runs[0]?.outcome === 'succeeded' ? runs : undefined;
          },
          { what: 'a successful compliance.collect run' },
        );
        assert.deepEqual(run!.counts, { orgs: 1, failed: 0, failing: run!.counts!.failing! });
      } finally {
        await s.close();
      }
      const made = await o.t.store.db
        .selectFrom('compliance_collections')
        .selectAll()
        .where(
          'id',
          'not in',
          before.map((b) => b.id),
        )
        .execute();
      assert.equal(made.length, 1);
      assert.equal(made[0]!.trigger, 'schedule');
      await o.deps.audit.flush();
      const entry = await o.t.store.db
        .selectFrom('audit_entries')
        .select(['actor_id', 'target_id'])
        .where('log_id', '=', o.org.id)
        .where('action', '=', 'compliance.evidence.collected')
        .where('target_id', '=', made[0]!.id)
        .executeTakeFirst();
      assert.equal(entry?.actor_id, 'compliance');
    });
  });
}
