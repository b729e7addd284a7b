/**
 * Calls in progress that their caller may cancel, by the id it gave them. One registry for every
 * way a call comes in: an MCP client's `notifications/cancelled` can arrive on another HTTP
 * request than its call (the endpoint is stateless), a REST client cancels by going away. Keys
 * are per agent and per caller (its run, or its token), so no one cancels another's calls.
 *
 * @example
 *   const c = cancellations.begin({ agentId, caller: tokenId, id: rpcId }, [request.signal]);
 *   try { await gate.call({ ...req, signal: c.signal }); } finally { c.end(); }
 */
import { CancelledError } from './refusals.ts';

export interface CallKey {
  agentId: string;
  /** Whose calls these are: a run's id, an agent token's, or a request's. */
  caller: string;
  /** The caller's own id for the call (a JSON-RPC request id). */
  id: string | number;
}

const keyOf = (k: CallKey) => `${k.agentId}\u0000${k.caller}\u0000${typeof k.id}:${k.id}`;

export class Cancellations {
  readonly #calls = new Map<string, AbortController>();

  /**
   * Registers a call; its signal aborts when it is cancelled by its key, or when any of `also`
   * aborts (the transport's own cancellation, the client going away). End it when it is over.
   */
  begin(key: CallKey, also: Array<AbortSignal | undefined> = []): { signal: AbortSignal; end: () => void } {
    const k = keyOf(key);
    const controller = new AbortController();
    this.#calls.set(k, controller);
    const signals = [controller.signal, ...also.filter((s) => s !== undefined)];
    return {
      signal: signals.length === 1 ? controller.signal : AbortSignal.any(signals),
      end: () => {
        if (this.#calls.get(k) === controller) this.#calls.delete(k);
      },
    };
  }

  /** The caller gave up on this call: it ends, even while paused for approval. */
  cancel(key: CallKey): void {
    this.#calls.get(keyOf(key))?.abort(new CancelledError());
  }

  /** How many calls are registered (for tests). */
  get size(): number {
    return this.#calls.size;
  }
}
