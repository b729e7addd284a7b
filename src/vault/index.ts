/** The vault: key-encryption keys, per-org data keys, sealed secrets. */
export { open as openSealed, seal } from './aead.ts';
export { type KeyEncryptionKey, type Keyring, keyFile, localKek, localKeyring, writeKeyFile } from './kek.ts';
export { vaultLogKeys } from './log-keys.ts';
export * from './secrets.ts';
export { rewrapDataKeys, type SealRef, Vault } from './vault.ts';
