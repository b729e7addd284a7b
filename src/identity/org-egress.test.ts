/** Egress hosts allowed and withdrawn as a step of their own, on SQLite and PostgreSQL. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { allAuditEntries, type SeededOrg, seedOrg } from '../testing/fixtures.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import {
  allowEgress,
  authenticateToken,
  MAX_EGRESS_ENTRIES,
  type OrgContext,
  orgAccess,
  updateOrg,
  withdrawEgress,
} from './index.ts';

for (const kind of STORE_KINDS) {
  describe(`egress changes [${kind}]`, () => {
    let t: TestStore;
    let acme: SeededOrg;
    let other: SeededOrg;
    const ctxOf = async (token: string, slug = 'acme'): Promise<OrgContext> =>
      orgAccess(
        t.store.db,
        { kind: 'token', token: await authenticateToken(t.store.db, token) },
        slug,
        'req',
      );
    const allowlist = async (org: SeededOrg) =>
      JSON.parse(
        (
          await t.store.db
            .selectFrom('orgs')
            .select('settings')
            .where('id', '=', org.id)
            .executeTakeFirstOrThrow()
        ).settings,
      ).egressAllowlist ?? [];
    const egressEntries = async () =>
      (await allAuditEntries(t.store))
        .filter((e) => e.action.startsWith('org.egress.'))
        .map((e) => ({ action: e.action, log: e.log_id, details: JSON.parse(String(e.details)) }));

    before(async () => {
      t = await openTestStore(kind);
      acme = await seedOrg(t.store, 'acme');
      other = await seedOrg(t.store, 'other');
    });
    after(async () => t?.cleanup());

    test('allowing adds only what is missing, in this org only, with one entry saying which, why, before and after', async () => {
      const admin = await ctxOf(acme.people.admin.token);
      await updateOrg(t.store.db, admin, {
        settings: { egressAllowlist: [{ host: 'api.example.com', port: 443 }] },
      });
      const added = await allowEgress(
        t.store.db,
        admin,
        [
          { host: 'api.example.com', port: 443 },
          { host: 'api.notion.com', port: 443 },
          { host: 'api.notion.com', port: 443 },
        ],
        'catalog entry notion: connection notion',
      );
      assert.deepEqual(added, [{ host: 'api.notion.com', port: 443 }]);
      assert.deepEqual(await allowlist(acme), [
        { host: 'api.example.com', port: 443 },
        { host: 'api.notion.com', port: 443 },
      ]);
      assert.deepEqual(await allowlist(other), [], 'another org is untouched');
      const [entry, ...more] = await egressEntries();
      assert.equal(more.length, 0);
      assert.equal(entry?.action, 'org.egress.added');
      assert.equal(entry?.log, acme.id);
      assert.deepEqual(entry?.details.hosts, ['api.notion.com:443']);
      assert.equal(entry?.details.reason, 'catalog entry notion: connection notion');
      assert.equal(entry?.details.before.egressAllowlist.length, 1);
      assert.equal(entry?.details.after.egressAllowlist.length, 2);
      // Nothing missing: nothing changes, nothing recorded.
      assert.deepEqual(
        await allowEgress(t.store.db, admin, [{ host: 'api.notion.com', port: 443 }], 'again'),
        [],
      );
      assert.equal((await egressEntries()).length, 1);
    });

    test('concurrent additions (as from two replicas) each land: none overwrites the other', async () => {
      const admin = await ctxOf(acme.people.admin.token);
      await updateOrg(t.store.db, admin, { settings: { egressAllowlist: [] } });
      const hosts = ['a.example', 'b.example', 'c.example', 'd.example'];
      await Promise.all(
        hosts.map((host) => allowEgress(t.store.db, admin, [{ host, port: 443 }], `race ${host}`)),
      );
      assert.deepEqual((await allowlist(acme)).map((e: { host: string }) => e.host).sort(), hosts);
    });

    test('settings edited while hosts are allowed (as on two replicas): every change lands', async () => {
      const admin = await ctxOf(acme.people.admin.token);
      await updateOrg(t.store.db, admin, { settings: { egressAllowlist: [], approvalWaitSeconds: 30 } });
      await Promise.all([
        allowEgress(t.store.db, admin, [{ host: 'e.example', port: 443 }], 'race e'),
        updateOrg(t.store.db, admin, { settings: { approvalWaitSeconds: 45 } }),
        allowEgress(t.store.db, admin, [{ host: 'f.example', port: 443 }], 'race f'),
        updateOrg(t.store.db, admin, { settings: { runRetentionDays: 9 } }),
      ]);
      const org = await t.store.db
        .selectFrom('orgs')
        .select('settings')
        .where('id', '=', acme.id)
        .executeTakeFirstOrThrow();
      const settings = JSON.parse(org.settings);
      assert.deepEqual(
        [
          settings.egressAllowlist.map((e: { host: string }) => e.host).sort(),
          settings.approvalWaitSeconds,
          settings.runRetentionDays,
        ],
        [['e.example', 'f.example'], 45, 9],
      );
    });

    test('withdrawing takes back plain entries only, never one that allows private addresses', async () => {
      const admin = await ctxOf(acme.people.admin.token);
      await updateOrg(t.store.db, admin, {
        settings: {
          egressAllowlist: [
            { host: 'ollama.local', port: 443, allowPrivate: true },
            { host: 'api.notion.com', port: 443 },
          ],
        },
      });
      const taken = await withdrawEgress(
        t.store.db,
        admin,
        [
          { host: 'ollama.local', port: 443 },
          { host: 'api.notion.com', port: 443 },
          { host: 'never.there', port: 443 },
        ],
        'catalog entry notion: connection notion was not added',
      );
      assert.deepEqual(taken, [{ host: 'api.notion.com', port: 443 }]);
      assert.deepEqual(await allowlist(acme), [{ host: 'ollama.local', port: 443, allowPrivate: true }]);
      // One removal on record (the entries' order across the outbox and the log is not theirs to keep here).
      const removed = (await egressEntries()).filter((e) => e.action === 'org.egress.removed');
      assert.equal(removed.length, 1);
      assert.deepEqual(removed[0]?.details.hosts, ['api.notion.com:443']);
    });

    test('refused, changing nothing: a member, or an allowlist that would grow past its limit', async () => {
      const member = await ctxOf(acme.people.member.token);
      const before = await allowlist(acme);
      const entries = (await egressEntries()).length;
      await assert.rejects(
        allowEgress(t.store.db, member, [{ host: 'evil.example', port: 443 }], 'x'),
        (err: Error & { status?: number }) => err.status === 403,
      );
      const admin = await ctxOf(acme.people.admin.token);
      const full = Array.from({ length: MAX_EGRESS_ENTRIES }, (_, i) => ({
        host: `h${i}.example`,
        port: 443,
      }));
      await updateOrg(t.store.db, admin, { settings: { egressAllowlist: full } });
      await assert.rejects(
        allowEgress(t.store.db, admin, [{ host: 'one-more.example', port: 443 }], 'x'),
        /egress allowlist holds at most 200 entries/,
      );
      assert.equal((await allowlist(acme)).length, MAX_EGRESS_ENTRIES);
      assert.equal((await egressEntries()).length, entries);
      await updateOrg(t.store.db, admin, { settings: { egressAllowlist: before } });
    });
  });
}
