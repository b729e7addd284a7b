/**
 * The vault's custody of audit log signing keys (audit's `LogKeys`): each log's Ed25519 private
 * key is sealed under its org's data key as the secret `audit.log_key` (the platform log's
 * under the platform's), kept in the log's row, and opened only to sign the log's checkpoints.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import type { LogKeys } from '../audit/index.ts';
import type { SealRef, Vault } from './vault.ts';

/** A log's id is its org's id ('platform' for the platform's log). */
const keyRef = (logId: string): SealRef => ({ orgId: logId, secretId: 'audit.log_key', version: 1 });

/**
 * @example
 *   const trail = new AuditTrail({ store, keys: vaultLogKeys(vault), originHost, log });
 */
export function vaultLogKeys(vault: Vault): LogKeys {
  return {
    async create(trx, logId) {
      const { privateKey } = generateKeyPairSync('ed25519');
      const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
      return { privateKey, sealed: await vault.seal(trx, keyRef(logId), pkcs8) };
    },
    async open(db, logId, sealed) {
      const pkcs8 = await vault.open(db, keyRef(logId), sealed);
      return createPrivateKey({ key: Buffer.from(pkcs8, 'base64'), format: 'der', type: 'pkcs8' });
    },
  };
}
