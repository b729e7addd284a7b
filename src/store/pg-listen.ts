/**
 * Listening on PostgreSQL: one dedicated connection per listener (LISTEN needs a session of its
 * own, not a pooled one), re-established with backoff when it is lost. Once it listens (first
 * and after every reconnection) the listener is called with no payload: what was sent before
 * that never arrives, so it should look at the database.
 */
import pg from 'pg';
import { assertChannel, type OnNotify } from './notify.ts';

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 10_000;

export function pgListen(url: string, channel: string, onNotify: OnNotify): () => Promise<void> {
  assertChannel(channel);
  let client: pg.Client | undefined;
  let closed = false;
  let retryMs = FIRST_RETRY_MS;
  let retry: NodeJS.Timeout | undefined;
  const call = (payload?: string) => {
    try {
      onNotify(payload);
    } catch (err) {
      process.emitWarning(`a listener of "${channel}" failed: ${(err as Error).message}`);
    }
  };
  const connect = async () => {
    const c = new pg.Client({ connectionString: url, application_name: `paddock-listen-${channel}` });
    client = c;
    let lost = false;
    const reconnect = () => {
      if (lost) return; // one reconnection per lost client ('error' and 'end' may both come)
      lost = true;
      if (client === c) client = undefined;
      void c.end().catch(() => undefined);
      if (closed) return;
      retry = setTimeout(() => {
        retry = undefined;
        void connect();
      }, retryMs);
      retry.unref();
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    };
    c.on('error', reconnect);
    c.on('end', reconnect);
    c.on('notification', (n) => {
      if (n.channel === channel) call(n.payload);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
    } catch {
      reconnect();
      return;
    }
    if (closed || lost) return;
    retryMs = FIRST_RETRY_MS;
    call();
  };
  void connect();
  return async () => {
    closed = true;
    clearTimeout(retry);
    const c = client;
    client = undefined;
    await c?.end().catch(() => undefined);
  };
}
