/**
 * Stops as they cross between replicas (the stop bus's wire). Any role that may connect to the
 * database can NOTIFY (`pg_notify` is granted to everyone), so a stop sent in clear would let a
 * reporting login end any org's calls in flight. A stop goes sealed for its org (`BusSeal`, route
 * `stop`), and on arrival it is acted on only when it opens (an org on record, sealed by a replica
 * with the vault's keys), has a stop's shape, names the org it was sealed for, is fresh, and was
 * not seen before: a payload read off the channel and sent again ends nothing.
 *
 * @example
 *   const bus = stopBus(store, url, (e) => killSwitch.apply(e), log, {
 *     wire: sealedStops(busSeal, (orgId) => orgOnRecord(db, orgId)),
 *   });
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { BusSeal } from './bus-seal.ts';
import type { BusWire, SessionEvent } from './stop-bus.ts';

/** How old a stop may be when it arrives (replicas' clocks within this of each other), and how long its id is remembered. */
export const STOP_FRESH_MS = 5 * 60_000;

const Id = z.string().min(1).max(200);

/** Every event the stop bus carries (`SessionEvent`), as a replica seals it. */
const StopEvent = z.union([
  z.object({ kind: z.literal('agent'), orgId: Id, agentId: Id }),
  z.object({ kind: z.literal('org'), orgId: Id }),
  z.object({ kind: z.literal('run'), orgId: Id, runId: Id }),
  z.object({ kind: z.literal('agent-tokens'), orgId: Id, issuedBy: Id }),
  z.object({ kind: z.literal('agent-tokens'), orgId: Id, tokenIds: z.array(Id).min(1).max(10_000) }),
  z.object({ kind: z.literal('connection'), orgId: Id, connectionId: Id }),
  z.object({ kind: z.literal('secret'), orgId: Id, secretId: Id }),
  z.object({ kind: z.literal('person-connection'), orgId: Id, userId: Id, connectionId: Id.optional() }),
]);

/** What is sealed: the stop, when it was sent, and an id of its own. */
const Sealed = z.object({ event: StopEvent, at: z.number().finite(), id: z.uuid() });

/** What crosses in clear: the org it is sealed for (to find its key), and the sealed stop. */
const Sent = z.object({ v: z.literal(1), orgId: Id, sealed: z.string().max(64 * 1024) });

/** Lookups of orgs not yet seen on record at once: a flood of forged org ids costs no more. */
const MAX_LOOKUPS = 8;

/**
 * `orgOnRecord`: whether an org exists (a forged org's id makes no data key in the vault; orgs
 * are never deleted, so one found is remembered). `now`: the wall clock stops are dated by.
 */
export function sealedStops(
  busSeal: BusSeal,
  orgOnRecord: (orgId: string) => Promise<boolean>,
  now: () => number = Date.now,
): BusWire<SessionEvent> {
  /** Stops acted on, by id, with when they arrived (this process's monotonic clock), kept twice the window. */
  const seen = new Map<string, number>();
  const onRecord = new Set<string>();
  let lookups = 0;
  /** Whether the org is on record; false too when too many lookups are under way. */
  const known = async (orgId: string) => {
    if (onRecord.has(orgId)) return true;
    if (lookups >= MAX_LOOKUPS) return false;
    lookups++;
    try {
      if (await orgOnRecord(orgId)) onRecord.add(orgId);
    } finally {
      lookups--;
    }
    return onRecord.has(orgId);
  };
  return {
    async seal(event) {
      const sealed = await busSeal.seal(event.orgId, 'stop', { event, at: now(), id: randomUUID() });
      return { v: 1, orgId: event.orgId, sealed };
    },
    async open(sent) {
      // Its age is judged as it arrives, not after the lookups ahead of it.
      const arrived = now();
      const t = performance.now();
      const wire = Sent.safeParse(sent);
      if (!wire.success || !(await known(wire.data.orgId))) return undefined;
      const { orgId, sealed } = wire.data;
      const opened = await busSeal.open<{ event: SessionEvent }>(orgId, 'stop', sealed);
      const content = Sealed.safeParse(opened);
      if (!content.success || content.data.event.orgId !== orgId) return undefined;
      const { at, id } = content.data;
      for (const [old, seenAt] of seen) if (t - seenAt > 2 * STOP_FRESH_MS) seen.delete(old);
      if (Math.abs(arrived - at) > STOP_FRESH_MS || seen.has(id)) return undefined;
      seen.set(id, t);
      // As it was sent (its keys in the sender's order, which matching a replica's own echo relies on).
      return opened!.event;
    },
  };
}
