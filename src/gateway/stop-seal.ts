/**
 * Stops as they cross between replicas (the stop bus's wire). Any role that may connect to the
 * database can NOTIFY (`pg_notify` is granted to everyone), so a stop sent in clear would let a
 * reporting login end any org's calls in flight. A stop goes sealed for its org (`BusSeal`, route
 * `stop`), and on arrival it is acted on only when it opens (an org on record, sealed by a replica
 * with the vault's keys), has a stop's shape, names the org it was sealed for, is fresh, and was
 * not seen before: a payload read off the channel and sent again ends nothing.
 *
 * @example
 *   const bus = stopBus(store, url, (e) => killSwitch.apply(e), log, resync, undefined,
 *     sealedStops(busSeal, (orgId) => orgOnRecord(db, orgId)));
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

/** `orgOnRecord`: whether an org exists (a forged org's id makes no data key in the vault). */
export function sealedStops(
  busSeal: BusSeal,
  orgOnRecord: (orgId: string) => Promise<boolean>,
  now: () => number = Date.now,
): BusWire<SessionEvent> {
  /** Stops acted on within the freshness window, by id, with when they were sent. */
  const seen = new Map<string, number>();
  return {
    async seal(event) {
      const sealed = await busSeal.seal(event.orgId, 'stop', { event, at: now(), id: randomUUID() });
      return { v: 1, orgId: event.orgId, sealed };
    },
    async open(sent) {
      const wire = Sent.safeParse(sent);
      if (!wire.success || !(await orgOnRecord(wire.data.orgId))) return undefined;
      const { orgId, sealed } = wire.data;
      const content = Sealed.safeParse(await busSeal.open(orgId, 'stop', sealed));
      if (!content.success || content.data.event.orgId !== orgId) return undefined;
      const { event, at, id } = content.data;
      const t = now();
      for (const [old, sentAt] of seen) if (t - sentAt > STOP_FRESH_MS) seen.delete(old);
      if (Math.abs(t - at) > STOP_FRESH_MS || seen.has(id)) return undefined;
      seen.set(id, at);
      return event as SessionEvent;
    },
  };
}
