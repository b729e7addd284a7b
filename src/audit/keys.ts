/**
 * Key custody. Each log signs its checkpoints with its own Ed25519 key, named by the log's
 * origin. Where the private key is kept, and how it is opened, is `LogKeys`' business (the
 * vault seals it: `vault/log-keys.ts`); here a new log gets its origin and key, a log's key is
 * opened once per process, and a key that does not match the public key the log publishes is
 * never used to sign.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Db } from '../store/index.ts';
import { assertName, type NoteSigner, rawPublicKey, verifierKey } from './note.ts';
import { requireLog } from './storage.ts';

/** Custody of each log's private signing key. */
export interface LogKeys {
  /**
   * Makes the Ed25519 key of a log being created, inside the transaction creating it; returns
   * the key and what the log's row keeps of it (`sealed`, opaque to the trail).
   */
  create(trx: Db, logId: string): Promise<{ privateKey: KeyObject; sealed: string }>;
  /** Opens what `create` returned as `sealed`. */
  open(db: Db, logId: string, sealed: string): Promise<KeyObject>;
}

/** A new log's name and keys, as its row (`audit_logs`) keeps them. */
export interface LogIdentity {
  origin: string;
  public_key: string;
  private_key: string;
}

/** Signs only with a key that matches the public key the log publishes. */
export class LogSigners {
  readonly #db: Kysely<Database>;
  readonly #keys: LogKeys;
  readonly #originHost: () => string;
  readonly #signers = new Map<string, NoteSigner>();

  /** `originHost` names new logs (`<host>/audit/<log id>`); a log keeps its origin for good. */
  constructor(db: Kysely<Database>, keys: LogKeys, originHost: () => string) {
    this.#db = db;
    this.#keys = keys;
    this.#originHost = originHost;
  }

  /** A new log's origin and key, made inside the transaction that creates the log. */
  async create(trx: Db, logId: string): Promise<LogIdentity> {
    const origin = `${this.#originHost()}/audit/${logId}`;
    assertName(origin);
    const { privateKey, sealed } = await this.#keys.create(trx, logId);
    return {
      origin,
      public_key: rawPublicKey(createPublicKey(privateKey)).toString('base64'),
      private_key: sealed,
    };
  }

  /** The log's signer, opened on first use. */
  async signer(logId: string): Promise<NoteSigner> {
    const cached = this.#signers.get(logId);
    if (cached) return cached;
    const row = await requireLog(this.#db, logId);
    const privateKey = await this.#keys.open(this.#db, logId, row.private_key);
    const signer = { name: row.origin, publicKey: Buffer.from(row.public_key, 'base64'), privateKey };
    // A swapped public key would make every checkpoint unverifiable: refuse to sign with it.
    if (!rawPublicKey(createPublicKey(privateKey)).equals(signer.publicKey)) {
      throw new Error(`the signing key of log ${logId} does not match its published public key`);
    }
    this.#signers.set(logId, signer);
    return signer;
  }
}

/** The log's verifier key (`name+keyid+base64`), which checks its checkpoints anywhere. */
export async function logVerifierKey(
  db: Db,
  logId: string,
): Promise<{ origin: string; verifierKey: string }> {
  const row = await requireLog(db, logId);
  return { origin: row.origin, verifierKey: verifierKey(row.origin, Buffer.from(row.public_key, 'base64')) };
}
