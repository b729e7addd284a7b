/** The record steps alone, on a stand-in trail: what each entry says, with the run id in its header. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditInput, AuditTrail } from '../../audit/index.ts';
import type { GateRequest } from '../request.ts';
import { recordAllowed, recordDenial, recordResult, recordUnknownTool } from './record.ts';

function trail() {
  const appended: Array<AuditInput & { written?: boolean }> = [];
  const audit = {
    appendDurable: async (i: AuditInput) => {
      appended.push(i);
      return { id: `aud_${appended.length - 1}` };
    },
    appendWritten: async (i: AuditInput) => {
      appended.push({ ...i, written: true });
      return { id: `aud_${appended.length - 1}` };
    },
  } as unknown as AuditTrail;
  return { audit, appended };
}

const call: GateRequest = {
  caller: { orgId: 'org_1', agentId: 'agt_a', onBehalfOf: 'usr_p', requestId: 'req_1', runId: 'run_1' },
  connectionId: 'con_1',
  tool: 'echo',
  args: { message: 'hi' },
  approval: 'return',
};

test('allowed, then its result: the agent as actor, the tool as target, request and run on both', async () => {
  const { audit, appended } = trail();
  const id = await recordAllowed(
    audit,
    call,
    { allowed: true, grants: ['g1'], policyVersion: 'pv', errors: [] },
    null,
  );
  assert.equal(id, 'aud_0');
  await recordResult(audit, call, id, { durationMs: 1.5, scrub: (x) => x, result: { content: [] } });
  const [allowed, completed] = appended;
  for (const e of [allowed!, completed!]) {
    assert.deepEqual(e.actor, { type: 'agent', id: 'agt_a' });
    assert.deepEqual(e.target, { type: 'tool', id: 'con_1/echo' });
    assert.equal(e.requestId, 'req_1');
    assert.equal(e.runId, 'run_1');
  }
  assert.equal(allowed!.action, 'tool.call.allowed');
  assert.deepEqual(allowed!.details, {
    grants: ['g1'],
    policyVersion: 'pv',
    approvalId: null,
    args: { message: 'hi' },
    onBehalfOf: 'usr_p',
  });
  assert.equal(completed!.action, 'tool.call.completed');
  assert.equal(completed!.written, true, 'the result waits to be written, not for a sync of its own');
  assert.equal(completed!.outcome, 'success');
  assert.deepEqual(completed!.details, {
    allowedEntryId: 'aud_0',
    durationMs: 1.5,
    resultBytes: 2,
    error: null,
  });
});

test('a denial says why; a name never shown is on record with the name', async () => {
  const { audit, appended } = trail();
  await recordDenial(audit, call, { reason: 'the agent is stopped', grants: [], policyVersion: null });
  await recordUnknownTool(audit, call.caller, 'nope__tool', { x: 1 });
  assert.deepEqual(
    appended.map((e) => [e.action, e.outcome, e.target?.id, (e.details as { reason: string }).reason]),
    [
      ['tool.call.denied', 'denied', 'con_1/echo', 'the agent is stopped'],
      ['tool.call.denied', 'denied', 'nope__tool', 'no such tool for this agent'],
    ],
  );
  assert.ok(appended.every((e) => e.runId === 'run_1'));
});
