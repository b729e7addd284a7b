/**
 * What metrics and traces cost a governed call, as CPU time (not wall time, which is noisier
 * than the 5% target): Paddock servers, each in its own process and alike but for their
 * telemetry — per epoch two with none and two with metrics plus traces (an OTLP receiver in
 * another process takes the spans; Prometheus's scrape every 15 s is played), started fresh each
 * epoch in alternating order — are called in turn by the official MCP SDK client (`tools/call`
 * of server-everything's `echo` on `/mcp/{org}`, end to end: HTTP, the agent token, the gate, the
 * durable record, the tool in the org's sandbox), in blocks taking turns so drift in the machine's
 * load falls on all, after a long warm-up (V8 compiles for thousands of calls). Each server's CPU
 * time is read from /proc (every thread's schedstat; its MCP server child not counted; its
 * periodic jobs stopped, as no call's cost) from its first measured call to 6 s after its last,
 * so work done between its turns (span export, scrapes, result records) counts, divided by its
 * calls. The figure comes with a 95% interval drawn over the processes, each within its epoch:
 * two alike processes differ for their whole life by a few percent, a major collection (~0.1 s
 * of CPU) is a lump a process meets a few times by chance, and the machine itself is faster or
 * slower for minutes at a time (an epoch's servers share that). The target: under 5% more CPU
 * per call.
 *
 *   npm run -s bench -- telemetry     BENCH_TELEMETRY_N=… calls each way (default 48000);
 *                                     BENCH_TELEMETRY_EPOCHS=… fresh servers this many times (3);
 *                                     BENCH_TELEMETRY_OLD_SPACE_MB=… old generation's room from
 *                                     the start (400; 0: V8's own sizing, major collections by lot);
 *                                     BENCH_TELEMETRY_PAIRS=k: k servers of each kind an epoch (2);
 *                                     BENCH_TELEMETRY_WARM=… warm-up calls per server (5000);
 *                                     BENCH_TELEMETRY=metrics|traces|both|none (default both;
 *                                     none: no telemetry on any, the noise floor)
 *
 * What each server costs doing nothing for 10 s after its calls is printed too (CPU a second: the
 * timers telemetry adds, which the figure above spreads over the calls of the run).
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
import type { SpanContext } from '@opentelemetry/api';
import { Telemetry } from '../src/telemetry/index.ts';
import { schedNs, schedNsByThread, statNs } from './cpu.ts';
import { SERVER_NODE_FLAGS } from './server-flags.ts';
import { figures, report } from './stats.ts';

const N = Number(process.env.BENCH_TELEMETRY_N ?? 48000);
/**
 * Room for the old generation from the start (MB; 0: V8's own sizing, as `npm start` runs): with
 * V8's sizing a process meets a major collection (~0.1 s of CPU) every 10–15 s or never in a
 * whole epoch, by how it happened to size its heap at start-up — a lottery that fell on the
 * processes without telemetry in nine runs of nine and made telemetry read 2–4% cheaper than it
 * is. With the room given, neither kind meets one, and what is left is each call's own work and
 * its young collections (the interval narrows from ±3% to ±1%). Telemetry keeps nothing past a
 * batch, so it does not change how often a long-running server needs one.
 */
const OLD_SPACE_MB = Number(process.env.BENCH_TELEMETRY_OLD_SPACE_MB ?? 400);
const OLD_SPACE = OLD_SPACE_MB > 0 ? [`--initial-old-space-size=${OLD_SPACE_MB}`] : [];
const WARM = Number(process.env.BENCH_TELEMETRY_WARM ?? 5000);
const BLOCK = 100;
/** The hooks alone: spans sent every this many calls (two spans a call: the SDK's batch of 512). */
const SPANS_SENT_EVERY = 256;
const SCRAPE_EVERY_MS = 15_000;
const RECEIVER_PORT = 14318;
const SCRAPE_TOKEN = 'bench-scrape-token-0123456789';

