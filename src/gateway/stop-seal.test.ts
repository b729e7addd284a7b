/** Stops between replicas: acted on only when a replica sealed them for an org on record, fresh and once. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { BusSeal } from './bus-seal.ts';
import type { SessionEvent } from './stop-bus.ts';
import { STOP_FRESH_MS, sealedStops } from './stop-seal.ts';

function replicas() {
  const keys = new Map([
    ['org_a', randomBytes(32)],
    ['org_b', randomBytes(32)],
  ]);
  const asked: string[] = [];
  const busSeal = new BusSeal(async (orgId) => {
    asked.push(orgId);
    const key = keys.get(orgId);
    if (!key) throw new Error(`a data key made for ${orgId}`);
    return key;
  });
  let clock = Date.parse('2026-12-06T12:00:00Z');
  const onRecord = async (orgId: string) => keys.has(orgId);
  const now = () => clock;
  return {
    busSeal,
    asked,
    /** Two replicas with the same keys, each remembering what it has seen. */
    sender: sealedStops(busSeal, onRecord, now),
    receiver: sealedStops(busSeal, onRecord, now),
    later: (ms: number) => {
      clock += ms;
    },
  };
}

const EVERY_KIND: SessionEvent[] = [
  { kind: 'agent', orgId: 'org_a', agentId: 'agt_1' },
  { kind: 'org', orgId: 'org_a' },
  { kind: 'run', orgId: 'org_a', runId: 'run_1' },
  { kind: 'agent-tokens', orgId: 'org_a', issuedBy: 'usr_1' },
  { kind: 'agent-tokens', orgId: 'org_a', tokenIds: ['tok_1', 'tok_2'] },
  { kind: 'connection', orgId: 'org_a', connectionId: 'con_1' },
  { kind: 'secret', orgId: 'org_a', secretId: 'sec_1' },
  { kind: 'person-connection', orgId: 'org_a', userId: 'usr_1', connectionId: 'con_1' },
  { kind: 'person-connection', orgId: 'org_a', userId: 'usr_1' },
];

test('every kind of stop sealed by one replica opens on another as it was sent, its content not in clear', async () => {
  const r = replicas();
  for (const event of EVERY_KIND) {
    const sent = await r.sender.seal(event);
    assert.doesNotMatch(JSON.stringify(sent), /agt_1|tok_1|con_1|sec_1|usr_1|run_1/);
    assert.deepEqual(await r.receiver.open(JSON.parse(JSON.stringify(sent))), event);
  }
});

test('a stop in clear, as any database role could NOTIFY it, or in the old unsealed form, opens nothing', async () => {
  const r = replicas();
  for (const forged of [
    { kind: 'org', orgId: 'org_a' },
    { kind: 'agent', orgId: 'org_a', agentId: 'agt_1' },
    { v: 1, orgId: 'org_a', sealed: 'v1.AAAA.AAAA.AAAA' },
    { v: 1, orgId: 'org_a', sealed: { kind: 'org', orgId: 'org_a' } },
    { v: 2, orgId: 'org_a', sealed: 'x' },
    null,
    'org_a',
    [],
  ])
    assert.equal(await r.receiver.open(forged), undefined, JSON.stringify(forged));
});

test("a stop opens only for the org it was sealed for, and one naming another org than its seal's opens nothing", async () => {
  const r = replicas();
  const sent = (await r.sender.seal({ kind: 'org', orgId: 'org_a' })) as { sealed: string };
  assert.equal(await r.receiver.open({ ...sent, orgId: 'org_b' }), undefined, 'moved to another org');
  // A replica's seal for org_a around a stop of org_b (as no replica makes one): refused.
  const crossed = await r.busSeal.seal('org_a', 'stop', {
    event: { kind: 'org', orgId: 'org_b' },
    at: Date.parse('2026-12-06T12:00:00Z'),
    id: crypto.randomUUID(),
  });
  assert.equal(await r.receiver.open({ v: 1, orgId: 'org_a', sealed: crossed }), undefined);
  // Sealed for the MCP bus's routes, it is no stop.
  const mcp = await r.busSeal.seal('org_a', 'answer|abc', { kind: 'org', orgId: 'org_a' });
  assert.equal(await r.receiver.open({ v: 1, orgId: 'org_a', sealed: mcp }), undefined);
});

