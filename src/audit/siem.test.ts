/**
 * The SIEM streamer and orgs without a webhook (most of them): their settings are read at most
 * about once a second however fast their log grows, not after every batch of commits.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import { seedOrg } from '../testing/fixtures.ts';
import { openTestStore } from '../testing/stores.ts';
import { SiemStreamer } from './siem.ts';

test('an org without a SIEM webhook has its settings read about once a second, not per batch of commits', async () => {
  const t = await openTestStore('sqlite');
  try {
    const org = await seedOrg(t.store, 'acme');
    let reads = 0;
    // The store as the streamer sees it, counting its reads of org settings.
    const db = new Proxy(t.store.db, {
      get(target, key, receiver) {
        if (key === 'selectFrom')
          return (table: string) => {
            if (table === 'orgs') reads++;
            return target.selectFrom(table as 'orgs');
          };
        return Reflect.get(target, key, receiver);
      },
    });
    const siem = new SiemStreamer({ ...t.store, db } as Store, silentLogger, async () => '');
    // Commits every 10 ms for 2.5 s, as a busy org's calls make them.
    const until = performance.now() + 2500;
    while (performance.now() < until) {
      siem.notify([org.id]);
      await new Promise((r) => setTimeout(r, 10));
    }
    siem.close();
    // Every 25 ms before: ~100 reads. Now one, then one a second.
    assert.ok(reads >= 1 && reads <= 4, `${reads} reads of the org's settings in 2.5 s`);
  } finally {
    await t.cleanup();
  }
});