// The OTLP receiver lives in its own process: its CPU is not Paddock's. It answers as a collector
// does: an empty ExportTraceServiceResponse, in the request's encoding.
const receiver = spawn(
  process.execPath,
  [
    '-e',
    `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => { const pb = q.headers['content-type'] === 'application/x-protobuf'; s.writeHead(200, { 'content-type': pb ? 'application/x-protobuf' : 'application/json' }).end(pb ? '' : '{}'); }); }).listen(${RECEIVER_PORT}, '127.0.0.1', () => console.log('up'));`,
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
    env: { ...process.env, BENCH_NO_JOBS: '1', BENCH_GC_COUNT: '1', ...env },
    execArgv: [...SERVER_NODE_FLAGS, ...OLD_SPACE],
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

interface GcCount {
  minor: number;
  major: number;
  pauseMs: number;
}
/** A server's collections so far (its own count, `mcp-endpoint-server.ts`). */
const gcCount = (s: Server) =>
  new Promise<GcCount>((resolve) => {
    const take = (m: { stats?: { gc: GcCount } }) => {
      if (!m.stats) return;
      s.process.off('message', take);
      resolve(m.stats.gc);
    };
    s.process.on('message', take);
    s.process.send('stats');
  });

const which = process.env.BENCH_TELEMETRY ?? 'both';
const withTelemetry = {
  ...(which === 'metrics' || which === 'both' ? { PADDOCK_METRICS_TOKEN: SCRAPE_TOKEN } : {}),
  ...(which === 'traces' || which === 'both'
    ? { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${RECEIVER_PORT}/v1/traces` }
    : {}),
};
/**
 * Servers of each kind in each epoch: BENCH_TELEMETRY_PAIRS (default 2). Started off, on, on, off
 * in one epoch and on, off, off, on in the next, so that placement falls on both kinds alike.
 */
const PAIRS = Number(process.env.BENCH_TELEMETRY_PAIRS ?? 2);
/**
 * Epochs: each starts its servers afresh (BENCH_TELEMETRY_EPOCHS, default 3). Two alike processes
 * differ for their whole life by a few percent (what V8 compiled when, how it sized the young
 * generation, the major collections each happens to meet): more processes, not only more calls,
 * are what average that out, and the interval is drawn over processes.
 */
const EPOCHS = Number(process.env.BENCH_TELEMETRY_EPOCHS ?? 3);

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

/** What one server process used over its measured calls. */
interface Measured {
  name: Server['name'];
  calls: number;
  cpuNs: number;
  statNs: number;
  threads: Map<string, number>;
  gc: GcCount;
  /** Its whole CPU in each round of its epoch (work between its turns included). */
  perRound: number[];
}
const wall = { off: [] as number[], on: [] as number[] };
/** Each server's CPU over `IDLE_MS` with no call, after its measured calls. */
const IDLE_MS = 10_000;
const idleNs = { off: [] as number[], on: [] as number[] };
let scrapeNs = 0;
let scrapesMade = 0;
/** Scrapes made during measured calls. */
let scrapesDuring = 0;

/** One epoch: fresh servers, warmed up, then `calls` measured calls per kind, taking turns in blocks. */
async function epoch(e: number, calls: number): Promise<Measured[]> {
  const roles = Array.from({ length: PAIRS }, (_, i) =>
    (i + e) % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const),
  ).flat();
  const servers: Server[] = [];
  try {
    for (const name of roles) servers.push(await server(name, name === 'on' ? withTelemetry : {}));
    // Warm-up, long: V8 still compiles (on its worker threads, ~8% of a call's CPU after 500
    // calls, ~2% after 5,000) functions that run once every few hundred calls — the span export,
    // the checkpoint, the journal's turnover — and what it compiles late is no call's steady cost.
    // Taking turns in blocks as the measured calls do, so every server has the same history
    // (warmed one after another, the first would sit idle while the others warm).
    for (let done = 0; done < WARM; done += BLOCK)
      for (const s of servers) for (let i = 0; i < Math.min(BLOCK, WARM - done); i++) await echo(s);
    for (const s of servers) if (s.scrapes) await scrape(s);
    // The warm-up's own spans sent and records written before the measured calls begin.
    await new Promise((r) => setTimeout(r, 6000));
    const pid = (s: Server) => s.process.pid!;
    const gc0 = await Promise.all(servers.map(gcCount));
    const threads0 = servers.map((s) => schedNsByThread(pid(s)));
    const stat0 = servers.map((s) => statNs(pid(s)));
    const start = servers.map((s) => schedNs(pid(s)));
    const perRound = servers.map(() => [] as number[]);
    let edge = [...start];
    const lastScrape = servers.map(() => performance.now());
    const block = async (s: Server): Promise<void> => {
      const at = servers.indexOf(s);
      if (s.scrapes && performance.now() - lastScrape[at]! >= SCRAPE_EVERY_MS) {
        await scrape(s);
        lastScrape[at] = performance.now();
        scrapesDuring++;
      }
      for (let i = 0; i < BLOCK; i++) {
        const t0 = process.hrtime.bigint();
        await echo(s);
        wall[s.name].push(Number(process.hrtime.bigint() - t0));
      }
    };
    // The turn alternates kinds (none, with, none, with) and rotates every round, so each server
    // follows one of the other kind and takes every place in the round alike.
    const offs = servers.filter((s) => s.name === 'off');
    const ons = servers.filter((s) => s.name === 'on');
    const turn = offs.flatMap((s, i) => [s, ons[i]!]);
    const rounds = Math.max(1, Math.round(calls / (PAIRS * BLOCK)));
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < turn.length; k++) await block(turn[(round + k) % turn.length]!);
      const now = servers.map((s) => schedNs(pid(s)));
      for (let i = 0; i < servers.length; i++) perRound[i]!.push(now[i]! - edge[i]!);
      edge = now;
    }
    // Work the last calls left behind (result records, the last spans sent) is theirs too: the last round's.
    await new Promise((r) => setTimeout(r, 6000));
    const gc1 = await Promise.all(servers.map(gcCount));
    const measured = servers.map((s, i): Measured => {
      const cpuNs = schedNs(pid(s)) - start[i]!;
      perRound[i]![rounds - 1]! += cpuNs - perRound[i]!.reduce((a, b) => a + b, 0);
      const threads = new Map<string, number>();
      for (const [t, ns] of schedNsByThread(pid(s))) threads.set(t, ns - (threads0[i]!.get(t) ?? 0));
      return {
        name: s.name,
        calls: rounds * BLOCK,
        cpuNs,
        statNs: statNs(pid(s)) - stat0[i]!,
        threads,
        gc: {
          minor: gc1[i]!.minor - gc0[i]!.minor,
          major: gc1[i]!.major - gc0[i]!.major,
          pauseMs: gc1[i]!.pauseMs - gc0[i]!.pauseMs,
        },
        perRound: perRound[i]!,
      };
    });
    // What each server costs doing nothing (its timers: the event loop's sampler, the trail's
    // backstop, checkpoints): a cost per second, which the figure above spreads over its calls.
    const idle0 = servers.map((s) => schedNs(pid(s)));
    await new Promise((r) => setTimeout(r, IDLE_MS));
    for (const [i, s] of servers.entries()) idleNs[s.name].push(schedNs(pid(s)) - idle0[i]!);
    // What one scrape costs a server (its store reads and the exposition), apart.
    const scraped = servers.find((s) => s.scrapes);
    if (scraped)
      for (let i = 0; i < 5; i++) {
        const c0 = schedNs(pid(scraped));
        await scrape(scraped);
        scrapeNs += schedNs(pid(scraped)) - c0;
        scrapesMade++;
      }
    return measured;
  } finally {
    for (const s of servers) {
      await s.client.close().catch(() => undefined);
      s.process.send('stop');
      await new Promise((r) => s.process.once('exit', r));
    }
  }
}

try {
  const load0 = loadavg()[0]!;
  const run0 = performance.now();
  const all: Measured[] = [];
  for (let e = 0; e < EPOCHS; e++) all.push(...(await epoch(e, Math.round(N / EPOCHS))));
  const runMs = performance.now() - run0;
  const kinds = ['off', 'on'] as const;
  const of = (name: Server['name'], from: Measured[] = all) => from.filter((m) => m.name === name);
  const perCall = (ms: Measured[], ns: (m: Measured) => number = (m) => m.cpuNs) =>
    ms.reduce((a, m) => a + ns(m), 0) / ms.reduce((a, m) => a + m.calls, 0) / 1000;
  const [cpuOff, cpuOn] = kinds.map((k) => perCall(of(k))) as [number, number];
  const calls = of('off').reduce((a, m) => a + m.calls, 0);
  const base = figures('governed call, no telemetry (wall)', wall.off);
  report([base, figures(`governed call, ${which} (wall)`, wall.on)], base);
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
  const q = (a: number[], f: number) => a[Math.min(a.length - 1, Math.floor(f * a.length))]!;
  // How sure: the processes of each kind drawn again with replacement, within their epoch. An
  // epoch's servers share the machine's state of those minutes (whole epochs read 735 or 880 µs
  // a call for the same code); drawn within it, that shared part falls on both kinds alike.
  const epochs = Array.from({ length: EPOCHS }, (_, e) => all.slice(e * 2 * PAIRS, (e + 1) * 2 * PAIRS));
  const pick = (ms: Measured[]) => ms.map(() => ms[Math.floor(Math.random() * ms.length)]!);
  /** CPU added per call (counted by `ns`: all threads, or one kind), as a share of a call's whole CPU without telemetry. */
  const added = (ms: Measured[], ns: (m: Measured) => number) =>
    (perCall(of('on', ms), ns) - perCall(of('off', ms), ns)) / perCall(of('off', ms));
  const interval = (ns: (m: Measured) => number): [number, number] => {
    const draws: number[] = [];
    for (let b = 0; b < 4000; b++)
      draws.push(
        added(
          epochs.flatMap((ms) => [...pick(of('off', ms)), ...pick(of('on', ms))]),
          ns,
        ),
      );
    draws.sort((x, y) => x - y);
    return [q(draws, 0.025), q(draws, 0.975)];
  };
  const draws = interval((m) => m.cpuNs);
  // The main thread alone: V8's helper threads do a process's major collections, and the
  // processes of one kind met more of them than the other's in every run so far (V8 sizes the
  // old generation by its own heuristics) — a lump that can flatter either kind.
  const mainNs = (m: Measured) => m.threads.get('MainThread') ?? 0;
  const main = added(all, mainNs);
  const mainDraws = interval(mainNs);
  console.log(
    `CPU per governed call (the server process, every thread, /proc/<pid>/task/*/schedstat): no telemetry ${cpuOff.toFixed(1)} µs; ${which} ${cpuOn.toFixed(1)} µs`,
  );
  console.log(
    `  ADDED BY ${which.toUpperCase()}: ${pct(cpuOn / cpuOff - 1)} CPU per call (target under 5%), 95% interval ${pct(draws[0])} to ${pct(draws[1])} (the processes drawn again, each within its epoch); /proc/<pid>/stat ticks say ${pct(perCall(of('on'), (m) => m.statNs) / perCall(of('off'), (m) => m.statNs) - 1)}; ${calls} calls each way in ${(runMs / 1000).toFixed(0)} s, ${EPOCHS} epochs of ${PAIRS} fresh servers of each kind, ${WARM} calls of warm-up each`,
  );
  console.log(
    `  ADDED ON THE MAIN THREAD ALONE: ${pct(main)} of a call's CPU, 95% interval ${pct(mainDraws[0])} to ${pct(mainDraws[1])} (V8's helper threads, which do most of a major collection, left out); the target read on the larger: ${pct(Math.max(main, cpuOn / cpuOff - 1))}, ${Math.max(main, cpuOn / cpuOff - 1) < 0.05 ? 'under' : 'NOT under'} 5%`,
  );
  console.log(
    `  each epoch: ${epochs.map((ms) => pct(perCall(of('on', ms)) / perCall(of('off', ms)) - 1)).join(', ')}`,
  );
  console.log(
    `  each process, µs a call: none ${of('off')
      .map((m) => perCall([m]).toFixed(0))
      .join(', ')}; ${which} ${of('on')
      .map((m) => perCall([m]).toFixed(0))
      .join(', ')}`,
  );
  // Within each round, each kind's servers' whole CPU (the same calls each way): its median is robust to lumps.
  const ratios: number[] = [];
  for (const epochOf of epochs) {
    const rounds = epochOf[0]!.perRound.length;
    for (let r = 0; r < rounds; r++) {
      const sum = (k: Server['name']) => of(k, epochOf).reduce((a, m) => a + m.perRound[r]!, 0);
      ratios.push(sum('on') / sum('off') - 1);
    }
  }
  ratios.sort((x, y) => x - y);
  console.log(
    `  ${ratios.length} rounds of ${2 * PAIRS} blocks of ${BLOCK}: median ${pct(q(ratios, 0.5))}, interquartile ${pct(q(ratios, 0.25))} to ${pct(q(ratios, 0.75))}; load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`,
  );
  // Where it went, by thread: the main thread's work, V8's helpers (compiling, collecting), libuv's (disk syncs).
  const byThread = (k: Server['name']) => {
    const sums = new Map<string, number>();
    for (const m of of(k)) for (const [t, ns] of m.threads) sums.set(t, (sums.get(t) ?? 0) + ns);
    return sums;
  };
  const [tOff, tOn] = kinds.map(byThread) as [Map<string, number>, Map<string, number>];
  const us = (ns: number) => ns / calls / 1000;
  const names = [...new Set([...tOff.keys(), ...tOn.keys()])].sort(
    (a, b) => (tOff.get(b) ?? 0) - (tOff.get(a) ?? 0),
  );
  console.log(
    `  by thread, µs a call (none → ${which}): ${names
      .filter((t) => us(Math.max(tOff.get(t) ?? 0, tOn.get(t) ?? 0)) >= 0.5)
      .map((t) => `${t} ${us(tOff.get(t) ?? 0).toFixed(1)} → ${us(tOn.get(t) ?? 0).toFixed(1)}`)
      .join('; ')}`,
  );
  const gcOf = (k: Server['name']) =>
    of(k).reduce(
      (a, m) => ({
        minor: a.minor + m.gc.minor,
        major: a.major + m.gc.major,
        pauseMs: a.pauseMs + m.gc.pauseMs,
      }),
      { minor: 0, major: 0, pauseMs: 0 },
    );
  const [gOff, gOn] = kinds.map(gcOf) as [GcCount, GcCount];
  console.log(
    `  collections (every process of the kind): none ${gOff.minor} young, ${gOff.major} major (${us(gOff.pauseMs * 1e6).toFixed(1)} µs a call paused); ${which} ${gOn.minor} young, ${gOn.major} major (${us(gOn.pauseMs * 1e6).toFixed(1)} µs) — a major collection is ~0.1 s of CPU: a run meets a few, by chance`,
  );
  const idleMsPerS = (k: Server['name']) =>
    idleNs[k].reduce((a, b) => a + b, 0) / idleNs[k].length / 1e6 / (IDLE_MS / 1000);
  console.log(
    `  idle, no call for ${IDLE_MS / 1000} s: none ${idleMsPerS('off').toFixed(2)} ms CPU a second; ${which} ${idleMsPerS('on').toFixed(2)} ms (each server)`,
  );
  if (scrapesMade > 0) {
    const each = scrapeNs / scrapesMade;
    console.log(
      `  a scrape every ${SCRAPE_EVERY_MS / 1000} s: ${(scrapedBytes / 1024).toFixed(1)} KiB, ${(each / 1e6).toFixed(1)} ms CPU each so about ${((scrapesDuring * each) / calls / 1000).toFixed(1)} µs a call over the ${scrapesDuring} scrapes made during the measured calls (counted in the figure)`,
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
      caller: {
        orgId: 'org_bench',
        agentId: 'agt_bench',
        onBehalfOf: null,
        requestId: 'req_bench',
        requestSpan: undefined as SpanContext | undefined,
      },
      connectionId: 'con_bench',
      tool: 'echo',
      calledAs: 'everything__echo',
      args: {},
      approval: 'pause' as const,
    };
    const result = { content: [], isError: false, durationMs: 1, auditEntryId: 'aud_1' };
    // As the gate tells its observer (`src/gateway/gate.ts`), after the call's own await.
    const call = async (requestSpan: SpanContext | undefined) => {
      req.caller.requestSpan = requestSpan;
      const watch = t.gate!.started(req);
      await result;
      t.gate!.done(watch, result);
      // The audit trail's two appends and their commit, as a governed call makes them.
      t.trail?.appended(0.0004);
      t.trail?.appended(0.0002);
      t.trail?.committed(2, 0.0003);
    };
    // As the server's request middleware (`src/server/observe.ts`) calls them.
    const hooked = async () => {
      const started = performance.now();
      const span = t.requestStarted(() => undefined, started);
      try {
        await call(span?.context);
      } finally {
        t.requestEnded(span, 'POST', '/mcp/{org}', 200, started, performance.now());
      }
    };
    for (let i = 0; i < 5000; i++) await hooked();
    await t.tracing?.flush();
    const n = 20_000;
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      await hooked();
      if (i % SPANS_SENT_EVERY === 0) await t.tracing?.flush();
    }
    await t.tracing?.flush();
    const c = process.cpuUsage(c0);
    const hookUs = (c.user + c.system) / n;
    let k = 0;
    const bytes = await allocated(async () => {
      await hooked();
      if (++k % SPANS_SENT_EVERY === 0) await t.tracing?.flush();
    }, 20_000);
    console.log(
      `  the hooks alone (${mode}): ${hookUs.toFixed(1)} µs CPU per call, ${((100 * hookUs) / cpuOff).toFixed(1)}% of a governed call's ${cpuOff.toFixed(0)} µs; ${((bytes - bareBytes) / 1024).toFixed(1)} KiB allocated per call`,
    );
    await t.close();
  }
} finally {
  receiver.kill();
}
