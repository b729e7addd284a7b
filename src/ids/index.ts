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
  return `${prefix}_${randomPart()}`;
}

/** 16 characters of 5 random bits each. */
function randomPart(): string {
  if (poolAt + 16 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  let out = '';
  for (let i = 0; i < 16; i++) out += ID_ALPHABET[pool[poolAt + i]! & 31];
  poolAt += 16;
  return out;
}

/**
 * An id that sorts by the time it was made: 10 characters of the millisecond time (a ULID's layout,
 * in this alphabet), then the 80 random bits of `newId`. Ids made at high rates and indexed (audit
 * entries) are then added at the end of their index, touching one or two pages per batch, where
 * random ids touch a page each.
 *
 * @example
 *   const id = newTimeOrderedId('evt'); // evt_01jf3k9x2m5k2x… (26 characters after the prefix)
 */
export function newTimeOrderedId(prefix: string, now = Date.now()): string {
  let time = '';
  for (let t = now, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = ID_ALPHABET[t % 32]! + time;
  return `${prefix}_${time}${randomPart()}`;
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
