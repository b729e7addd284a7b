/**
 * Kill-switch drills and the incident register, on both engines: a drill stops a live agent
 * through the real kill switch and its time to halt is the distance between two log entries;
 * a call allowed to a stopped agent fails the kill-switch control; a serious incident left
 * without an update fails the incident control; a tabletop exercise is recorded as a test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ComplianceOrg, complianceOrg, logEvent, makeAgent } from '../testing/compliance.ts';
import { runRow } from '../testing/run-rows.ts';
import { STORE_KINDS } from '../testing/stores.ts';

for (const kind of STORE_KINDS) {
  describe(`exercises and incidents [${kind}]`, () => {
    let o: ComplianceOrg;
    before(async () => {
      o = await complianceOrg(kind);
    });
    after(async () => o?.t.cleanup());

    const control = async (id: string) =>
      (await o.as('owner', 'post', '/compliance/collect', 201)).results.find((r: any) => r.controlId === id);

    /** A run of the agent in flight, as the coordinator stores one (the runtime has its own tests). */
    const runningRun = async (agent: string) => {
      const now = new Date().toISOString();
      const conversation = `cnv_${agent.slice(4)}`;
      await o.t.store.db
        .insertInto('conversations')
        .values({
          id: conversation,
          org_id: o.org.id,
          agent_id: agent,
          person_id: o.org.people.owner.id,
          title: 'drill',
          messages: '[]',
          created_at: now,
          updated_at: now,
        })
        .execute();
      const run = `run_${agent.slice(4)}`;
      await o.t.store.db
        .insertInto('runs')
        .values(
          runRow({
            id: run,
            org_id: o.org.id,
            agent_id: agent,
            conversation_id: conversation,
            person_id: o.org.people.owner.id,
            status: 'running',
            input: 'work',
            steps: 0,
            input_tokens: 0,
            output_tokens: 0,
            created_at: now,
          }),
        )
        .execute();
      return run;
    };

    const entry = (index: number) =>
      o.t.store.db
        .selectFrom('audit_entries')
        .select(['action', 'time', 'target_id', 'run_id'])
        .where('log_id', '=', o.org.id)
        .where('idx', '=', index)
        .executeTakeFirstOrThrow();

    test('a drill stops the agent through the kill switch, measures the time to halt from the log, and resumes it', async () => {
      const agent = await makeAgent(o, 'runner');
      const before = await control('PAD-KILL-01');
      assert.equal(before.status, 'warning');
      assert.match(before.reason, /^No kill-switch drill in the last 90 days/);

      const run = await runningRun(agent);
      const drill = await o.as('admin', 'post', '/compliance/drills', 201, { agentId: agent });
      assert.equal(drill.kind, 'kill_switch_drill');
      assert.equal(drill.outcome, 'pass');
      const f = drill.facts;
      assert.deepEqual(f.runsInFlight, [run]);
      assert.equal(f.runEnds.length, 1);
      // The figure is two entries of the log apart: anyone with the log can measure it again.
      const stop = await entry(f.stopIndex);
      const end = await entry(f.runEnds[0].index);
      assert.equal(stop.action, 'agent.stopped');
      assert.equal(stop.target_id, agent);
      assert.equal(end.action, 'run.stopped');
      assert.equal(end.run_id, run);
      assert.equal(f.msToHalt, Date.parse(end.time) - Date.parse(stop.time));
      assert.ok(f.msToHalt >= 0);
      // The run ended; the agent runs again.
      const row = await o.t.store.db
        .selectFrom('runs')
        .select('status')
        .where('id', '=', run)
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'stopped');
      assert.equal((await o.as('owner', 'get', `/agents/${agent}`, 200)).state, 'active');
      const listed = await o.as('auditor', 'get', '/compliance/exercises', 200);
      assert.equal(listed.exercises[0].id, drill.id);

      const after = await control('PAD-KILL-01');
      assert.equal(after.status, 'pass', after.reason);
      assert.match(after.reason, new RegExp(`halted in ${f.msToHalt} ms\\.$`));

      // Only a running agent can be drilled; the auditor cannot drill.
      await o.as('owner', 'post', `/agents/${agent}/stop`, 200);
      const refused = await o.as('owner', 'post', '/compliance/drills', 409, { agentId: agent });
      assert.equal(refused.error.code, 'agent_stopped');
      await o.as('auditor', 'post', '/compliance/drills', 403, { agentId: agent });
    });

    test('a call the gate allowed to a stopped agent fails the kill-switch control, with the entry', async () => {
      const agent = await makeAgent(o, 'leaky');
      await o.as('owner', 'post', `/agents/${agent}/stop`, 200);
      await o.deps.audit.flush();
      const { index } = await logEvent(o, { type: 'agent', id: agent }, 'tool.call.allowed', {
        type: 'tool',
        id: 'con_x/echo',
      });
      const r = await control('PAD-KILL-01');
      assert.equal(r.status, 'fail');
      assert.match(
        r.reason,
        new RegExp(`^The gate allowed 1 call of a stopped agent \\(first: entry #${index}, ${agent}`),
      );
    });

    test('a stop from an earlier collection still counts: a call allowed to the agent after it fails the control', async () => {
      const agent = await makeAgent(o, 'sleeper');
      await o.as('owner', 'post', `/agents/${agent}/stop`, 200);
      await o.deps.audit.flush();
      const stop = await o.t.store.db
        .selectFrom('audit_entries')
        .select('idx')
        .where('log_id', '=', o.org.id)
        .where('action', '=', 'agent.stopped')
        .where('target_id', '=', agent)
        .executeTakeFirstOrThrow();
      // The stop falls in this collection's range; the call in the next one's.
      await control('PAD-KILL-01');
      const { index } = await logEvent(o, { type: 'agent', id: agent }, 'tool.call.allowed', {
        type: 'tool',
        id: 'con_x/echo',
      });
      const r = await control('PAD-KILL-01');
      assert.equal(r.status, 'fail');
      assert.match(
        r.reason,
        new RegExp(`\\(first: entry #${index}, ${agent}, stopped at entry #${stop.idx}\\)`),
      );
    });

    test('incidents keep a timeline; a serious one left without an update fails; a tabletop is recorded as a test', async () => {
      const inc = await o.as('admin', 'post', '/compliance/incidents', 201, {
        title: 'Model key posted in a chat',
        severity: 'high',
        summary: 'A key was pasted into a support channel.',
      });
      assert.equal(inc.status, 'open');
      const updated = await o.as('admin', 'patch', `/compliance/incidents/${inc.id}`, 200, {
        status: 'contained',
        note: 'Key rotated; channel history purged.',
        addActions: [{ action: 'Add a secret scanner to the channel', owner: 'secops' }],
      });
      assert.deepEqual(
        updated.timeline.map((l: any) => l.note),
        [
          'Opened (high): Model key posted in a chat',
          'Status open → contained',
          'Action: Add a secret scanner to the channel',
          'Key rotated; channel history purged.',
        ],
      );
      await o.as('auditor', 'patch', `/compliance/incidents/${inc.id}`, 403, { note: 'x' });

      const noTabletop = await control('PAD-INC-01');
      assert.equal(noTabletop.status, 'warning');
      assert.match(noTabletop.reason, /^No tabletop exercise in the last 365 days/);

      // Eight days without an update on a high-severity incident that is still contained.
      const old = new Date(Date.now() - 8 * 86_400_000).toISOString();
      const timeline = updated.timeline.map((l: any) => ({ ...l, time: old }));
      await o.t.store.db
        .updateTable('compliance_incidents')
        .set({ timeline: JSON.stringify(timeline) })
        .where('id', '=', inc.id)
        .execute();
      const stalled = await control('PAD-INC-01');
      assert.equal(stalled.status, 'fail');
      assert.equal(
        stalled.reason,
        '1 serious incident open with no update in 7 days: Model key posted in a chat.',
      );

      const done = await o.as('admin', 'patch', `/compliance/incidents/${inc.id}`, 200, {
        status: 'resolved',
        doneActions: [updated.actions[0].id],
      });
      assert.ok(done.resolvedAt);
      const tabletop = await o.as('owner', 'post', '/compliance/exercises', 201, {
        title: 'Agent exfiltrates customer data',
        heldAt: new Date().toISOString(),
        participants: ['Sam (security)', 'Ada (platform)'],
        scenario: 'An agent granted a CRM tool starts exporting contacts to an unknown host.',
        findings: 'Egress refusals were noticed in 4 minutes; the kill switch was pulled in 6.',
        outcome: 'pass',
      });
      assert.equal(tabletop.kind, 'tabletop');
      const passing = await control('PAD-INC-01');
      assert.equal(passing.status, 'pass', passing.reason);
    });
  });
}
