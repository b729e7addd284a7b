/**
 * Sealing and opening a secret with an org's data key (AES-256-GCM, AAD = org/secret/version),
 * the data key already unwrapped in memory as it is in a running process. Baseline: the bare
 * node:crypto AES-256-GCM encryption of the same bytes, in the same run.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initOrg, operatorCaller } from '../src/identity/index.ts';
import { openStore } from '../src/store/index.ts';
import { localKeyring, Vault } from '../src/vault/index.ts';
import { figures, report, sample } from './stats.ts';

const home = mkdtempSync(join(tmpdir(), 'paddock-bench-vault-'));
const store = await openStore({ home });
try {
  const { org } = await initOrg(store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
  const vault = new Vault(localKeyring(home, {}));
  const secret = `sk-${randomBytes(24).toString('base64url')}`;
  const ref = { orgId: org.id, secretId: 'sec_bench', version: 3 };
  const sealed = await vault.seal(store.db, ref, secret);
  const key = randomBytes(32);
  const base = figures(
    'baseline: bare AES-256-GCM encrypt, same bytes',
    await sample(20_000, () => {
      const c = createCipheriv('aes-256-gcm', key, randomBytes(12));
      c.setAAD(Buffer.from('x'));
      Buffer.concat([c.update(secret), c.final(), c.getAuthTag()]);
    }),
  );
  const s = figures(
    'vault.seal (org data key in memory)',
    await sample(20_000, () => vault.seal(store.db, ref, secret)),
  );
  const o = figures('vault.open', await sample(20_000, () => vault.open(store.db, ref, sealed)));
  report([base, s, o], base);
} finally {
  await store.close();
  rmSync(home, { recursive: true, force: true });
}
