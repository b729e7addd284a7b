/**
 * The calls in flight on this replica, and what can end them: the kill switch (an agent, or every
 * agent of an org), a brake (a stop decided but not yet durable), and the end of the agent token a
 * call came in on (revoked, or its issuer removed). Ends arrive through the stop bus, from this
 * replica or another.
 *
 * A call is held "as of" the moment its caller read what it stands on (the agent's standing, its
 * token): an end that reached this replica after that moment aborts it even if it is held only
 * later, whichever of the two this replica saw first. So a read and the hold need not be atomic.
 *
 * @example
 *   const held = kills.hold({ orgId, agentId, token }, standing.readAt);
 *   try { await run(held.signal); } finally { held.release(); }
 */
import { ConflictError, type PaddockError, UnauthenticatedError } from '../errors/index.ts';
import { RunStoppedError, StoppedError } from './refusals.ts';

/** Every token a person issued in an org, or these tokens. */
export type TokenEnd = { orgId: string; issuedBy: string } | { orgId: string; tokenIds: string[] };

/** What a stop ends: the calls of an agent, of every agent of an org, of one agent run, or on agent tokens. */
export type StopTarget =
  | { kind: 'agent'; orgId: string; agentId: string }
  | { kind: 'org'; orgId: string }
  | { kind: 'run'; orgId: string; runId: string }
  | ({ kind: 'agent-tokens' } & TokenEnd);

/** Who a call is held for. */
export interface CallHolder {
  orgId: string;
  agentId: string;
  /** The agent token it came in on, with who issued it (a person's id, or a service token's). */
  token?: { id: string; issuedBy: string } | undefined;
  /** The agent run it belongs to. */
  runId?: string | undefined;
}

export interface HeldCall {
  /** Aborts (with a PaddockError saying why) when something ends the call. */
  readonly signal: AbortSignal;
  /** Ends the call now (its caller gave up). */
  abort(reason: PaddockError): void;
  /** The call is over: nothing ends it any more. */
  release(): void;
}

interface Held extends CallHolder {
  controller: AbortController;
}

/**
 * How long an end is remembered for calls whose standing was read before it. Between the read
 * and the hold lie a few steps of one request; a hold later than this is refused outright.
 */
const REMEMBER_MS = 5 * 60_000;

/** Does `target` end the calls of `h`? */
export function covers(target: StopTarget, h: CallHolder): boolean {
  if (target.orgId !== h.orgId) return false;
  switch (target.kind) {
    case 'org':
      return true;
    case 'agent':
      return target.agentId === h.agentId;
    case 'run':
      return target.runId === h.runId;
    case 'agent-tokens':
      if (!h.token) return false;
      return 'issuedBy' in target
        ? target.issuedBy === h.token.issuedBy
        : target.tokenIds.includes(h.token.id);
  }
}

/** Why `target` ends a call. */
export function endReason(target: StopTarget): PaddockError {
  if (target.kind === 'agent') return new StoppedError(false);
  if (target.kind === 'org') return new StoppedError(true);
  if (target.kind === 'run') return new RunStoppedError();
  return new UnauthenticatedError(
    'token_revoked',
    'issuedBy' in target
      ? 'The agent token was revoked: the person who issued it was removed from the organization.'
      : 'The agent token was revoked.',
  );
}

const keyOf = (t: StopTarget) => JSON.stringify(t);

/** A hold far later than its read: no end is remembered that long, so it cannot be checked. */
const STALE = () =>
  new ConflictError('call_stale', 'What this call was checked against was read too long ago; send it again.');

export class KillRegistry {
  /** Calls held now, by agent. */
  readonly #held = new Map<string, Set<Held>>();
  /** Ends seen recently, oldest first, with when (performance.now()) they reached this replica. */
  readonly #recent: Array<{ at: number; target: StopTarget }> = [];
  /** Stops decided but not yet durable, with how many hold each. */
  readonly #brakes = new Map<string, { target: StopTarget; count: number }>();

