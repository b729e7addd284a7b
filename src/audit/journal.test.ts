/**
 * The journal of written records (embedded store): a result record is in the file once written,
 * the file is emptied once all are placed, and a restart places what a killed process left there
 * — once each, a torn last line left out — with the log still verifying.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { after, test } from 'node:test';
import { initOrg, operatorCaller } from '../identity/index.ts';
import { silentLogger } from '../log/index.ts';
import { openTestStore, type TestStore } from '../testing/stores.ts';
import { localKeyring, Vault, vaultLogKeys } from '../vault/index.ts';
import { prepareEntry } from './entry.ts';
import { AuditTrail, verifyLog } from './index.ts';

let t: TestStore | undefined;
after(() => t?.cleanup());

test('written records are journaled until placed; a restart places what was left, once each', async () => {
  t = await openTestStore('sqlite');
  const { store, home } = t;
  const path = store.auditJournal!;
  const { org } = await initOrg(store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
  const trail = () =>
    new AuditTrail({
      store,
      keys: vaultLogKeys(new Vault(localKeyring(home, {}))),
      originHost: 'j.test',
      log: silentLogger,
    });
  const event = (n: number) => ({
    orgId: org.id,
    actor: { type: 'agent' as const, id: 'agt_j' },
    action: 'tool.call.completed',
    details: { n },
  });
  const ids = async () =>
    (
      await store.db
        .selectFrom('audit_entries')
        .select('id')
        .where('action', '=', 'tool.call.completed')
        .execute()
    ).map((r) => r.id);

  const first = trail();
  first.start();
  await first.flush();
  const written = await Promise.all([0, 1, 2].map((n) => first.appendWritten(event(n))));
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  assert.deepEqual(
    lines.map((l) => JSON.parse(l).header.id),
    written.map((w) => w.id),
    'in the journal once written, before they are placed',
  );
  assert.equal(statSync(path).mode & 0o777, 0o600);
  await first.flush();
  assert.deepEqual((await ids()).sort(), written.map((w) => w.id).sort());
  assert.equal(
    statSync(path).size,
    0,
    'emptied by a flush, all placed (a deletion on request flushes first)',
  );
  await first.close();

  // A killed process's journal: one entry placed before the kill, two not, and a torn last line.
  const unplaced = [3, 4].map((n) => prepareEntry(event(n)));
  const line = (e: unknown) => `${JSON.stringify(e)}\n`;
  const placedAlready = JSON.parse(lines[0]!);
  appendFileSync(
    path,
    line(placedAlready) + unplaced.map(line).join('') + line(prepareEntry(event(5))).slice(0, 40),
  );
  const second = trail();
  second.start();
  await second.flush();
  const after = await ids();
  assert.equal(after.length, 5, 'the two left unplaced are placed; none twice; the torn line left out');
  for (const e of unplaced) assert.ok(after.includes(e.header.id));
  const report = await verifyLog(store.db, org.id);
  assert.ok(report.ok, JSON.stringify(report.problem));
  // Records go on being journaled: written, placed once each, the file emptied on close.
  const more = await Promise.all([6, 7].map((n) => second.appendWritten(event(n))));
  await second.flush();
  assert.equal((await ids()).filter((id) => more.some((m) => m.id === id)).length, 2);
  await second.close();
  assert.equal(statSync(path).size, 0);
});
