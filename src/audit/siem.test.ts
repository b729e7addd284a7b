/**
 * The SIEM streamer and orgs without a webhook (most of them): their settings are read at most
 * about once a second however fast their log grows, not after every batch of commits.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { silentLogger } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import { seedOrg } from '../testing/fixtures.ts';
import { openTestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';
import { localKeyring, Vault, vaultLogKeys } from '../vault/index.ts';
import { SiemStreamer } from './siem.ts';
import { AuditTrail } from './trail.ts';

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

test('what leaves for the SIEM is durable first: an entry placed by a commit with no sync (journaled decision) is not streamed before a sync of the database', async () => {
  const t = await openTestStore('sqlite');
  const received: Array<{ ids: string[]; walSyncs: number }> = [];
  const wal = () => t.store.syncStats!().fdatasyncs;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const ids = body
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id);
      received.push({ ids, walSyncs: wal() });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const org = await seedOrg(t.store, 'acme');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const row = await t.store.db
      .selectFrom('orgs')
      .select('settings')
      .where('id', '=', org.id)
      .executeTakeFirstOrThrow();
    await t.store.db
      .updateTable('orgs')
      .set({ settings: JSON.stringify({ ...JSON.parse(row.settings), siemWebhookUrl: url }) })
      .where('id', '=', org.id)
      .execute();
    // Checkpoints an hour apart: the first growth's signature is the only sync they make.
    const trail = new AuditTrail({
      store: t.store,
      keys: vaultLogKeys(new Vault(localKeyring(t.home, {}))),
      originHost: 's.test',
      log: silentLogger,
      checkpointIntervalMs: 3_600_000,
    });
    trail.start();
    await trail.flush();
    const siem = new SiemStreamer(t.store, silentLogger, async () => '');
    siem.notify([org.id]);
    await until(() => received.length > 0, { what: 'what is there streamed' });
    await new Promise((r) => setTimeout(r, 100));
    const decision = {
      orgId: org.id,
      actor: { type: 'agent' as const, id: 'agt_s' },
      action: 'tool.call.allowed',
      details: {},
    };
    const { id } = await trail.appendDurable(decision);
    await until(
      async () =>
        (await t.store.db.selectFrom('audit_entries').select('id').where('id', '=', id).executeTakeFirst()) ??
        false,
      { what: 'placed' },
    );
    const placedAt = wal();
    siem.notify([org.id]);
    const got = await until(() => received.find((r) => r.ids.includes(id)), { what: 'streamed' });
    assert.ok(got.walSyncs > placedAt, 'the database synced after its placement, before it left');
    siem.close();
    await trail.close();
  } finally {
    server.close();
    await t.cleanup();
  }
});
