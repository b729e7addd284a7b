/**
 * Ids: random, prefixed, URL-safe (`org_…`, `usr_…`, `aud_…`). Below every domain folder, so any
 * of them can name what it makes without importing another domain.
 */
import { createHash, randomFillSync } from 'node:crypto';

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

/**
 * A run's W3C trace context, fixed by its run id: every replica, and every part of a run that
 * waited for an approval and resumed, traces it under the same trace id, and its audit entries
 * carry that id without asking anyone (`traceId` in their details). The root span id is fixed
 * too, so a resumed part hangs under the part that started the run.
 *
 * @example
 *   runTrace('run_5k2x…'); // { traceId: '3f0c…' (32 hex), spanId: '9a1b…' (16 hex) }
 */
export function runTrace(runId: string): { traceId: string; spanId: string } {
  const h = createHash('sha256').update(`paddock.run:${runId}`).digest('hex');
  return { traceId: h.slice(0, 32), spanId: h.slice(32, 48) };
}
