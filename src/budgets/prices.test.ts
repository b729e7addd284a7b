/**
 * The org's model price table, bounded (both engines): an admin can set prices for the models the
 * org uses, not fill the database with rows — past the cap a new model is refused with a clear
 * error that changes nothing, while replacing or removing an existing price still works.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { MAX_ORG_PRICES } from './prices.ts';

for (const kind of STORE_KINDS) {
  describe(`the model price table is bounded [${kind}]`, () => {
    let t: TestStore;
    let deps: ReturnType<typeof testDeps>;
    let app: ReturnType<typeof createApp>;
    let acme: SeededOrg;
    const put = (model: string, input = 1) =>
      call(app, 'put', '/api/v1/orgs/acme/model-prices', {
        token: acme.people.admin.token,
        body: { provider: 'openai', model, inputPerMTok: input, outputPerMTok: 2 },
      });
    const rows = async () =>
      Number(
        (
          await t.store.db
            .selectFrom('model_prices')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('org_id', '=', acme.id)
            .executeTakeFirstOrThrow()
        ).n,
      );

    before(async () => {
      t = await openTestStore(kind);
      deps = testDeps(t.store, t.home);
      app = createApp(deps);
      acme = await seedOrg(t.store, 'acme');
    });
    after(async () => {
      await deps?.audit.close();
      await t?.cleanup();
    });

    test('past the cap a new model is refused and nothing changes; existing prices can still change', async () => {
      const now = new Date().toISOString();
      const filler = Array.from({ length: MAX_ORG_PRICES - 1 }, (_, i) => ({
        org_id: acme.id,
        provider: 'openai',
        model: `filler-${i}`,
        input_per_mtok: 1,
        output_per_mtok: 1,
        updated_by: acme.people.admin.id,
        updated_at: now,
      }));
      for (let i = 0; i < filler.length; i += 200)
        await t.store.db
          .insertInto('model_prices')
          .values(filler.slice(i, i + 200))
          .execute();
      assert.equal((await put('the-last-one')).status, 200, 'the cap itself is allowed');
      assert.equal(await rows(), MAX_ORG_PRICES);
      const over = await put('one-too-many');
      assert.equal(over.status, 409, over.text);
      assert.equal(over.body.error.code, 'price_table_full');
      assert.match(over.body.error.message, new RegExp(`${MAX_ORG_PRICES}`));
      assert.equal(await rows(), MAX_ORG_PRICES, 'nothing was added');
      assert.equal((await put('filler-3', 7)).status, 200, 'an existing price can be replaced');
      const del = await call(app, 'delete', '/api/v1/orgs/acme/model-prices?provider=openai&model=filler-4', {
        token: acme.people.admin.token,
      });
      assert.equal(del.status, 204, del.text);
      assert.equal((await put('one-too-many')).status, 200, 'room again after a removal');
    });
  });
}
