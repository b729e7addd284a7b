/**
 * A run's meter at its end: a step's settlement is not waited on by the run (it goes on with its
 * next step), so closing the meter — which the run's end waits for before it is on record —
 * waits for every settlement under way: a run on record as ended has its usage counted.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { KyselyPlugin, PluginTransformResultArgs, QueryResult, UnknownRow } from 'kysely';
import { initOrg, operatorCaller } from '../identity/index.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { counter } from './ledger.ts';
import { periodOf } from './limits.ts';
import { RunMeter } from './meter.ts';

for (const kind of STORE_KINDS) {
  describe(`a run's meter [${kind}]`, () => {
    let t: TestStore | undefined;
    after(() => t?.cleanup());

    test('closing waits for a settlement under way: the usage is counted, nothing left reserved', async () => {
      t = await openTestStore(kind);
      const { org } = await initOrg(t.store.db, operatorCaller(), {
        slug: 'acme',
        ownerEmail: 'o@acme.test',
      });
      // Every write answered 100 ms late: a settlement is still under way when the run ends.
      const slowWrites: KyselyPlugin = {
        transformQuery: (args) => args.node,
        async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
          if (args.result.numAffectedRows !== undefined) await new Promise((r) => setTimeout(r, 100));
          return args.result;
        },
      };
      const meter = new RunMeter(
        t.store.db.withPlugin(slowWrites),
        {
          orgId: org.id,
          agentId: 'agt_meter',
          limits: { tokensPerDay: 10_000 },
          model: { provider: 'openai', model: 'm' },
          maxOutputTokens: 100,
        },
        0,
      );
      assert.equal(await meter.reserve(50), null);
      const key = {
        orgId: org.id,
        agentId: 'agt_meter',
        kind: 'tokens' as const,
        period: periodOf.day(new Date()),
      };
      assert.deepEqual(await counter(t.store.db, key), { used: 0, reserved: 150 });
      // As the run does with a step: settled without waiting, then the run ends.
      void meter.settle({ inputTokens: 40, outputTokens: 20 });
      await meter.close();
      assert.deepEqual(await counter(t.store.db, key), { used: 60, reserved: 0 });
    });
  });
}
