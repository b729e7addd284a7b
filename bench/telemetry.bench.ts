/**
 * What metrics and traces cost a governed call, measured as this process's CPU time (user +
 * system) per call rather than wall time, which is noisier than the difference: `tools/call` on
 * `/mcp/{org}` end to end (the HTTP pipeline, the agent token, the gate, the durable audit
 * record, server-everything's `echo` in the org's sandbox), on two servers alike but for their
 * telemetry — none, and metrics plus traces sent to an OTLP receiver in another process — in
 * alternating blocks, so drift falls on both. The target: under 5% more CPU per call.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bubblewrap } from '../src/cells/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { buildDeps } from '../src/server/deps.ts';
import { openStore } from '../src/store/index.ts';
import { Telemetry } from '../src/telemetry/index.ts';
import { call, createApp, seedOrg } from '../src/testing/fixtures.ts';
import { figures, report } from './stats.ts';

const N = Number(process.env.BENCH_TELEMETRY_N ?? 6000);
const BLOCK = 100;
const EVERYTHING = ['node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'];
const RECEIVER_PORT = 14318;

// The OTLP receiver lives in its own process: its CPU is not Paddock's.
const receiver = spawn(
  process.execPath,
  [
    '-e',
    `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => s.end('{}')); }).listen(${RECEIVER_PORT}, '127.0.0.1', () => console.log('up'));`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
await new Promise((r) => receiver.stdout!.once('data', r));

async function server(name: string, env: Record<string, string>) {
  const home = mkdtempSync(join(tmpdir(), `paddock-bench-tel-${name}-`));
  const store = await openStore({ home });
  const deps = buildDeps(
    loadConfig({ home, port: 7070 }, env),
    silentLogger,
    store,
    {},
    { provider: bubblewrap, problem: null },
  );
  deps.audit.start();
  const app = createApp(deps);
  const org = await seedOrg(store, 'acme');
  const admin = org.people.admin.token;
  const api = async (path: string, body?: unknown) =>
    (await call(app, 'post', `/api/v1/orgs/acme${path}`, { token: admin, body })).body;
  const conn = await api('/connections', {
    name: 'everything',
    transport: 'stdio',
    command: 'node',
    args: EVERYTHING,
  });
  await api(`/connections/${conn.id}/tools/refresh`);
  const agent = await api('/agents', {
    name: 'bench',
    scope: 'organization',
    instructions: 'x',
    model: { provider: 'openai', model: 'm' },
  });
  await api(`/agents/${agent.id}/grants`, { connectionId: conn.id, tool: 'echo' });
  const token = (await api(`/agents/${agent.id}/tokens`, { name: 'bench' })).token as string;
  let id = 0;
  const governed = async () => {
    const r = await call(app, 'post', '/mcp/acme', {
      token,
      headers: { accept: 'application/json, text/event-stream' },
      body: {
        jsonrpc: '2.0',
        id: ++id,
        method: 'tools/call',
        params: { name: 'everything__echo', arguments: { message: 'ok' } },
      },
    });
    if (r.status !== 200 || r.body?.result?.isError) throw new Error(`call failed: ${r.text}`);
  };
  const close = async () => {
    await deps.gateway.close();
    await deps.audit.close();
    await deps.telemetry.close();
    await store.close();
    rmSync(home, { recursive: true, force: true });
  };
  return { name, deps, governed, close };
}

const off = await server('off', {});
/**
 * `metrics`, `traces`, or `both` (the default): which telemetry the second server has; `none`
 * measures the two servers' own difference (what the figures cannot tell apart from noise).
 */
