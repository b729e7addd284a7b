/**
 * Ids: random, prefixed, URL-safe (`org_…`, `usr_…`, `aud_…`). Below every domain folder, so any
 * of them can name what it makes without importing another domain.
 */
import { randomFillSync } from 'node:crypto';

const ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

// Ids are made at audit-event rates; drawing randomness in 4 KiB blocks keeps that cheap.
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

/**
 * 80 random bits after a prefix telling what the id names.
 *
 * @example
 *   const id = newId('team'); // team_5k2x…
 */
export function newId(prefix: string): string {
  if (poolAt + 16 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  let out = '';
  for (let i = 0; i < 16; i++) out += ID_ALPHABET[pool[poolAt + i]! & 31];
  poolAt += 16;
  return `${prefix}_${out}`;
}
