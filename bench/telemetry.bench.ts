/**
 * What metrics and traces cost a governed call, as CPU time (not wall time, which is noisier
 * than the 5% target): four Paddock servers, each in its own process and alike but for their
 * telemetry — two with none, two with metrics plus traces (an OTLP receiver in another process
 * takes the spans; Prometheus's scrape every 15 s is played), started in the order none, with,
 * with, none so that whatever being started later costs falls on both alike — are called in turn
 * by the official MCP SDK client (`tools/call` of server-everything's `echo` on `/mcp/{org}`,
 * end to end: HTTP, the agent token, the gate, the durable record, the tool in the org's
 * sandbox), in blocks taking turns so drift in the machine's load falls on all. Each server's
 * CPU time is read from /proc: the whole process (every thread; its MCP server child not
 * counted; its periodic jobs stopped, as no call's cost) from the start of the measured calls
 * to their end, background work (span export, scrapes, result records)
 * included, divided by its calls (a server waiting for its turn uses next to nothing: its
 * timers, about 0.01% of a core). The target: under 5% more CPU per call.
 *
 *   npm run -s bench -- telemetry     BENCH_TELEMETRY_N=… calls each way (default 6000);
 *                                     BENCH_TELEMETRY=metrics|traces|both|none (default both;
 *                                     none: no telemetry on any, the noise floor);
 *                                     BENCH_TELEMETRY_OUTER=1: telemetry on the outer two servers;
 *                                     BENCH_TELEMETRY_PAIRS=k: k servers of each kind (default 2)
 *
 * What the hooks allocate per call is printed too (V8's sampling heap profiler, objects collected
 * since counted): unlike CPU time it does not move with the machine's load, and its collection
 * is a cost of its own, paid on every thread rather than in the hooks.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Telemetry } from '../src/telemetry/index.ts';
import { schedNs, statNs } from './cpu.ts';
import { SERVER_NODE_FLAGS } from './server-flags.ts';
import { figures, report } from './stats.ts';

const N = Number(process.env.BENCH_TELEMETRY_N ?? 6000);
const BLOCK = 200;
const SCRAPE_EVERY_MS = 15_000;
const RECEIVER_PORT = 14318;
const SCRAPE_TOKEN = 'bench-scrape-token-0123456789';

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

interface Server {
  name: 'off' | 'on';
  process: ChildProcess;
  url: string;
  client: Client;
  scrapes: boolean;
}

/** One Paddock server in its own process (`mcp-endpoint-server.ts`), with the SDK client connected. */
async function server(name: Server['name'], env: Record<string, string>): Promise<Server> {
  const p = fork(new URL('./mcp-endpoint-server.ts', import.meta.url), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_NO_JOBS: '1', ...env },
    execArgv: SERVER_NODE_FLAGS,
  });
  const ready = await new Promise<{ url: string; callerToken: string }>((resolve) =>
    p.on('message', (m: { ready?: { url: string; callerToken: string } }) => m.ready && resolve(m.ready)),
  );
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(ready.url), {
      requestInit: { headers: { authorization: `Bearer ${ready.callerToken}` } },
    }),
  );
  return { name, process: p, url: ready.url, client, scrapes: 'PADDOCK_METRICS_TOKEN' in env };
}

