/**
 * Data migrations: upgrades of stored data that need more than SQL (the vault, the audit entry
 * format), run once the schema is migrated — at every start and by `paddock migrate`. Each is
 * idempotent and does nothing once done.
 */
import { recordFormatUpgrade } from '../audit/index.ts';
import { rescrubStoredTools } from '../connections/index.ts';
import type { Store } from '../store/index.ts';
import type { Vault } from '../vault/index.ts';

export async function upgradeData(store: Store, vault: Vault): Promise<string[]> {
  const done: string[] = [];
  // A log that began in format v1: its already-erased entries go on record, once.
  if (await recordFormatUpgrade(store.db)) done.push('audit: v1 erasures recorded');
  const rescrubbed = await rescrubStoredTools(store.db, vault);
  if (rescrubbed) done.push(`connections: tool definitions of ${rescrubbed} connection(s) re-scrubbed`);
  return done;
}
