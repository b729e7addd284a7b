/** `paddock vault rotate-kek`: a new key-encryption key; every org's data key re-wrapped under it. */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { openStore } from '../store/index.ts';
import { keyFile, localKeyring, rewrapDataKeys, writeKeyFile } from '../vault/index.ts';
import type { Command } from './commands.ts';
import { parse, storeOptions } from './options.ts';
import { UsageError } from './output.ts';

export const vault: Command = {
  summary: 'Rotate the key-encryption key (re-wraps data keys; secrets are not touched)',
  usage: `paddock vault rotate-kek [--home DIR] [--database-url URL]

  With the key file ($PADDOCK_HOME/master.key): makes a new key, keeps the old one until every
  data key is re-wrapped, then drops it. Safe to interrupt and run again. A running server
  picks the new key up by itself.
  With PADDOCK_MASTER_KEY: set the new key there and the old one in PADDOCK_MASTER_KEY_PREVIOUS,
  run this, then remove PADDOCK_MASTER_KEY_PREVIOUS.`,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub !== 'rotate-kek')
      throw new UsageError('Use "paddock vault rotate-kek". See paddock vault --help.');
    const v = parse(rest, {});
    const { config, opts } = storeOptions(v);
    const fromEnv = Boolean(process.env.PADDOCK_MASTER_KEY);
    if (!fromEnv) {
      if (!existsSync(keyFile(config.home)))
        throw new UsageError(`No key file at ${keyFile(config.home)}: nothing to rotate.`);
      const keys = readFileSync(keyFile(config.home), 'utf8')
        .trim()
        .split('\n')
        .map((l) => Buffer.from(l, 'base64'));
      // New key first (it becomes current); the old ones stay until nothing needs them.
      writeKeyFile(config.home, [randomBytes(32), ...keys]);
    }
    const store = await openStore(opts);
    try {
      const ring = localKeyring(config.home);
      const r = await rewrapDataKeys(store.db, ring);
      if (!fromEnv) {
        const current = readFileSync(keyFile(config.home), 'utf8').trim().split('\n')[0]!;
        writeKeyFile(config.home, [Buffer.from(current, 'base64')]);
      }
      process.stdout.write(
        `Re-wrapped ${r.rewrapped} data key(s) under ${ring.current().id}; ${r.already} already were.\n`,
      );
    } finally {
      await store.close();
    }
  },
};
