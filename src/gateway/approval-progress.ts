/**
 * A call paused for a person's approval keeps its MCP client informed: when the client gave a
 * `progressToken`, a progress notification says at once that the call waits (and for which
 * request), then again every `everyMs` (a quarter of a short wait, at least a second) until the
 * person decides or the wait ends. Clients that
 * reset their timeout on progress keep waiting as long as Paddock does (up to the org's wait).
 * `progress` is the seconds waited (strictly increasing), `total` the longest wait.
 *
 * @example
 *   await gate.call({ ...req, onWaiting: waitingProgress(extra) });
 */
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { GateRequest } from './request.ts';

/** How often a waiting call reports, by default: well inside the common 60-s client timeout. */
export const WAITING_PROGRESS_MS = 10_000;

type Extra = Pick<RequestHandlerExtra<ServerRequest, ServerNotification>, '_meta' | 'sendNotification'>;

/** What a request has sent under its progress token so far (relayed progress follows on from it). */
export interface ProgressSent {
  last: number;
}

/** The gate's `onWaiting` for a request whose client asked for progress; none otherwise. */
export function waitingProgress(
  extra: Extra,
  everyMs = WAITING_PROGRESS_MS,
  sent: ProgressSent = { last: 0 },
): GateRequest['onWaiting'] {
  const progressToken = extra._meta?.progressToken;
  if (progressToken === undefined) return undefined;
  return ({ approvalId, waitMs }) => {
    const started = performance.now();
    const every = Math.min(everyMs, Math.max(1000, waitMs / 4));
    const send = () => {
      const waited = Math.round((performance.now() - started) / 100) / 10;
      sent.last = Math.round(Math.max(waited, sent.last + 0.1) * 10) / 10;
      void extra
        .sendNotification({
          method: 'notifications/progress',
          params: {
            progressToken,
            progress: sent.last,
            total: Math.round(waitMs / 1000),
            message: `Waiting for a person's approval (request ${approvalId}); Paddock waits up to ${Math.round(waitMs / 1000)} s.`,
          },
        })
        .catch(() => undefined);
    };
    send();
    const timer = setInterval(send, every);
    timer.unref();
    return () => clearInterval(timer);
  };
}
