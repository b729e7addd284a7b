/**
 * The vault: envelope encryption. The keyring's KEK wraps one data key per org (and one for the
 * platform); data keys seal secrets with AES-256-GCM, binding org id, secret id and version as
 * associated data so a sealed value cannot be moved to another org, secret or version.
 */
import { randomBytes } from 'node:crypto';
import { registerSecret } from '../redact/index.ts';
import type { Db } from '../store/index.ts';
import { open, seal } from './aead.ts';
import type { Keyring } from './kek.ts';

export interface SealRef {
  orgId: string;
  secretId: string;
  version: number;
}

export class Vault {
  readonly #keyring: Keyring;
  readonly #dataKeys = new Map<string, Buffer>();

  constructor(keyring: Keyring) {
    this.#keyring = keyring;
  }

  async #dataKey(db: Db, orgId: string): Promise<Buffer> {
    const cached = this.#dataKeys.get(orgId);
    if (cached) return cached;
    let row = await db.selectFrom('vault_keys').selectAll().where('org_id', '=', orgId).executeTakeFirst();
    if (!row) {
      const kek = this.#keyring.current();
      const fresh = {
        org_id: orgId,
        wrapped_key: await kek.wrap(randomBytes(32), `org/${orgId}`),
        kek_id: kek.id,
        created_at: new Date().toISOString(),
      };
      // Two first uses can race; the row that landed first is the org's key.
      await db
        .insertInto('vault_keys')
        .values(fresh)
        .onConflict((oc) => oc.column('org_id').doNothing())
        .execute();
      row = await db
        .selectFrom('vault_keys')
        .selectAll()
        .where('org_id', '=', orgId)
        .executeTakeFirstOrThrow();
    }
    const kek = this.#keyring.byId(row.kek_id);
    if (!kek)
      throw new Error(`the key that wrapped ${orgId}'s data key (${row.kek_id}) is not in the keyring`);
    const key = await kek.unwrap(row.wrapped_key, `org/${orgId}`);
    this.#dataKeys.set(orgId, key);
    return key;
  }

  async seal(db: Db, ref: SealRef, plaintext: string): Promise<string> {
    const key = await this.#dataKey(db, ref.orgId);
    return seal(key, Buffer.from(plaintext, 'utf8'), `${ref.orgId}/${ref.secretId}/${ref.version}`);
  }

  async open(db: Db, ref: SealRef, sealed: string): Promise<string> {
    const key = await this.#dataKey(db, ref.orgId);
    const value = open(key, sealed, `${ref.orgId}/${ref.secretId}/${ref.version}`).toString('utf8');
    registerSecret(value);
    return value;
  }

  /** The org's unwrapped data key, for handing to that org's cell only (held in memory there). */
  async dataKeyFor(db: Db, orgId: string): Promise<Buffer> {
    return this.#dataKey(db, orgId);
  }
}

/**
 * Re-wraps every data key with the keyring's current KEK, each in its own small transaction;
 * secrets are untouched. Safe to interrupt and re-run.
 */
export async function rewrapDataKeys(
  db: Db,
  keyring: Keyring,
): Promise<{ rewrapped: number; already: number }> {
  const current = keyring.current();
  const rows = await db.selectFrom('vault_keys').selectAll().execute();
  let rewrapped = 0;
  for (const row of rows) {
    if (row.kek_id === current.id) continue;
    const old = keyring.byId(row.kek_id);
    if (!old)
      throw new Error(
        `data key of ${row.org_id} is wrapped by ${row.kek_id}, which the keyring no longer holds`,
      );
    const key = await old.unwrap(row.wrapped_key, `org/${row.org_id}`);
    await db
      .updateTable('vault_keys')
      .set({ wrapped_key: await current.wrap(key, `org/${row.org_id}`), kek_id: current.id })
      .where('org_id', '=', row.org_id)
      .where('kek_id', '=', row.kek_id)
      .execute();
    rewrapped++;
  }
  return { rewrapped, already: rows.length - rewrapped };
}