  /**
   * Holds a call whose standing was read at `readAt` (`performance.now()` taken before the read).
   * Its signal is aborted already if a brake is on for it, or an end that covers it reached this
   * replica since `readAt`.
   */
  hold(who: CallHolder, readAt: number): HeldCall {
    const held: Held = { ...who, controller: new AbortController() };
    const release = () => this.#drop(held);
    const call: HeldCall = {
      signal: held.controller.signal,
      abort: (reason) => {
        release();
        held.controller.abort(reason);
      },
      release,
    };
    const missed = this.#missed(who, readAt);
    if (missed) {
      held.controller.abort(missed);
      return call;
    }
    const set = this.#held.get(who.agentId) ?? new Set();
    this.#held.set(who.agentId, set);
    set.add(held);
    return call;
  }

  /** Ends the calls in flight that `target` covers, and remembers it for calls about to be held. */
  end(target: StopTarget): void {
    this.#recent.push({ at: performance.now(), target });
    this.#forget();
    this.#abort(target);
  }

  /**
   * The kill switch at once, before its commit is durable (a slow disk cannot delay it): the calls
   * `target` covers are aborted and new ones refused on this replica until released. Release once
   * the stop is committed (the stored state refuses calls from then on) or has failed.
   */
  brake(target: StopTarget): () => void {
    const key = keyOf(target);
    const brake = this.#brakes.get(key) ?? { target, count: 0 };
    brake.count += 1;
    this.#brakes.set(key, brake);
    this.end(target);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      brake.count -= 1;
      if (brake.count === 0) this.#brakes.delete(key);
    };
  }

  /**
   * Catching up after ends may have been missed (the stop listener was lost): each call for which
   * `ended` names what ended meanwhile (its agent, org or token) is aborted with that reason.
   */
  sweep(ended: (h: CallHolder) => StopTarget | null): void {
    for (const set of this.#held.values())
      for (const h of set) {
        const target = ended(h);
        if (target) {
          this.#drop(h);
          h.controller.abort(endReason(target));
        }
      }
  }

  /** What is held now (for catching up). */
  holders(): CallHolder[] {
    return [...this.#held.values()].flatMap((set) => [...set]);
  }

  /** How many calls are held now: all, an agent's, or those on agent tokens (the cell page and tests). */
  inFlight(which: { agentId?: string; onTokens?: boolean } = {}): number {
    const sets = which.agentId ? [this.#held.get(which.agentId) ?? []] : [...this.#held.values()];
    let n = 0;
    for (const set of sets) for (const h of set) if (!which.onTokens || h.token) n += 1;
    return n;
  }

  /** Why a call read at `readAt` must not start, if it must not. */
  #missed(who: CallHolder, readAt: number): PaddockError | undefined {
    for (const { target } of this.#brakes.values()) if (covers(target, who)) return endReason(target);
    this.#forget();
    const seen = this.#recent.find((r) => r.at >= readAt && covers(r.target, who));
    if (seen) return endReason(seen.target);
    if (performance.now() - readAt > REMEMBER_MS) return STALE();
    return undefined;
  }

  #abort(target: StopTarget): void {
    const sets = target.kind === 'agent' ? [this.#held.get(target.agentId) ?? []] : this.#held.values();
    for (const set of sets)
      for (const h of set)
        if (covers(target, h)) {
          this.#drop(h);
          h.controller.abort(endReason(target));
        }
  }

  #drop(h: Held): void {
    const set = this.#held.get(h.agentId);
    if (!set?.delete(h)) return;
    if (set.size === 0) this.#held.delete(h.agentId);
  }

  #forget(): void {
    const horizon = performance.now() - REMEMBER_MS;
    while (this.#recent.length > 0 && this.#recent[0]!.at < horizon) this.#recent.shift();
  }
}
