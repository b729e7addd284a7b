/**
 * The vault: envelope encryption. A key-encryption key (KEK) wraps one data key per org; data
 * keys seal secrets with AES-256-GCM, binding org id, secret id and version as associated data
 * so a sealed value cannot be moved to another org or secret. The KEK comes from
 * `PADDOCK_MASTER_KEY` (base64, 32 bytes) or a key file created on first run with mode 0600.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BadRequestError } from '../errors/index.ts';
import { registerSecret } from '../redact/index.ts';
import type { Db } from '../store/index.ts';

/** Wraps and unwraps data keys; a second implementation can sit on an external KMS. */
export interface KeyEncryptionKey {
  readonly id: string;
  wrap(dataKey: Buffer, context: string): Promise<string>;
  unwrap(wrapped: string, context: string): Promise<Buffer>;
}

function gcmSeal(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [
    'v1',
    iv.toString('base64url'),
    ct.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
  ].join('.');
}

function gcmOpen(key: Buffer, sealed: string, aad: string): Buffer {
  const [v, iv, ct, tag] = sealed.split('.');
  if (v !== 'v1' || !iv || ct === undefined || !tag) throw new Error('sealed value is malformed');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]);
}

/** A KEK held locally: from the environment, or from `$PADDOCK_HOME/master.key` (made if absent). */
export function localKek(home: string, env: NodeJS.ProcessEnv = process.env): KeyEncryptionKey {
  let key: Buffer;
  if (env.PADDOCK_MASTER_KEY) {
    key = Buffer.from(env.PADDOCK_MASTER_KEY, 'base64');
    if (key.length !== 32) {
      throw new BadRequestError('invalid_master_key', 'PADDOCK_MASTER_KEY must be 32 bytes, base64-encoded.');
    }
  } else {
    const file = join(home, 'master.key');
    if (!existsSync(file)) {
      mkdirSync(home, { recursive: true, mode: 0o700 });
      writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    }
    key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  }
  registerSecret(key.toString('base64'));
  const id = `local:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
  return {
    id,
    wrap: async (dataKey, context) => gcmSeal(key, dataKey, `paddock/kek/${context}`),
    unwrap: async (wrapped, context) => gcmOpen(key, wrapped, `paddock/kek/${context}`),
  };
}

export class Vault {
  readonly #kek: KeyEncryptionKey;
  readonly #dataKeys = new Map<string, Buffer>();

  constructor(kek: KeyEncryptionKey) {
    this.#kek = kek;
  }

  async #dataKey(db: Db, orgId: string): Promise<Buffer> {
    const cached = this.#dataKeys.get(orgId);
    if (cached) return cached;
    const row = await db.selectFrom('vault_keys').selectAll().where('org_id', '=', orgId).executeTakeFirst();
    let key: Buffer;
    if (row) {
      key = await this.#kek.unwrap(row.wrapped_key, `org/${orgId}`);
    } else {
      key = randomBytes(32);
      const values = {
        org_id: orgId,
        wrapped_key: await this.#kek.wrap(key, `org/${orgId}`),
        kek_id: this.#kek.id,
        created_at: new Date().toISOString(),
      };
      // Two first uses can race; the row that landed first is the org's key.
      await db
        .insertInto('vault_keys')
        .values(values)
        .onConflict((oc) => oc.column('org_id').doNothing())
        .execute();
      const stored = await db
        .selectFrom('vault_keys')
        .selectAll()
        .where('org_id', '=', orgId)
        .executeTakeFirstOrThrow();
      if (stored.wrapped_key !== values.wrapped_key)
        key = await this.#kek.unwrap(stored.wrapped_key, `org/${orgId}`);
    }
    this.#dataKeys.set(orgId, key);
    return key;
  }

  async seal(
    db: Db,
    ref: { orgId: string; secretId: string; version: number },
    plaintext: string,
  ): Promise<string> {
    const key = await this.#dataKey(db, ref.orgId);
    return gcmSeal(key, Buffer.from(plaintext, 'utf8'), `${ref.orgId}/${ref.secretId}/${ref.version}`);
  }

  async open(
    db: Db,
    ref: { orgId: string; secretId: string; version: number },
    sealed: string,
  ): Promise<string> {
    const key = await this.#dataKey(db, ref.orgId);
    const value = gcmOpen(key, sealed, `${ref.orgId}/${ref.secretId}/${ref.version}`).toString('utf8');
    registerSecret(value);
    return value;
  }
}