test('a forged org id makes no data key: an org not on record is not opened for', async () => {
  const r = replicas();
  const sent = (await r.sender.seal({ kind: 'org', orgId: 'org_a' })) as { sealed: string };
  r.asked.length = 0;
  assert.equal(await r.receiver.open({ ...sent, orgId: 'org_forged' }), undefined);
  assert.deepEqual(r.asked, [], 'no key asked for');
});

test('a stop read off the channel and sent again ends nothing: once, and only while fresh', async () => {
  const r = replicas();
  const sent = await r.sender.seal({ kind: 'agent', orgId: 'org_a', agentId: 'agt_1' });
  assert.ok(await r.receiver.open(sent), 'the first time');
  assert.equal(await r.receiver.open(sent), undefined, 'replayed at once');
  r.later(STOP_FRESH_MS + 1);
  assert.equal(await r.receiver.open(sent), undefined, 'replayed once its id is forgotten: stale');
  const fresh = await r.sender.seal({ kind: 'agent', orgId: 'org_a', agentId: 'agt_1' });
  r.later(STOP_FRESH_MS - 1000);
  assert.ok(await r.receiver.open(fresh), 'a stop arriving within the window (clocks apart) is acted on');
});

test('a stop from a clock more than the window ahead is refused; one tampered with opens nothing', async () => {
  const r = replicas();
  const ahead = sealedStops(
    r.busSeal,
    async () => true,
    () => Date.parse('2026-12-06T12:00:00Z') + STOP_FRESH_MS + 1,
  );
  assert.equal(await r.receiver.open(await ahead.seal({ kind: 'org', orgId: 'org_a' })), undefined);
  const sent = (await r.sender.seal({ kind: 'org', orgId: 'org_a' })) as {
    v: 1;
    orgId: string;
    sealed: string;
  };
  const [v, iv, ct, tag] = sent.sealed.split('.');
  const flipped = `${v}.${iv}.${ct!.slice(0, -2)}${ct!.slice(-2) === 'AA' ? 'AB' : 'AA'}.${tag}`;
  assert.equal(await r.receiver.open({ ...sent, sealed: flipped }), undefined);
});

test('a sealed stop of no shape a replica sends (an unknown kind, no tokens, a missing id) is not acted on', async () => {
  const r = replicas();
  for (const event of [
    { kind: 'everything', orgId: 'org_a' },
    { kind: 'agent-tokens', orgId: 'org_a', tokenIds: [] },
    { kind: 'agent', orgId: 'org_a' },
    { kind: 'run', orgId: 'org_a', runId: 7 },
  ]) {
    const sealed = await r.busSeal.seal('org_a', 'stop', {
      event,
      at: Date.parse('2026-12-06T12:00:00Z'),
      id: crypto.randomUUID(),
    });
    assert.equal(await r.receiver.open({ v: 1, orgId: 'org_a', sealed }), undefined, JSON.stringify(event));
  }
});

test('a flood of forged org ids makes at most 8 lookups at once; an org found on record is not looked up again', async () => {
  const busSeal = new BusSeal(async () => randomBytes(32));
  let open = 0;
  let most = 0;
  let asked = 0;
  const wire = sealedStops(busSeal, async (orgId) => {
    asked++;
    open++;
    most = Math.max(most, open);
    await new Promise((r) => setTimeout(r, 20));
    open--;
    return orgId === 'org_real';
  });
  const forged = Array.from({ length: 200 }, (_, i) =>
    wire.open({ v: 1, orgId: `org_forged_${i}`, sealed: 'x' }),
  );
  assert.ok((await Promise.all(forged)).every((e) => e === undefined));
  assert.equal(most, 8);
  assert.equal(asked, 8, 'the rest ignored without a lookup');
  asked = 0;
  const sent = await wire.seal({ kind: 'org', orgId: 'org_real' });
  assert.ok(await wire.open(sent));
  for (let i = 0; i < 3; i++) await wire.open({ ...(sent as object), sealed: 'not it' });
  assert.equal(asked, 1, 'looked up once');
});

test('an opened stop keeps the keys in the order its sender wrote them', async () => {
  const r = replicas();
  const event = { orgId: 'org_a', agentId: 'agt_1', kind: 'agent' } as SessionEvent;
  const opened = await r.receiver.open(await r.sender.seal(event));
  assert.equal(JSON.stringify(opened), JSON.stringify(event));
});
