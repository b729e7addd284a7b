/** What route handlers are given: the store, the vault, configuration and the logger. */
import type { Config } from '../config/index.ts';
import type { AttemptLimiter } from '../identity/index.ts';
import type { Logger } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import type { Vault } from '../vault/index.ts';

export interface Deps {
  store: Store;
  vault: Vault;
  config: Config;
  log: Logger;
  signInLimiter: AttemptLimiter;
}
