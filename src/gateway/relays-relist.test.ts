/**
 * A server that keeps saying its list changed: each listing again is on record (and each changed
 * definition), so a storm would flood the audit log. A few changes are listed again at once; past
 * them, one more every ten seconds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { relayHarness } from './relay-harness.ts';

test('a list_changed storm is listed again a few times, not twice a second', async () => {
  let relisted = 0;
  let told = 0;
  const { server, client } = await relayHarness(
    {
      delivery: { deliver: () => void told++ },
      relist: async () => {
        relisted++;
        return true;
      },
    },
    { name: 'stormy', capabilities: { tools: { listChanged: true } } },
  );
  // Four seconds of a change every 100 ms (under the 50-a-second bound on notifications).
  const until = Date.now() + 4_000;
  while (Date.now() < until) {
    await server.sendToolListChanged();
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 1_000));
  // Unbounded, a change every 100 ms for four seconds is listed again about eight times.
  assert.ok(
    relisted >= 1 && relisted <= 5,
    `at most five listings at once, then one every ten seconds (${relisted})`,
  );
  assert.equal(told, relisted, 'the agent is told after each');
  await client.close();
});
