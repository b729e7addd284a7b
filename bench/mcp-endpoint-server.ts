/**
 * The Paddock server of `mcp-endpoint.bench.ts`, in its own process (so its CPU time is its own):
 * started as `paddock up` starts it, on the real disk, with the request log written (to nowhere),
 * one org, server-everything as a connection, an agent granted `echo` and one granted 1,000
 * tools. Tells its parent what to call (IPC), and on request how many disk syncs it has made.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { loadConfig } from '../src/config/index.ts';
import { createLogger } from '../src/log/index.ts';
import { startServer } from '../src/server/index.ts';
import { seedOrg } from '../src/testing/fixtures.ts';

const EVERYTHING = ['node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'];
/** The real disk (not tmpfs): syncs cost what they cost. */
const home = mkdtempSync(join(process.cwd(), '.bench-mcp-'));
const log = createLogger({ level: 'info', destination: { write: () => undefined } });
// Telemetry only when the parent asks (telemetry.bench.ts runs one server with it, one without).
const telemetry = Object.fromEntries(
  ['PADDOCK_METRICS_TOKEN', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'].flatMap((k) =>
    process.env[k] ? [[k, process.env[k]!]] : [],
  ),
);
const server = await startServer(loadConfig({ home, port: 0 }, telemetry), log);
// Benches comparing servers: the periodic jobs (a first compliance collection at a random minute
// after start) are no call's cost, and would land in one server's figures and not another's.
if (process.env.BENCH_NO_JOBS === '1') await server.deps.scheduler.close();
const { store } = server.deps;
const org = await seedOrg(store, 'acme');
const api = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(`${server.url}/api/v1/orgs/acme${path}`, {
    method,
    headers: { authorization: `Bearer ${org.people.admin.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await r.json()) as Record<string, unknown> & { id: string; token: string };
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
};
const conn = await api('POST', '/connections', {
  name: 'everything',
  transport: 'stdio',
  command: 'node',
  args: EVERYTHING,
});
await api('POST', `/connections/${conn.id}/tools/refresh`);
const agent = async (name: string) =>
  api('POST', '/agents', {
    name,
    scope: 'organization',
    instructions: 'x',
    model: { provider: 'openai', model: 'm' },
  });
const caller = await agent('bench');
await api('POST', `/agents/${caller.id}/grants`, { connectionId: conn.id, tool: 'echo' });
const callerToken = (await api('POST', `/agents/${caller.id}/tokens`, { name: 'bench' })).token;

// 1,000 grants: `echo` listed under 1,000 names, each granted — on a connection of its own that no
// agent calls, since a session's list_changed re-lists its connection as the server has it.
const many = await agent('many');
const listed = await api('POST', '/connections', {
  name: 'listed',
  transport: 'stdio',
  command: 'node',
  args: EVERYTHING,
});
await api('POST', `/connections/${listed.id}/tools/refresh`);
const echo = await store.db
  .selectFrom('connection_tools')
  .selectAll()
  .where('connection_id', '=', listed.id)
  .where('name', '=', 'echo')
  .executeTakeFirstOrThrow();
const now = new Date().toISOString();
for (let i = 0; i < 1000; i += 100) {
  const names = Array.from({ length: 100 }, (_, k) => `echo-${i + k}`);
  await store.db
    .insertInto('connection_tools')
    .values(names.map((name) => ({ ...echo, name })))
    .execute();
  await store.db
    .insertInto('grants')
    .values(
      names.map((name) => ({
        id: `grt_many_${name}`,
        org_id: org.id,
        agent_id: many.id,
        connection_id: listed.id,
        tool: name,
        effect: 'allow' as const,
        constraints: '[]',
        not_before: null,
        not_after: null,
        requires_approval: 0,
        tool_digest: null,
        status: 'active' as const,
        created_by: 'bench',
        created_at: now,
        revoked_by: null,
        revoked_at: null,
      })),
    )
    .execute();
}
const manyToken = (await api('POST', `/agents/${many.id}/tokens`, { name: 'bench' })).token;

// Collections counted when the parent asks (telemetry.bench.ts: a major one is a lump of CPU a run may or may not meet).
const gc = { minor: 0, major: 0, pauseMs: 0 };
if (process.env.BENCH_GC_COUNT === '1')
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail: { kind: number } }).detail.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.minor++;
      gc.pauseMs += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });

process.on('message', (m: string) => {
  if (m === 'stats')
    process.send!({
      stats: {
        ...store.syncStats?.(),
        journal: server.deps.audit.journalSyncs,
        journalInline: server.deps.audit.journalSyncsInline,
        gc,
      },
    });
  if (m === 'stop')
    void server
      .close()
      .finally(() => rmSync(home, { recursive: true, force: true }))
      .finally(() => process.exit(0));
});
process.send!({ ready: { url: `${server.url}/mcp/acme`, callerToken, manyToken } });
