/**
 * Each control's test is a pure function of its evidence: the same evidence, the same result.
 * Here the rules the storage tests do not reach, driven with evidence written by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { criterion } from '../catalog.ts';
import type { FigureEntry } from '../figures.ts';
import type { EvidenceDraft } from '../types.ts';
import { activity } from './activity.ts';
import { auditLog } from './audit-log.ts';
import { availability } from './availability.ts';
import { changes } from './changes.ts';
import { egress } from './egress.ts';
import { CONTROLS } from './index.ts';
import { isolation } from './isolation.ts';
import { stopsIn } from './kill-switch.ts';
import { monitoring } from './monitoring.ts';
import { outputs } from './outputs.ts';
import { retention } from './retention.ts';
import { sso } from './sso.ts';

const ev = (kind: string, data: unknown): EvidenceDraft => ({ kind, data });
const now = '2026-12-10T12:00:00.000Z';
const ago = (ms: number) => new Date(Date.parse(now) - ms).toISOString();

test('every control has a unique PAD id, a description, criteria from the catalog, and fails when its evidence is missing', () => {
  const ids = CONTROLS.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const c of CONTROLS) {
    assert.match(c.id, /^PAD-[A-Z]+-\d\d$/);
    assert.ok(c.description.length > 40 && c.criteria.length > 0, c.id);
    for (const id of c.criteria) assert.ok(criterion(id), `${c.id}: ${id} is not a catalog criterion`);
    const r = c.test([]);
    assert.ok(r.status === 'fail' || r.status === 'not_applicable', `${c.id} on no evidence: ${r.status}`);
  }
});

test('single sign-on: missing warns; every sign-in becoming an admin fails', () => {
  assert.equal(
    sso.test([ev('sso.settings', { configured: false, issuer: null, autoProvisionRole: null })]).status,
    'warning',
  );
  const admin = sso.test([
    ev('sso.settings', { configured: true, issuer: 'https://idp', autoProvisionRole: 'admin' }),
  ]);
  assert.deepEqual(admin, {
    status: 'fail',
    reason: 'Anyone https://idp signs in becomes an admin (autoProvisionRole).',
  });
  assert.equal(
    sso.test([ev('sso.settings', { configured: true, issuer: 'https://idp', autoProvisionRole: 'member' })])
      .status,
    'pass',
  );
});

test('availability: a cell down for more than 5 minutes fails; restarts that recovered warn', () => {
  const health = (downSince: string | null, byState: Record<string, number>) => [
    ev('cells.health', {
      events: 3,
      byState,
      restarts: byState.backoff ?? 0,
      last: { time: now, state: 'backoff' },
      downSince,
      asOf: now,
    }),
  ];
  const down = availability.test(health(ago(6 * 60_000), { backoff: 2 }));
  assert.equal(down.status, 'fail');
  assert.match(down.reason, /down since/);
  assert.equal(availability.test(health(ago(60_000), { backoff: 1, ready: 2 })).status, 'warning');
  assert.equal(availability.test(health(null, { ready: 3 })).status, 'pass');
});

test('retention: no policy warns; a policy whose job has not run in two days fails', () => {
  const erasures = ev('retention.erasures', { value: {}, records: [] });
  const policy = (days: number | null, ok: string | null) =>
    ev('retention.policy', {
      auditRetentionDays: days,
      runTextRecording: 'full',
      lastJobRun: null,
      lastSucceededAt: ok,
      asOf: now,
    });
  assert.equal(retention.test([policy(null, null), erasures]).status, 'warning');
  assert.equal(retention.test([policy(30, ago(3 * 86_400_000)), erasures]).status, 'fail');
  assert.equal(retention.test([policy(30, ago(3_600_000)), erasures]).status, 'pass');
  // The record policy (runs, conversations, memory) is evidence too: its daily job must run.
  const withRecords = (memoryDays: number | null, ok: string | null) =>
    ev('retention.policy', {
      ...(policy(30, ago(3_600_000)).data as object),
      records: {
        runRetentionDays: null,
        conversationRetentionDays: null,
        memoryRetentionDays: memoryDays,
        lastJobRun: null,
        lastSucceededAt: ok,
      },
    });
  const kept = retention.test([withRecords(null, null), erasures]);
  assert.equal(kept.status, 'pass');
  assert.match(kept.reason, /keeps run records, conversations and memory/);
  assert.equal(retention.test([withRecords(90, null), erasures]).status, 'fail');
  const deleting = retention.test([withRecords(90, ago(3_600_000)), erasures]);
  assert.equal(deleting.status, 'pass');
  assert.match(deleting.reason, /agents’ memory after 90 days/);
});

test('isolation and egress: no sandbox fails both; unenforced properties and private entries warn', () => {
  const sandbox = (provider: string | null, notEnforced: string[] = []) =>
    ev('cells.sandbox', {
      provider,
      problem: provider ? null : 'bubblewrap is not installed.',
      selfTest: provider ? { ok: true, reason: null } : null,
      guarantees: ['own namespaces', ...notEnforced],
      notEnforced,
      runsAsOrgUsers: notEnforced.length === 0,
      hostUser: { uid: 2000000003, allocatedAt: now },
    });
  assert.deepEqual(isolation.test([sandbox(null)]), {
    status: 'fail',
    reason: 'No sandbox: bubblewrap is not installed.',
  });
  assert.equal(isolation.test([sandbox('none')]).status, 'fail');
  assert.equal(
    isolation.test([sandbox('bubblewrap', ['not enforced here: a host user per org'])]).status,
    'warning',
  );
  assert.match(isolation.test([sandbox('bubblewrap')]).reason, /host user 2000000003/);
  // The self-test from inside: a refused attempt that was allowed fails, with the attempt.
  const probed = (ok: boolean) =>
    ev('cells.sandbox', {
      ...(sandbox('bubblewrap').data as object),
      probe: {
        ok,
        reason: ok ? null : 'connect 127.0.0.1:4000: expected refused, got ALLOWED',
        checks: [
          { attempt: 'write /usr', expected: 'refused', result: 'refused EROFS', ok: true },
          {
            attempt: 'connect 127.0.0.1:4000',
            expected: 'refused',
            result: ok ? 'refused ECONNREFUSED' : 'ALLOWED',
            ok,
          },
          { attempt: 'write own /cell', expected: 'allowed', result: 'ALLOWED', ok: true },
        ],
      },
    });
  assert.deepEqual(isolation.test([probed(false)]), {
    status: 'fail',
    reason:
      'The sandbox’s self-test from inside a cell failed: connect 127.0.0.1:4000: expected refused, got ALLOWED.',
  });
  assert.match(
    isolation.test([probed(true)]).reason,
    /self-test from inside a cell: 2 attempts refused, its own folder writable\.$/,
  );
  const allow = (enforced: boolean, allowPrivate: boolean) => [
    ev('egress.allowlist', {
      enforced,
      explicit: [{ host: '10.0.0.5', port: 11434, allowPrivate }],
      admitted: [],
    }),
    ev('egress.refusals', { value: { 'host:evil.test:443': 2 } }),
  ];
  assert.equal(egress.test(allow(false, false)).status, 'fail');
  assert.equal(egress.test(allow(true, true)).status, 'warning');
  assert.match(egress.test(allow(true, false)).reason, /2 connections refused in the period/);
});

test('the log: a failed verification fails with its entry; changes stuck in the outbox fail; a gap between collections warns', () => {
  const v = auditLog.test([
    ev('audit.verification', {
      ok: false,
      verifiedToSize: 0,
      checkpoints: 1,
      erased: 0,
      problem: { index: 41, message: 'its action column says "x"' },
      checkpoint: { treeSize: 50, note: '' },
      custody: null,
    }),
  ]);
  assert.deepEqual(v, {
    status: 'fail',
    reason: 'Audit log verification (full) failed (entry #41): its action column says "x".',
  });
  const incremental = (daysAgo: number | null) =>
    auditLog.test([
      ev('audit.verification', {
        ok: true,
        mode: 'incremental',
        why: 'continues from the checkpoint verified at size 18,000',
        verifiedFrom: 18_000,
        verifiedToSize: 18_204,
        checkpoints: 3,
        erased: 0,
        problem: null,
        checkpoint: { treeSize: 18_204, note: '' },
        lastFull: daysAgo === null ? null : { at: ago(daysAgo * 86_400_000), treeSize: 12_000, daysAgo },
        fullEveryDays: 7,
        custody: { offHost: true, description: 'a webhook' },
      }),
    ]);
  assert.deepEqual(incremental(2), {
    status: 'pass',
    reason:
      'Audit log verified incrementally from size 18,000 to 18,204: 204 new entries, 3 new signed checkpoints, and a consistency proof from the verified checkpoint; the whole log was last verified in full 2 days ago, to size 12,000.',
  });
  // A full verification overdue (it failed to run, or the policy was not followed) is a warning.
  assert.equal(incremental(9).status, 'warning');
  assert.match(incremental(null).reason, /last verified in full never — longer ago than the 7-day policy/);
  const stuck = changes.test([
    ev('log.by_action', { value: {} }),
    ev('changes.pending', { stuck: 2, oldest: ago(600_000) }),
  ]);
  assert.equal(stuck.status, 'fail');
  const counted = changes.test([
    ev('log.by_action', { value: { 'team.created': 2, 'tool.call.allowed': 9, 'person.signed_in': 3 } }),
    ev('changes.pending', { stuck: 0, oldest: null }),
  ]);
  assert.match(counted.reason, /^2 configuration changes in the period/);
  const gap = monitoring.test([
    ev('collections.history', {
      collections: 1,
      previousAt: ago(3 * 86_400_000),
      previouslyFailing: ['PAD-VEND-01'],
      asOf: now,
    }),
  ]);
  assert.equal(gap.status, 'warning');
  assert.match(gap.reason, /untested for 3 days; failing at the previous one: PAD-VEND-01/);
});

test('activity: more than a quarter of runs failing warns', () => {
  const runs = (failed: number) => [
    ev('runs.by_status', { byStatus: { completed: 10 - failed, failed } }),
    ev('model_calls.by_model', { value: { 'model:openai/gpt-5': 4 } }),
  ];
  assert.equal(activity.test(runs(3)).status, 'warning');
  assert.equal(activity.test(runs(2)).status, 'pass');
});

test('stops: time to halt is from the stop entry to the last run it ended; an org stop covers every agent; resumes close it', () => {
  let i = 0;
  const e = (action: string, actor: string, target: string | null, time: string): FigureEntry => ({
    index: i++,
    time,
    actor: { type: actor.split(':')[0]!, id: actor.split(':')[1]! },
    action,
    target: target ? { type: target.split(':')[0]!, id: target.split(':')[1]! } : null,
    outcome: 'success',
  });
  const t = (s: number) => new Date(Date.parse(now) + s).toISOString();
  const found = stopsIn([
    e('agent.stopped', 'person:usr_1', 'agent:agt_a', t(0)),
    e('run.stopped', 'agent:agt_a', 'agent:agt_a', t(40)),
    e('run.stopped', 'agent:agt_a', 'agent:agt_a', t(120)),
    e('agent.resumed', 'person:usr_1', 'agent:agt_a', t(1000)),
    e('tool.call.allowed', 'agent:agt_a', 'tool:con_1/echo', t(1500)),
    e('org.agents.stopped', 'person:usr_1', 'org:org_1', t(2000)),
    e('run.stopped', 'agent:agt_b', 'agent:agt_b', t(2010)),
    e('tool.call.allowed', 'agent:agt_b', 'tool:con_1/echo', t(2500)),
  ]);
  assert.deepEqual(
    found.stops.map((s) => [s.scope, s.agent, s.runsEnded, s.msToHalt]),
    [
      ['agent', 'agt_a', 2, 120],
      ['org', null, 1, 10],
    ],
  );
  assert.deepEqual(found.callsWhileStopped, [{ index: 7, time: t(2500), agent: 'agt_b', stopIndex: 5 }]);
});

test('output validation and feedback: no agents is not applicable; a flag open past 14 days fails; otherwise pass', () => {
  const schemas = (agents: number) =>
    ev('outputs.schemas', { agents, withSchema: ['agt_a'], withChecks: [] });
  const flags = (overdue: string[]) =>
    ev('outputs.feedback', { open: overdue.length + 1, resolved: 2, overdue });
  assert.equal(outputs.test([schemas(0), flags([])]).status, 'not_applicable');
  const late = outputs.test([schemas(3), flags(['fbk_old'])]);
  assert.equal(late.status, 'fail');
  assert.match(late.reason, /1 flag .* has waited more than 14 days .*fbk_old/);
  const fine = outputs.test([schemas(3), flags([])]);
  assert.deepEqual(fine, {
    status: 'pass',
    reason:
      '1 of 3 agents declare an output schema and 0 carry checks; 3 flags on answers (2 resolved), none open past 14 days.',
  });
});
