/** kill -9 while events are being appended: every acknowledged event survives and the log verifies. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../log/index.ts';
import { openStore } from '../store/index.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { localKeyring, Vault, vaultLogKeys } from '../vault/index.ts';
import { AuditTrail } from './trail.ts';
import { verifyLog } from './verify.ts';

const WORKER = fileURLToPath(new URL('../testing/append-worker.ts', import.meta.url));

const RUNS = [
  ...STORE_KINDS.map((kind) => ({ kind, append: 'append' })),
  // The gate's way on the embedded store: decisions journaled and synced, results journaled.
  { kind: 'sqlite' as const, append: 'journaled' },
];

for (const { kind, append } of RUNS) {
  describe(`kill -9 while appending [${kind}, ${append}]`, () => {
    let t: TestStore | undefined;
    after(async () => t?.cleanup());

    test('every acknowledged event is there after restart, and the log verifies', async () => {
      t = await openTestStore(kind);
      await t.store.close();
      const child = spawn(process.execPath, [WORKER], {
        env: { ...process.env, PADDOCK_HOME: t.home, DATABASE_URL: t.databaseUrl ?? '', APPEND: append },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const acked: string[] = [];
      let orgId = '';
      let buffer = '';
      child.stdout!.on('data', (d) => {
        buffer += String(d);
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const l of lines) {
          if (l.startsWith('ack ')) acked.push(l.slice(4));
          else if (l.startsWith('org ')) orgId = l.slice(4);
        }
      });
      // Kill after 2,000 acknowledgments or 8 s, whichever comes first: slow disks fsync slowly.
      try {
        const deadline = Date.now() + 8_000;
        while (acked.length < 2000 && Date.now() < deadline && child.exitCode === null) {
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        child.kill('SIGKILL');
        if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
      }
      assert.ok(acked.length >= 50, `only ${acked.length} events acknowledged before the kill`);

      const store = await openStore({ home: t.home, databaseUrl: t.databaseUrl });
      try {
        const trail = new AuditTrail({
          store,
          keys: vaultLogKeys(new Vault(localKeyring(t.home, {}))),
          originHost: 'paddock.test',
          log: silentLogger,
        });
        // Started, as a server is: it places what the journal holds and the log does not.
        trail.start();
        await trail.flush();
        await trail.checkpoint(orgId);
        await trail.close();
        const ids = new Set(
          (await store.db.selectFrom('audit_entries').select('id').where('log_id', '=', orgId).execute()).map(
            (r) => r.id,
          ),
        );
        const lost = acked.filter((id) => !ids.has(id));
        assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged events lost`);
        const report = await verifyLog(store.db, orgId);
        assert.ok(report.ok, JSON.stringify(report.problem));
        assert.equal(report.pending, 0);
        assert.ok(report.entries >= acked.length);
      } finally {
        // The test store's own handle was closed above; cleanup drops what is left.
        await store.close();
      }
    });
  });
}
