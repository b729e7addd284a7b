/**
 * Calls in progress on each agent token, on this replica, so that revoking a token, or removing
 * the person who issued it, ends them at once (the database refuses the token's next request).
 * A call is held from the moment before its token was checked: a call whose check came before an
 * end that reached this replica meanwhile never starts, whichever of the two this replica saw
 * first. Ends arrive through the stop bus, from this replica or another.
 *
 * @example
 *   const checkedAt = performance.now();
 *   const who = await authenticateAgentToken(db, secret);
 *   const held = tokenCalls.hold({ orgId, tokenId: who.tokenId, issuedBy: who.createdBy }, checkedAt);
 *   try { await gateway.call({ ...req, signal: held.signal }); } finally { held.release(); }
 */
import { UnauthenticatedError } from '../errors/index.ts';
import type { Db } from '../store/index.ts';

/** Every token a person issued in an org, or these tokens. */
export type TokenEnd = { orgId: string; issuedBy: string } | { orgId: string; tokenIds: string[] };

export interface TokenHolder {
  orgId: string;
  tokenId: string;
  /** Who issued the token: a person's id, or a service token's. */
  issuedBy: string;
}

interface Held extends TokenHolder {
  controller: AbortController;
}

/**
 * How long an end is remembered for calls whose token was checked before it. Between the check
 * and the hold lie a few reads of one request; a hold later than this is refused outright.
 */
const REMEMBER_MS = 5 * 60_000;

function ends(end: TokenEnd, h: TokenHolder): boolean {
  if (end.orgId !== h.orgId) return false;
  return 'issuedBy' in end ? end.issuedBy === h.issuedBy : end.tokenIds.includes(h.tokenId);
}

function endedError(end: TokenEnd | null): UnauthenticatedError {
  return new UnauthenticatedError(
    'token_revoked',
    end && 'issuedBy' in end
      ? 'The agent token was revoked: the person who issued it was removed from the organization.'
      : 'The agent token was revoked.',
  );
}

export class TokenCalls {
  readonly #held = new Set<Held>();
  /** Ends seen recently, oldest first, with when (performance.now()) they reached this replica. */
  readonly #recent: Array<{ at: number; end: TokenEnd }> = [];

  /**
   * Holds a call on a token that was checked at `checkedAt` (`performance.now()` taken before
   * the check). The signal aborts, with a `token_revoked` reason, when the token's access ends;
   * it is aborted already if it ended after the check. Release it when the call is over.
   */
  hold(who: TokenHolder, checkedAt: number): { signal: AbortSignal; release: () => void } {
    const held: Held = { ...who, controller: new AbortController() };
    this.#forget();
    const now = performance.now();
    const missed = this.#recent.find((r) => r.at >= checkedAt && ends(r.end, who));
    if (missed || now - checkedAt > REMEMBER_MS) held.controller.abort(endedError(missed?.end ?? null));
    else this.#held.add(held);
    return { signal: held.controller.signal, release: () => this.#held.delete(held) };
  }

  /** Ends the calls in progress that `end` covers, and remembers it for calls about to be held. */
  end(end: TokenEnd): void {
    this.#recent.push({ at: performance.now(), end });
    this.#forget();
    for (const h of this.#held) {
      if (!ends(end, h)) continue;
      this.#held.delete(h);
      h.controller.abort(endedError(end));
    }
  }

  /**
   * Catches up after ends may have been missed (the stop listener was lost): calls on tokens
   * that are no longer live end now.
   */
  async resync(db: Db): Promise<void> {
    const ids = [...new Set([...this.#held].map((h) => h.tokenId))];
    if (ids.length === 0) return;
    const now = new Date().toISOString();
    const live = await db
      .selectFrom('agent_tokens')
      .select('id')
      .where('id', 'in', ids)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .execute();
    const alive = new Set(live.map((r) => r.id));
    for (const h of this.#held) {
      if (alive.has(h.tokenId)) continue;
      this.#held.delete(h);
      h.controller.abort(endedError(null));
    }
  }

  /** How many calls are held now (for tests). */
  get size(): number {
    return this.#held.size;
  }

  #forget(): void {
    const horizon = performance.now() - REMEMBER_MS;
    while (this.#recent.length > 0 && this.#recent[0]!.at < horizon) this.#recent.shift();
  }
}