const which = process.env.BENCH_TELEMETRY ?? 'both';
const withTelemetry = {
  ...(which === 'metrics' || which === 'both' ? { PADDOCK_METRICS_TOKEN: SCRAPE_TOKEN } : {}),
  ...(which === 'traces' || which === 'both'
    ? { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${RECEIVER_PORT}/v1/traces` }
    : {}),
};
const servers: Server[] = [];
/**
 * Servers of each kind: BENCH_TELEMETRY_PAIRS (default 2; more average out what differs between
 * two alike processes, ±4% a run with two of each). Started off, on, on, off, off, on… (default),
 * or on, off, off, on… with BENCH_TELEMETRY_OUTER=1 — run both ways (and `none` both ways) to see
 * that the placement is not what the figure measures.
 */
const PAIRS = Number(process.env.BENCH_TELEMETRY_PAIRS ?? 2);
const roles = Array.from({ length: PAIRS }, (_, i) =>
  (i % 2 === 0) !== (process.env.BENCH_TELEMETRY_OUTER === '1')
    ? (['off', 'on'] as const)
    : (['on', 'off'] as const),
).flat();
for (const name of roles) servers.push(await server(name, name === 'on' ? withTelemetry : {}));

const echo = async (s: Server) => {
  const r = await s.client.callTool({ name: 'everything__echo', arguments: { message: 'status: ok' } });
  if (r.isError) throw new Error(`${s.name}: ${JSON.stringify(r.content)}`);
};
/** What Prometheus does every 15 s: its CPU is the server's. */
let scrapedBytes = 0;
const scrape = async (s: Server) => {
  const r = await fetch(new URL('/metrics', s.url), { headers: { authorization: `Bearer ${SCRAPE_TOKEN}` } });
  if (r.status !== 200) throw new Error(`scrape: ${r.status}`);
  scrapedBytes = (await r.arrayBuffer()).byteLength;
};

try {
  for (const s of servers) for (let i = 0; i < 500; i++) await echo(s); // warm-up (JIT, sessions)
  for (const s of servers) if (s.scrapes) await scrape(s);
  // The warm-up's own spans sent and records written before the measured calls begin.
  await new Promise((r) => setTimeout(r, 6000));
  const wall = { off: [] as number[], on: [] as number[] };
  /** Each round of four blocks: CPU per call with telemetry over CPU per call without (in-block only). */
  const ratios: number[] = [];
  const load0 = loadavg()[0]!;
  const start = servers.map((s) => ({ stat: statNs(s.process.pid!), sched: schedNs(s.process.pid!) }));
  const lastScrape = servers.map(() => performance.now());
  const run0 = performance.now();
  const block = async (s: Server): Promise<number> => {
    const at = servers.indexOf(s);
    if (s.scrapes && performance.now() - lastScrape[at]! >= SCRAPE_EVERY_MS) {
      await scrape(s);
      lastScrape[at] = performance.now();
    }
    const c0 = schedNs(s.process.pid!);
    for (let i = 0; i < BLOCK; i++) {
      const t0 = process.hrtime.bigint();
      await echo(s);
      wall[s.name].push(Number(process.hrtime.bigint() - t0));
    }
    return schedNs(s.process.pid!) - c0;
  };
  // Each server gets N/PAIRS calls, so each kind N. The turn alternates kinds (none, with, none,
  // with) and rotates every round, so each server follows one of the other kind and takes every
  // place in the round alike.
  const offs = servers.filter((s) => s.name === 'off');
  const ons = servers.filter((s) => s.name === 'on');
  const turn = offs.flatMap((s, i) => [s, ons[i]!]);
  for (let round = 0; round < N / (PAIRS * BLOCK); round++) {
    const cpu = { off: 0, on: 0 };
    for (let k = 0; k < turn.length; k++) {
      const s = turn[(round + k) % turn.length]!;
      cpu[s.name] += await block(s);
    }
    ratios.push(cpu.on / cpu.off);
  }
  // Work the last calls left behind (result records, the last spans sent) is theirs too.
  await new Promise((r) => setTimeout(r, 6000));
  const runMs = performance.now() - run0;
  const used = servers.map((s, i) => ({
    stat: statNs(s.process.pid!) - start[i]!.stat,
    sched: schedNs(s.process.pid!) - start[i]!.sched,
  }));
  const calls = wall.off.length;
  const per = (ns: number) => ns / calls / 1000;
  const sum = (name: Server['name']) =>
    used
      .filter((_, i) => servers[i]!.name === name)
      .reduce((a, u) => ({ stat: a.stat + u.stat, sched: a.sched + u.sched }), { stat: 0, sched: 0 });
  const [uOff, uOn] = [sum('off'), sum('on')];
  const base = figures('governed call, no telemetry (wall)', wall.off);
  report([base, figures(`governed call, ${which} (wall)`, wall.on)], base);
  const added = (a: number, b: number) => `${((100 * (b - a)) / a).toFixed(1)}%`;
  console.log(
    `CPU per governed call (the server process, every thread, /proc/<pid>/task/*/schedstat): no telemetry ${per(uOff.sched).toFixed(1)} µs; ${which} ${per(uOn.sched).toFixed(1)} µs`,
  );
  console.log(
    `  ADDED BY ${which.toUpperCase()}: ${added(uOff.sched, uOn.sched)} CPU per call (target under 5%); /proc/<pid>/stat ticks say ${added(uOff.stat, uOn.stat)}; ${calls} calls each in ${(runMs / 1000).toFixed(0)} s`,
  );
  const sorted = [...ratios].sort((x, y) => x - y);
  const q = (f: number) => (100 * (sorted[Math.floor(f * sorted.length)]! - 1)).toFixed(1);
  console.log(
    `  rounds of ${2 * PAIRS} blocks of ${BLOCK} (in-block CPU only): median ${q(0.5)}%, interquartile ${q(0.25)}% to ${q(0.75)}%, ${ratios.length} rounds; load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`,
  );
  const scraped = servers.find((s) => s.scrapes);
  if (scraped) {
    // What one scrape costs the server (its store reads and the exposition), apart.
    let ns = 0;
    const scrapes = servers.filter((s) => s.scrapes).length * Math.floor(runMs / SCRAPE_EVERY_MS);
    for (let i = 0; i < 5; i++) {
      const c0 = schedNs(scraped.process.pid!);
      await scrape(scraped);
      ns += schedNs(scraped.process.pid!) - c0;
    }
    console.log(
      `  a scrape every ${SCRAPE_EVERY_MS / 1000} s: ${(scrapedBytes / 1024).toFixed(1)} KiB, ${(ns / 5 / 1e6).toFixed(1)} ms CPU each so about ${((scrapes * ns) / 5 / calls / 1000).toFixed(1)} µs a call over this run's ${scrapes} scrapes`,
    );
  }

  // The hooks alone, in this process, around a call that does nothing: what telemetry adds
  // without the rest of the call's noise (a request counted and spanned, a gate call counted and
  // spanned, the spans sent).
  const heap = new Session();
  heap.connect();
  await heap.post('HeapProfiler.enable');
  /** Bytes allocated per call of `fn` (sampled every 256 bytes, the garbage included). */
  const allocated = async (fn: () => Promise<void>, n: number): Promise<number> => {
    await heap.post('HeapProfiler.startSampling', {
      samplingInterval: 256,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    for (let i = 0; i < n; i++) await fn();
    const { profile } = await heap.post('HeapProfiler.stopSampling');
    const total = (node: typeof profile.head): number =>
      node.selfSize + node.children.reduce((a, c) => a + total(c), 0);
    return total(profile.head) / n;
  };
  // The same call without telemetry: what the harness itself allocates.
  const ran = { content: [], isError: false, durationMs: 1, auditEntryId: 'aud_1' };
  const bare = async () => {
    await (async () => ran)();
  };
  await allocated(bare, 1000);
  const bareBytes = await allocated(bare, 20_000);
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
    const result = { content: [], isError: false, durationMs: 1, auditEntryId: 'aud_1' };
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
    let k = 0;
    const bytes = await allocated(async () => {
      await hooked();
      if (++k % BLOCK === 0) await t.tracing?.flush();
    }, 20_000);
    console.log(
      `  the hooks alone (${mode}): ${us.toFixed(1)} µs CPU per call, ${((100 * us * 1000) / (uOff.sched / calls)).toFixed(1)}% of a governed call's ${per(uOff.sched).toFixed(0)} µs; ${((bytes - bareBytes) / 1024).toFixed(1)} KiB allocated per call`,
    );
    await t.close();
  }
} finally {
  for (const s of servers) {
    await s.client.close().catch(() => undefined);
    s.process.send('stop');
    await new Promise((r) => s.process.once('exit', r));
  }
  receiver.kill();
}
