/**
 * The kill registry. Calls held on agent tokens: an end (a token revoked, its issuer removed)
 * aborts exactly the calls it covers, with `token_revoked`; a call whose token was checked before
 * an end it learns of only afterwards never starts. The kill switch: a stop ends its agent's (or
 * org's) calls with `agent_stopped`, a brake also refuses new ones until released, and a call whose
 * standing was read before a stop it learns of only afterwards never starts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KillRegistry } from './kill-registry.ts';
import { CancelledError } from './refusals.ts';

const reasonOf = (s: AbortSignal) => (s.reason as { code?: string; message?: string } | undefined) ?? {};

describe('calls held on agent tokens', () => {
  const who = (tokenId: string, issuedBy = 'usr_a', orgId = 'org_1') => ({
    orgId,
    agentId: 'agt_1',
    token: { id: tokenId, issuedBy },
  });

  test("removing an issuer ends their tokens' calls in that org only", () => {
    const calls = new KillRegistry();
    const mine = calls.hold(who('atk_1'), performance.now());
    const mineToo = calls.hold(who('atk_2'), performance.now());
    const someoneElse = calls.hold(who('atk_3', 'usr_b'), performance.now());
    const otherOrg = calls.hold(who('atk_4', 'usr_a', 'org_2'), performance.now());
    calls.end({ kind: 'agent-tokens', orgId: 'org_1', issuedBy: 'usr_a' });
    assert.ok(mine.signal.aborted && mineToo.signal.aborted);
    assert.equal(reasonOf(mine.signal).code, 'token_revoked');
    assert.match(reasonOf(mine.signal).message ?? '', /removed from the organization/);
    assert.equal(someoneElse.signal.aborted, false);
    assert.equal(otherOrg.signal.aborted, false);
    assert.equal(calls.inFlight(), 2);
  });

  test('revoking tokens ends the calls on those tokens only', () => {
    const calls = new KillRegistry();
    const one = calls.hold(who('atk_1'), performance.now());
    const two = calls.hold(who('atk_2'), performance.now());
    calls.end({ kind: 'agent-tokens', orgId: 'org_1', tokenIds: ['atk_2'] });
    assert.equal(one.signal.aborted, false);
    assert.equal(two.signal.aborted, true);
    assert.equal(reasonOf(two.signal).message, 'The agent token was revoked.');
  });

  test('a call whose token was checked before an end never starts; one checked after it does', () => {
    const calls = new KillRegistry();
    const checkedBefore = performance.now();
    calls.end({ kind: 'agent-tokens', orgId: 'org_1', issuedBy: 'usr_a' });
    const late = calls.hold(who('atk_1'), checkedBefore);
    assert.equal(late.signal.aborted, true, 'its check may have read the token before the revocation');
    assert.equal(reasonOf(late.signal).code, 'token_revoked');
    const fresh = calls.hold(who('atk_9'), performance.now());
    assert.equal(fresh.signal.aborted, false, 'a check after the end read the database after it');
    assert.equal(calls.inFlight(), 1);
  });

  test('a released call is no longer held; an end does not reach it', () => {
    const calls = new KillRegistry();
    const done = calls.hold(who('atk_1'), performance.now());
    done.release();
    calls.end({ kind: 'agent-tokens', orgId: 'org_1', tokenIds: ['atk_1'] });
    assert.equal(done.signal.aborted, false);
    assert.equal(calls.inFlight(), 0);
  });

  test('a hold far later than its check is refused outright (no end is remembered that long)', () => {
    const calls = new KillRegistry();
    const held = calls.hold(who('atk_1'), performance.now() - 6 * 60_000);
    assert.equal(held.signal.aborted, true);
  });
});

describe('the kill switch in the registry', () => {
  const call = (agentId: string, orgId = 'org_1') => ({ orgId, agentId });

  test("stopping an agent ends its calls only; stopping an org ends all of that org's", () => {
    const kills = new KillRegistry();
    const one = kills.hold(call('agt_1'), performance.now());
    const two = kills.hold(call('agt_2'), performance.now());
    const elsewhere = kills.hold(call('agt_3', 'org_2'), performance.now());
    kills.end({ kind: 'agent', orgId: 'org_1', agentId: 'agt_1' });
    assert.equal(one.signal.aborted, true);
    assert.equal(reasonOf(one.signal).code, 'agent_stopped');
    assert.match(reasonOf(one.signal).message ?? '', /This agent is stopped/);
    assert.equal(two.signal.aborted, false);
    kills.end({ kind: 'org', orgId: 'org_1' });
    assert.equal(two.signal.aborted, true);
    assert.match(reasonOf(two.signal).message ?? '', /organization's agents are stopped/);
    assert.equal(elsewhere.signal.aborted, false);
    assert.equal(kills.inFlight(), 1);
    assert.equal(kills.inFlight({ agentId: 'agt_3' }), 1);
  });

  test('a brake refuses new calls until released; a call read before a stop it learns of later never starts', () => {
    const kills = new KillRegistry();
    const readBefore = performance.now();
    const release = kills.brake({ kind: 'agent', orgId: 'org_1', agentId: 'agt_1' });
    assert.equal(kills.hold(call('agt_1'), performance.now()).signal.aborted, true, 'refused while braked');
    assert.equal(kills.hold(call('agt_2'), performance.now()).signal.aborted, false, 'another agent runs');
    release();
    release(); // twice is once
    assert.equal(
      kills.hold(call('agt_1'), readBefore).signal.aborted,
      true,
      'its standing may have been read before the stop',
    );
    assert.equal(kills.hold(call('agt_1'), performance.now()).signal.aborted, false, 'read after it: runs');
  });

  test('two brakes on one agent: it stays braked until both are released', () => {
    const kills = new KillRegistry();
    const target = { kind: 'agent', orgId: 'org_1', agentId: 'agt_1' } as const;
    const first = kills.brake(target);
    const second = kills.brake(target);
    first();
    assert.equal(kills.hold(call('agt_1'), performance.now()).signal.aborted, true);
    second();
    assert.equal(kills.hold(call('agt_1'), performance.now()).signal.aborted, false);
  });

  test('a released call is not ended by a later stop; a caller may end its own call', () => {
    const kills = new KillRegistry();
    const done = kills.hold(call('agt_1'), performance.now());
    done.release();
    kills.end({ kind: 'agent', orgId: 'org_1', agentId: 'agt_1' });
    assert.equal(done.signal.aborted, false);
    const mine = kills.hold(call('agt_2'), performance.now());
    mine.abort(new CancelledError());
    assert.equal(mine.signal.aborted, true);
    assert.equal(kills.inFlight(), 0);
  });

  test('catching up: the calls whose agent or token ended meanwhile end, with that reason', () => {
    const kills = new KillRegistry();
    const stopped = kills.hold(call('agt_1'), performance.now());
    const onToken = kills.hold(
      { ...call('agt_2'), token: { id: 'atk_1', issuedBy: 'usr_a' } },
      performance.now(),
    );
    const fine = kills.hold(call('agt_3'), performance.now());
    kills.sweep((h) =>
      h.agentId === 'agt_1'
        ? { kind: 'agent', orgId: h.orgId, agentId: h.agentId }
        : h.token
          ? { kind: 'agent-tokens', orgId: h.orgId, tokenIds: [h.token.id] }
          : null,
    );
    assert.equal(reasonOf(stopped.signal).code, 'agent_stopped');
    assert.equal(reasonOf(onToken.signal).code, 'token_revoked');
    assert.equal(fine.signal.aborted, false);
    assert.deepEqual(
      kills.holders().map((h) => h.agentId),
      ['agt_3'],
    );
  });
});

test("a run's stop ends that run's calls only, with run_stopped, and refuses its next call while braked", () => {
  const calls = new KillRegistry();
  const who = (runId?: string) => ({ orgId: 'org_1', agentId: 'agt_1', runId });
  const mine = calls.hold(who('run_1'), performance.now());
  const otherRun = calls.hold(who('run_2'), performance.now());
  const noRun = calls.hold(who(), performance.now());
  const readBefore = performance.now();
  const release = calls.brake({ kind: 'run', orgId: 'org_1', runId: 'run_1' });
  assert.equal(mine.signal.aborted, true);
  assert.equal(reasonOf(mine.signal).code, 'run_stopped');
  assert.equal(otherRun.signal.aborted, false, 'another run of the same agent goes on');
  assert.equal(noRun.signal.aborted, false, 'a call from outside any run goes on');
  assert.equal(calls.hold(who('run_1'), performance.now()).signal.aborted, true, 'braked: refused');
  release();
  assert.equal(calls.hold(who('run_1'), readBefore).signal.aborted, true, 'read before the stop: refused');
  assert.equal(calls.inFlight(), 2);
});
