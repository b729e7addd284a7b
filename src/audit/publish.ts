/**
 * Shipping signed checkpoints out of the database as they are signed: appended to a file per
 * log (one JSON line each) and posted to a webhook. With a copy elsewhere, rolling the database
 * back or deleting its newest rows no longer goes unnoticed (`paddock audit verify
 * --checkpoints DIR`).
 */
import { appendFileSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log/index.ts';
import type { CheckpointPublisher } from './checkpoints.ts';

export function fileCheckpointPublisher(dir: string): CheckpointPublisher {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return (logId, size, note) => {
    appendFileSync(
      join(dir, `${logId}.checkpoints.jsonl`),
      `${JSON.stringify({ log: logId, size, note })}\n`,
      { mode: 0o600 },
    );
  };
}

/** Posts `{log, size, note}`; retries with backoff in the background, never blocking the writer. */
export function webhookCheckpointPublisher(url: string, log: Logger, maxTries = 6): CheckpointPublisher {
  return (logId, size, note) => {
    const body = JSON.stringify({ log: logId, size, note });
    const attempt = async (n: number): Promise<void> => {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        if (res.ok) return;
        throw new Error(`HTTP ${res.status}`);
      } catch (err) {
        if (n + 1 >= maxTries) {
          log.warn({ err, logId, size }, 'checkpoint webhook gave up');
          return;
        }
        setTimeout(() => void attempt(n + 1), Math.min(60_000, 500 * 2 ** n)).unref();
      }
    };
    void attempt(0);
  };
}

/**
 * Whether signed checkpoints leave the database's storage: through a webhook, to a directory on
 * another device, or because the database itself is on another host. Published only beside the
 * database, they protect nothing against someone holding that disk (they can roll both back).
 */
export function checkpointCustody(opts: {
  dir: string;
  home: string;
  webhook: string | undefined;
  databaseUrl: string | undefined;
}): { offHost: boolean; description: string } {
  if (opts.webhook) return { offHost: true, description: `posted to ${new URL(opts.webhook).host}` };
  if (
    opts.databaseUrl &&
    !['localhost', '127.0.0.1', '[::1]', ''].includes(new URL(opts.databaseUrl).hostname)
  )
    return { offHost: true, description: `${opts.dir} (the database is on another host)` };
  let sameDevice = true;
  try {
    sameDevice = statSync(opts.dir).dev === statSync(opts.home).dev;
  } catch {}
  return sameDevice
    ? {
        offHost: false,
        description: `${opts.dir} only, on the database's own disk — set PADDOCK_CHECKPOINT_WEBHOOK or put PADDOCK_CHECKPOINT_DIR on other storage (docs/audit.md)`,
      }
    : { offHost: true, description: `${opts.dir} (other storage than the database)` };
}
