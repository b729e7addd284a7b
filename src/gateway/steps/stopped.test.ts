/** The stopped step alone: which standing and which ended signal refuse a call, with what words on record. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentStanding } from '../../agents/index.ts';
import { UnauthenticatedError } from '../../errors/index.ts';
import { CancelledError, StoppedError } from '../refusals.ts';
import { stoppedRefusal } from './stopped.ts';

const standing = (s: Partial<AgentStanding> = {}): AgentStanding => ({
  agentState: 'active',
  orgStoppedAt: null,
  grantsVersion: 1,
  approvals: { waitSeconds: 30, minutes: 60 },
  checks: null,
  readAt: performance.now(),
  ...s,
});
const live = () => new AbortController().signal;
const ended = (reason: unknown) => AbortSignal.abort(reason);

test('an active agent of a running org goes on', () => {
  assert.equal(stoppedRefusal(standing(), live()), null);
});

test('a stopped agent, or any agent of a stopped org, is refused with agent_stopped, on record', () => {
  const agent = stoppedRefusal(standing({ agentState: 'stopped' }), live())!;
  assert.equal(agent.error.code, 'agent_stopped');
  assert.match(agent.error.message, /This agent is stopped/);
  assert.deepEqual(agent.denial, { reason: 'the agent is stopped', grants: [], policyVersion: null });
  const org = stoppedRefusal(standing({ orgStoppedAt: '2026-01-01T00:00:00.000Z' }), live())!;
  assert.match(org.error.message, /organization's agents are stopped/);
  assert.equal(org.denial?.reason, "the organization's agents are stopped");
});

test('a brake (the signal ended by the kill switch) refuses as the stop it stands for', () => {
  const org = stoppedRefusal(standing(), ended(new StoppedError(true)))!;
  assert.equal(org.denial?.reason, "the organization's agents are stopped");
  const agent = stoppedRefusal(standing(), ended(new StoppedError(false)))!;
  assert.equal(agent.denial?.reason, 'the agent is stopped');
  // Anything else that aborts a call is read as the kill switch.
  assert.equal(stoppedRefusal(standing(), ended(undefined))!.error.code, 'agent_stopped');
});

test('a call whose token ended, or whose caller gave up, is refused with that reason', () => {
  const revoked = new UnauthenticatedError('token_revoked', 'The agent token was revoked.');
  const token = stoppedRefusal(standing(), ended(revoked))!;
  assert.equal(token.error, revoked);
  assert.equal(token.denial?.reason, 'The agent token was revoked.');
  const gone = stoppedRefusal(standing(), ended(new CancelledError()))!;
  assert.equal(gone.error.code, 'call_cancelled');
  assert.equal(gone.denial?.reason, 'cancelled by the caller');
});

test('after a pause for approval: stopped, deleted or ended meanwhile, each says so', () => {
  const stopped = stoppedRefusal(standing({ agentState: 'stopped' }), live(), true)!;
  assert.equal(stopped.denial?.reason, 'the agent was stopped while waiting for approval');
  const deleted = stoppedRefusal(undefined, live(), true)!;
  assert.equal(deleted.error.code, 'agent_stopped');
  const gone = stoppedRefusal(standing(), ended(new CancelledError()), true)!;
  assert.equal(gone.denial?.reason, 'the caller gave up while waiting for approval');
  assert.equal(stoppedRefusal(standing(), live(), true), null);
});
