/**
 * Test helper process: appends audit events as fast as it can, 8 at a time, and prints
 * `ack <id>` for each one the trail acknowledged. A test kills it with SIGKILL mid-stream.
 */
import { AuditTrail } from '../audit/index.ts';
import { initOrg, operatorCaller } from '../identity/index.ts';
import { silentLogger } from '../log/index.ts';
import { openStore } from '../store/index.ts';
import { localKeyring, Vault, vaultLogKeys } from '../vault/index.ts';

const home = process.env.PADDOCK_HOME!;
const store = await openStore({ home, databaseUrl: process.env.DATABASE_URL || undefined });
const { org } = await initOrg(store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
const trail = new AuditTrail({
  store,
  keys: vaultLogKeys(new Vault(localKeyring(home, {}))),
  originHost: 'paddock.test',
  log: silentLogger,
});
trail.start();
// Never outlive a test that forgot to kill it: give up after a minute or when the reader goes.
setTimeout(() => process.exit(3), 60_000).unref();
process.stdout.on('error', () => process.exit(4));
process.stdout.write(`org ${org.id}\n`);
let n = 0;
// APPEND=journaled: as the gate does, a decision (`appendDurable`) then its result (`appendWritten`).
const journaled = process.env.APPEND === 'journaled';
const worker = async () => {
  for (;;) {
    const event = { orgId: org.id, actor: { type: 'system' as const, id: 'worker' }, details: { n: n++ } };
    if (journaled) {
      const decision = await trail.appendDurable({ ...event, action: 'tool.call.allowed' });
      process.stdout.write(`ack ${decision.id}\n`);
      const result = await trail.appendWritten({ ...event, action: 'tool.call.completed' });
      process.stdout.write(`ack ${result.id}\n`);
      continue;
    }
    const r = await trail.append({ ...event, action: 'test.appended' });
    process.stdout.write(`ack ${r.id}\n`);
  }
};
await Promise.all(Array.from({ length: 8 }, worker));
