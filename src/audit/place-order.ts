/**
 * The order a batch's entries take in their log: those other transactions left in the outbox
 * (configuration changes) and those queued in this process (gate records, often acknowledged
 * from the journal well before they are placed), merged by time, each keeping its own order. So a
 * decision acknowledged before a change was made comes before that change's entry, as it happened;
 * at the same millisecond the queued entry goes first.
 */
import type { PreparedEntry } from './entry.ts';

/** An entry queued in this process, with its place in the batch. */
export interface Queued {
  queued: PreparedEntry;
  i: number;
}

export function placeOrder<W extends { time: string }>(waiting: W[], queued: Queued[]): Array<W | Queued> {
  if (waiting.length === 0) return queued;
  if (queued.length === 0) return waiting;
  const out: Array<W | Queued> = [];
  let a = 0;
  let b = 0;
  while (a < waiting.length || b < queued.length) {
    const q = queued[b];
    const w = waiting[a];
    if (q && (!w || q.queued.header.time <= w.time)) {
      out.push(q);
      b++;
    } else if (w) {
      out.push(w);
      a++;
    }
  }
  return out;
}
