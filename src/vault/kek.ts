/**
 * Key-encryption keys. A keyring has one current KEK (wraps new data keys) and may keep older
 * ones (to unwrap data keys not yet re-wrapped), so rotation is safe to interrupt at any step.
 * The local keyring lives in `PADDOCK_MASTER_KEY` (+ `PADDOCK_MASTER_KEY_PREVIOUS`) or in
 * `$PADDOCK_HOME/master.key` (mode 0600; first line current, later lines previous). An external
 * KMS (AWS KMS, Vault Transit) is another implementation of `KeyEncryptionKey`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BadRequestError } from '../errors/index.ts';
import { registerSecret } from '../redact/index.ts';
import { open, seal } from './aead.ts';

/** Wraps and unwraps data keys; a second implementation can sit on an external KMS. */
export interface KeyEncryptionKey {
  readonly id: string;
  wrap(dataKey: Buffer, context: string): Promise<string>;
  unwrap(wrapped: string, context: string): Promise<Buffer>;
}

export interface Keyring {
  current(): KeyEncryptionKey;
  /** The KEK with this id, if the keyring still holds it. */
  byId(id: string): KeyEncryptionKey | undefined;
}

export function localKek(key: Buffer): KeyEncryptionKey {
  if (key.length !== 32)
    throw new BadRequestError('invalid_master_key', 'A master key is 32 bytes, base64-encoded.');
  registerSecret(key.toString('base64'));
  return {
    id: `local:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`,
    wrap: async (dataKey, context) => seal(key, dataKey, `paddock/kek/${context}`),
    unwrap: async (wrapped, context) => open(key, wrapped, `paddock/kek/${context}`),
  };
}

function parseKeys(text: string): Buffer[] {
  return text
    .split(/[\n,]/)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => Buffer.from(l, 'base64'));
}

export function keyFile(home: string): string {
  return join(home, 'master.key');
}

/** Writes the key file atomically, owner-only: never a moment with a half-written keyring. */
export function writeKeyFile(home: string, keys: Buffer[]): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const tmp = `${keyFile(home)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${keys.map((k) => k.toString('base64')).join('\n')}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, keyFile(home));
}

/** The local keyring: from the environment if set, else from the key file (made on first run). */
export function localKeyring(home: string, env: NodeJS.ProcessEnv = process.env): Keyring {
  const load = (): KeyEncryptionKey[] => {
    if (env.PADDOCK_MASTER_KEY) {
      return parseKeys([env.PADDOCK_MASTER_KEY, env.PADDOCK_MASTER_KEY_PREVIOUS ?? ''].join('\n')).map(
        localKek,
      );
    }
    if (!existsSync(keyFile(home))) writeKeyFile(home, [randomBytes(32)]);
    return parseKeys(readFileSync(keyFile(home), 'utf8')).map(localKek);
  };
  let keys = load();
  if (keys.length === 0) throw new BadRequestError('invalid_master_key', 'The master key file is empty.');
  return {
    current: () => keys[0]!,
    byId(id) {
      let k = keys.find((x) => x.id === id);
      if (!k) {
        // Another process (paddock vault rotate-kek) may have added it since we loaded.
        keys = load();
        k = keys.find((x) => x.id === id);
      }
      return k;
    },
  };
}
