/** Starting and stopping the Paddock server (API + dashboard) on one port. */

import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { chooseSandbox } from '../cells/index.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import { holdDataFolder, openStore, type Store } from '../store/index.ts';
import { createApp } from './app.ts';
import { buildDeps, type Deps } from './deps.ts';
import { upgradeData } from './upgrades.ts';

const VERSION = '0.1.0';

/**
 * How long an idle keep-alive connection is kept: past a load balancer's usual 60 s, so the
 * server is never the side closing a connection a proxy (or client) is about to reuse — with
 * Node's default 5 s that race surfaces as resets (502s behind a proxy).
 */
export const KEEP_ALIVE_MS = 65_000;

export { createApp } from './app.ts';
export type { Deps } from './deps.ts';

/** Stops what the deps started (jobs, cells, MCP servers, sessions, the audit writer last); the store stays open. */
export async function closeDeps(deps: Deps): Promise<void> {
  await deps.slack.close();
  deps.live.feed.close();
  await deps.live.signals.close();
  await deps.scheduler.close();
  await deps.runs.close();
  await deps.cells?.close();
  await deps.sessions.close();
  await deps.mcpSessions.close();
  await deps.gateway.close();
  deps.siem.close();
  await deps.audit.close();
  await deps.telemetry.close();
}

export interface RunningServer {
  url: string;
  port: number;
  deps: Deps;
  close(): Promise<void>;
}

export async function startServer(config: Config, log: Logger, store?: Store): Promise<RunningServer> {
  // On SQLite, one server per data folder: a second would write the same WAL and audit journal.
  const letGo = store || config.databaseUrl ? () => undefined : holdDataFolder(config.home);
  let db: Store;
  try {
    db =
      store ??
      (await openStore({
        home: config.home,
        databaseUrl: config.databaseUrl,
        // Fail-stop: a server that can acknowledge nothing durably exits, and a restart recovers.
        onFatal: (err) => {
          log.fatal({ err }, 'the database can no longer be made durable; exiting');
          process.exit(70);
        },
      }));
  } catch (err) {
    letGo();
    throw err;
  }
  const deps = buildDeps(config, log, db, process.env, await chooseSandbox(config, log));
  await upgradeData(db, deps.vault);
  const app = createApp(deps);
  const release = async () => {
    await closeDeps(deps);
    if (!store) await db.close();
    letGo();
  };
  let server: ServerType;
  try {
    server = await new Promise((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
      s.once('error', reject);
    });
  } catch (err) {
    // A taken port: let go of the store and workers, and let the caller say what to do.
    await release().catch(() => undefined);
    throw err;
  }
  (server as { keepAliveTimeout?: number }).keepAliveTimeout = KEEP_ALIVE_MS;
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  if (config.port === 0) {
    deps.config = { ...config, port, publicUrl: config.publicUrl.replace(/:0$/, `:${port}`) };
  }
  // Only now: a log made from here on takes its checkpoint origin from the real address.
  deps.audit.start();
  // Retention and the other periodic work: first runs shortly after start, then at their intervals.
  deps.scheduler.start();
  // Orgs whose Slack app uses Socket Mode: their connections, opened in the background.
  void deps.slack
    .openSockets()
    .catch((err: unknown) => log.warn({ err }, 'could not open Slack Socket Mode connections'));
  await deps.audit.append({
    orgId: null,
    actor: { type: 'system', id: 'paddock' },
    action: 'platform.started',
    details: { version: VERSION, store: db.dialect, pid: process.pid, sandbox: deps.cells?.sandbox ?? null },
  });
  if (config.unsafeNoSandbox) {
    await deps.audit.append({
      orgId: null,
      actor: { type: 'system', id: 'paddock' },
      action: 'platform.sandbox.disabled',
      outcome: 'failure',
      details: { reason: '--unsafe-no-sandbox: org cells run without isolation' },
    });
  }
  return {
    url,
    port,
    deps,
    close: async () => {
      await new Promise<void>((r) => {
        server.close(() => r());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await release();
    },
  };
}
