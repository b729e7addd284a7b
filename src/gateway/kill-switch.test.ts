/**
 * The kill switch's sequence alone, with stand-in parts and bus: brake (in the parts' order) the
 * moment the stop is allowed, then the commit, then publish, then release; a refused stop brakes
 * and publishes nothing; a failed commit releases its brakes and publishes nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import type { Database } from '../store/index.ts';
import { KillSwitch, type StopPart, stopWhy } from './kill-switch.ts';
import type { SessionEvent, StopBus } from './stop-bus.ts';

function setup() {
  const steps: string[] = [];
  const part = (name: string): StopPart => ({
    brake: (t, why) => {
      steps.push(`${name} brake ${t.kind}: ${why}`);
      return () => steps.push(`${name} release`);
    },
    end: async (e, why) => {
      steps.push(`${name} end ${e.kind}: ${why}`);
    },
  });
  const bus = {
    publish: async (e: SessionEvent) => {
      steps.push(`publish ${e.kind}`);
      await killSwitch.apply(e);
    },
  } as unknown as StopBus;
  const killSwitch = new KillSwitch({ db: {} as Kysely<Database>, bus, parts: [part('runs'), part('gate')] });
  return { steps, killSwitch };
}

const agent = { kind: 'agent', orgId: 'org_1', agentId: 'agt_1' } as const;

test('brake the moment it is allowed, commit, publish (every part ends it), then release', async () => {
  const { steps, killSwitch } = setup();
  const ack = await killSwitch.stop(agent, async (allowed) => {
    steps.push('check');
    allowed();
    steps.push('commit');
    return 'acknowledged';
  });
  assert.equal(ack, 'acknowledged');
  assert.deepEqual(steps, [
    'check',
    'runs brake agent: the agent was stopped',
    'gate brake agent: the agent was stopped',
    'commit',
    'publish agent',
    'runs end agent: the agent was stopped',
    'gate end agent: the agent was stopped',
    'runs release',
    'gate release',
  ]);
});

test('a refused stop ends nothing; a failed commit releases its brakes and publishes nothing', async () => {
  const refused = setup();
  await assert.rejects(
    refused.killSwitch.stop(agent, async () => {
      throw new Error('not your agent');
    }),
  );
  assert.deepEqual(refused.steps, []);
  const failed = setup();
  await assert.rejects(
    failed.killSwitch.stop({ kind: 'org', orgId: 'org_1' }, async (allowed) => {
      allowed();
      throw new Error('disk full');
    }),
  );
  assert.deepEqual(failed.steps, [
    "runs brake org: the organization's agents were stopped",
    "gate brake org: the organization's agents were stopped",
    'runs release',
    'gate release',
  ]);
});

test('every event has its words', () => {
  assert.equal(stopWhy({ kind: 'agent-tokens', orgId: 'o', tokenIds: [] }), 'the agent token was revoked');
  assert.equal(stopWhy({ kind: 'secret', orgId: 'o', secretId: 's' }), 'a secret it was given changed');
});
