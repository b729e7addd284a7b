/**
 * The one fetch every OAuth request for a remote connection goes through: the org's egress
 * proxy (allowlist, no private or loopback addresses unless an explicit entry allows them), so a
 * server naming its own authorization server cannot make Paddock fetch an internal address.
 * It keeps the proxy's last refusal, so an error can say why discovery found nothing.
 */
import { PaddockError } from '../../errors/index.ts';
import { proxiedFetch } from '../proxied-fetch.ts';

export interface EgressFetch {
  fetch: typeof fetch;
  /** The proxy's (or network's) reason for the last request that failed, if any. */
  lastFailure(): string | undefined;
}

export async function egressFetch(
  egress: (orgId: string) => Promise<string | null>,
  orgId: string,
): Promise<EgressFetch> {
  const socket = await egress(orgId);
  if (!socket) {
    throw new PaddockError(
      503,
      'egress_unavailable',
      "Remote MCP servers are reached only through the org's egress proxy, and it is not running (cells are off).",
    );
  }
  const base = proxiedFetch(socket);
  let failure: string | undefined;
  const wrapped = (async (input: string | URL | Request, init?: RequestInit) => {
    try {
      return await base(input as string, init);
    } catch (err) {
      const e = err as Error & { cause?: Error };
      failure = e.message === 'fetch failed' && e.cause ? e.cause.message : e.message;
      throw err;
    }
  }) as typeof fetch;
  return { fetch: wrapped, lastFailure: () => failure };
}