const which = process.env.BENCH_TELEMETRY ?? 'both';
const on = await server('on', {
  ...(which === 'metrics' || which === 'both'
    ? { PADDOCK_METRICS_TOKEN: 'bench-scrape-token-0123456789' }
    : {}),
  ...(which === 'traces' || which === 'both'
    ? { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${RECEIVER_PORT}/v1/traces` }
    : {}),
});
try {
  const cpu = { off: 0, on: 0 };
  const wall = { off: [] as number[], on: [] as number[] };
  /** Each pair of neighbouring blocks: CPU per call with telemetry over CPU per call without. */
  const ratios: number[] = [];
  for (const s of [off, on]) for (let i = 0; i < 1000; i++) await s.governed(); // warm-up (JIT)
  const block = async (s: typeof on) => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < BLOCK; i++) {
      const t0 = process.hrtime.bigint();
      await s.governed();
      wall[s.name as 'off' | 'on'].push(Number(process.hrtime.bigint() - t0));
    }
    // What the block left behind (result records, spans sent) is its own cost too.
    await s.deps.audit.flush();
    await s.deps.telemetry.tracing?.flush();
    const c = process.cpuUsage(c0);
    cpu[s.name as 'off' | 'on'] += c.user + c.system;
    return c.user + c.system;
  };
  for (let pair = 0; pair < N / BLOCK; pair++) {
    // Alternating which goes first, so a drift in the machine's load falls on both alike.
    const [a, b] = pair % 2 === 0 ? [off, on] : [on, off];
    const ca = await block(a);
    const cb = await block(b);
    ratios.push(a === on ? ca / cb : cb / ca);
  }
  const scraped = (await on.deps.telemetry.metrics?.scrape()) ?? '';
  const base = figures('governed call, no telemetry (wall)', wall.off);
  report([base, figures(`governed call, ${which} (wall)`, wall.on)], base);
  const perOff = cpu.off / wall.off.length;
  const perOn = cpu.on / wall.on.length;
  const sorted = [...ratios].sort((x, y) => x - y);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log(
    `CPU per governed call, no telemetry: ${perOff.toFixed(1)} µs; ${which}: ${perOn.toFixed(1)} µs`,
  );
  console.log(
    `  added by ${which}: ${(100 * (median - 1)).toFixed(1)}% CPU per call, median of ${ratios.length} paired blocks of ${BLOCK} (interquartile ${(100 * (sorted[Math.floor(sorted.length / 4)]! - 1)).toFixed(1)}% to ${(100 * (sorted[Math.floor((3 * sorted.length) / 4)]! - 1)).toFixed(1)}%); pooled ${((100 * (perOn - perOff)) / perOff).toFixed(1)}%; target under 5%`,
  );
  if (scraped) console.log(`  one scrape after the run: ${(scraped.length / 1024).toFixed(1)} KiB`);

  // The hooks alone, around a call that does nothing: what telemetry adds, without the rest of
  // the call's noise (a request span or count, a gate span or count, the spans sent).
  for (const mode of ['metrics', 'traces', 'both'] as const) {
    const t = new Telemetry({
      metrics: mode !== 'traces',
      tracesEndpoint: mode !== 'metrics' ? `http://127.0.0.1:${RECEIVER_PORT}/v1/traces` : undefined,
      traceContent: false,
      version: 'bench',
    });
    const req = {
      caller: { orgId: 'org_bench', agentId: 'agt_bench', onBehalfOf: null, requestId: 'req_bench' },
      connectionId: 'con_bench',
      tool: 'echo',
      calledAs: 'everything__echo',
      args: {},
      approval: 'pause' as const,
    };
    const result = { content: [], isError: false, durationMs: 1, auditIndex: 1 };
    const hooked = () =>
      t.request(
        'POST',
        () => undefined,
        async () => {
          await t.gate!(req, async () => result);
        },
        () => ({ route: '/mcp/{org}', status: 200 }),
      );
    for (let i = 0; i < 5000; i++) await hooked();
    await t.tracing?.flush();
    const n = 20_000;
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      await hooked();
      if (i % BLOCK === 0) await t.tracing?.flush();
    }
    await t.tracing?.flush();
    const c = process.cpuUsage(c0);
    const us = (c.user + c.system) / n;
    console.log(
      `  the hooks alone (${mode}): ${us.toFixed(1)} µs CPU per call, ${((100 * us) / perOff).toFixed(1)}% of a governed call's ${perOff.toFixed(0)} µs`,
    );
    await t.close();
  }
} finally {
  await off.close();
  await on.close();
  receiver.kill();
}
