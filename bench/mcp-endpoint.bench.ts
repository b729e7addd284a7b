/**
 * What an agent running elsewhere gets: the official MCP SDK client (Streamable HTTP) calling
 * server-everything's `echo` through a running Paddock server's `/mcp/{org}` (its own process,
 * real disk: `mcp-endpoint-server.ts`), against the same server reached directly (stdio) and
 * through a plain, non-governing proxy from npm (supergateway, stdio → Streamable HTTP, one
 * child per session), interleaved in one run, at concurrency 1 and 16. Prints p50/p99, the
 * latency Paddock adds over the proxy, throughput at 16, CPU time per call of the Paddock
 * process and of the proxy process (every thread, to the nanosecond from each /proc/<pid>/task/<tid>/schedstat,
 * over the whole interleaved run, so what a server does after answering — a batch placed in the
 * log, a checkpoint signed — counts as its calls' too; the kernel's share from /proc/<pid>/stat;
 * the MCP server child of each is not counted), the disk syncs per call (the audit journal's and the store's WAL
 * fdatasyncs, plus two per checkpoint), and `tools/list` for an agent with 1,000 grants (with the CPU time per list of the
 * Paddock process and of the proxy process).
 *
 *   npm run -s bench -- mcp-endpoint      (BENCH_MCP_N=… calls per target and concurrency;
 *                                          BENCH_MCP_LIST=0 skips tools/list)
 */

import { type ChildProcess, fork, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { schedNs, statSplitNs } from './cpu.ts';
import { SERVER_NODE_FLAGS } from './server-flags.ts';
import { type Figures, figures, report } from './stats.ts';

const N = Number(process.env.BENCH_MCP_N ?? 3000);
const EVERYTHING = ['node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'];
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** The Paddock server, in its own process. */
const paddock: ChildProcess = fork(new URL('./mcp-endpoint-server.ts', import.meta.url), {
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  // BENCH_MCP_PROFILE=dir: a CPU profile of the Paddock process, to see where its time goes.
  execArgv: [
    ...SERVER_NODE_FLAGS,
    ...(process.env.BENCH_MCP_PROFILE
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_MCP_PROFILE}`]
      : []),
  ],
});
const ask = <T>(msg: string, key: string) =>
  new Promise<T>((resolve) => {
    const on = (m: Record<string, T>) => {
      if (key in m) {
        paddock.off('message', on);
        resolve(m[key]!);
      }
    };
    paddock.on('message', on);
    if (msg) paddock.send(msg);
  });
const ready = await ask<{ url: string; callerToken: string; manyToken: string }>('', 'ready');
const syncs = () =>
  ask<{ fdatasyncs: number; checkpoints: number; journal: number; journalInline: number }>('stats', 'stats');

/** The plain proxy: supergateway, stateful (one server-everything per client session). */
const proxyPort = await freePort();
const proxy = spawn(
  process.execPath,
  [
    'node_modules/supergateway/dist/index.js',
    '--stdio',
    `${process.execPath} ${EVERYTHING.join(' ')}`,
    '--outputTransport',
    'streamableHttp',
    '--stateful',
    '--port',
    String(proxyPort),
    '--logLevel',
    'none',
  ],
  { stdio: 'ignore' },
);

const clients: Client[] = [];
async function connect(transport: StdioClientTransport | StreamableHTTPClientTransport): Promise<Client> {
  const c = new Client({ name: 'bench', version: '1.0.0' });
  await c.connect(transport);
  clients.push(c);
  return c;
}
const http = (url: string, token?: string) =>
  new StreamableHTTPClientTransport(
    new URL(url),
    token ? { requestInit: { headers: { authorization: `Bearer ${token}` } } } : {},
  );

try {
  const direct = await connect(
    new StdioClientTransport({ command: process.execPath, args: EVERYTHING, stderr: 'ignore' }),
  );
  let viaProxy: Client | undefined;
  for (let i = 0; i < 100 && !viaProxy; i++) {
    viaProxy = await connect(http(`http://127.0.0.1:${proxyPort}/mcp`)).catch(async () => {
      await new Promise((r) => setTimeout(r, 100));
      return undefined;
    });
  }
  if (!viaProxy) throw new Error('supergateway did not start');
  const viaPaddock = await connect(http(ready.url, ready.callerToken));

  const echo = (c: Client, name: string) => async () => {
    const r = await c.callTool({ name, arguments: { message: 'status: ok' } });
    if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
  };
  const targets = [
    { name: 'direct (stdio)', call: echo(direct, 'echo'), pid: undefined },
    { name: 'plain proxy (supergateway)', call: echo(viaProxy, 'echo'), pid: proxy.pid },
    { name: 'Paddock /mcp/{org}', call: echo(viaPaddock, 'everything__echo'), pid: paddock.pid },
  ] as const;
  for (const t of targets) for (let i = 0; i < 300; i++) await t.call(); // warm-up

  for (const c of [1, 16]) {
    // Interleaved: one call per target in turn at 1; at 16, rounds of 16 calls at once per target.
    const samples = targets.map(() => [] as number[]);
    const wall = targets.map(() => 0);
    // Each server's CPU over the whole run (the others' turns too: what it does meanwhile is its
    // calls' work; idle, a Node server's timers use next to nothing).
    const serving = targets.map((t) => t.pid);
    const cpu0 = serving.map((pid) => (pid ? schedNs(pid) : 0));
    const split0 = serving.map((pid) => (pid ? statSplitNs(pid) : { user: 0, system: 0 }));
    const syncsBefore = await syncs();
    const round = c;
    for (let done = 0; done < N; done += round) {
      for (const [i, t] of targets.entries()) {
        const w0 = process.hrtime.bigint();
        let left = round;
        await Promise.all(
          Array.from({ length: c }, async () => {
            while (left-- > 0) {
              const t0 = process.hrtime.bigint();
              await t.call();
              samples[i]!.push(Number(process.hrtime.bigint() - t0));
            }
          }),
        );
        wall[i]! += Number(process.hrtime.bigint() - w0);
      }
    }
    // Work left behind (a result record committed after the answer) is Paddock's too.
    await new Promise((r) => setTimeout(r, 50));
    const cpu = serving.map((pid, i) => (pid ? (schedNs(pid) - cpu0[i]!) / 1e6 : 0));
    const sys = serving.map((pid, i) => (pid ? (statSplitNs(pid).system - split0[i]!.system) / 1e6 : 0));
    const syncsAfter = await syncs();
    const perCall = (n: number) => (n / samples[2]!.length).toFixed(3);
    const wal = syncsAfter.fdatasyncs - syncsBefore.fdatasyncs;
    const checkpoints = 2 * (syncsAfter.checkpoints - syncsBefore.checkpoints);
    const journal = syncsAfter.journal - syncsBefore.journal;
    const inline = syncsAfter.journalInline - syncsBefore.journalInline;
    console.log(`\nconcurrency ${c} (${N} calls each, interleaved in rounds of ${round}):`);
    const rows: Figures[] = targets.map((t, i) => figures(t.name, samples[i]!));
    const [, pr, pd] = rows as [Figures, Figures, Figures];
    report(rows, pr);
    const tput = wall.map((w, i) => samples[i]!.length / (w / 1e9));
    console.log(
      `  added over the plain proxy: p50 ${((pd.medianUs - pr.medianUs) / 1000).toFixed(2)} ms, p99 ${((pd.p99Us - pr.p99Us) / 1000).toFixed(2)} ms`,
    );
    console.log(
      `  throughput: direct ${tput[0]!.toFixed(0)}/s, proxy ${tput[1]!.toFixed(0)}/s, Paddock ${tput[2]!.toFixed(0)}/s (${((100 * tput[2]!) / tput[1]!).toFixed(0)}% of the proxy's)`,
    );
    const cpuProxy = cpu[1]! / samples[1]!.length;
    const cpuPaddock = cpu[2]! / samples[2]!.length;
    // The kernel's share (socket and pipe writes, the WAL's writes and sync) beside user space's.
    const inKernel = (i: number) => `${(sys[i]! / samples[i]!.length).toFixed(3)} ms in the kernel`;
    console.log(
      `  CPU per call: proxy ${cpuProxy.toFixed(3)} ms (${inKernel(1)}), Paddock ${cpuPaddock.toFixed(3)} ms (${inKernel(2)}) (×${(cpuPaddock / cpuProxy).toFixed(2)})`,
    );
    console.log(
      `  disk syncs per Paddock call: ${perCall(journal + wal + checkpoints)} (audit journal fdatasyncs ${perCall(journal)}, ${perCall(inline)} of them on the event loop; WAL fdatasyncs ${perCall(wal)}, checkpoints' syncs ${perCall(checkpoints)})`,
    );
  }

  // tools/list for an agent with 1,000 grants, against the same agent's list through the proxy.
  if (process.env.BENCH_MCP_LIST !== '0') await listBench(viaProxy, proxy.pid!);
} finally {
  for (const c of clients) await c.close().catch(() => undefined);
  proxy.kill();
  paddock.send('stop');
  await new Promise((r) => paddock.once('exit', r));
}

async function listBench(viaProxy: Client, proxyPid: number): Promise<void> {
  const many = await connect(http(ready.url, ready.manyToken));
  const listed = (await many.listTools()).tools.length;
  if (listed !== 1000) throw new Error(`expected 1,000 tools, got ${listed}`);
  const raw = async () => {
    const r = await fetch(ready.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ready.manyToken}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    await r.arrayBuffer();
  };
  const lists = { sdk: [] as number[], raw: [] as number[], proxy: [] as number[] };
  // CPU time of the serving process (Paddock, or the proxy: its MCP server child not counted).
  const cpu = { sdk: 0, raw: 0, proxy: 0 };
  for (let i = 0; i < 20; i++) await raw();
  for (let i = 0; i < 300; i++) {
    for (const [k, fn] of [
      ['proxy', () => viaProxy.listTools()],
      ['sdk', () => many.listTools()],
      ['raw', raw],
    ] as const) {
      const pid = k === 'proxy' ? proxyPid : paddock.pid!;
      const cpu0 = schedNs(pid);
      const t0 = process.hrtime.bigint();
      await fn();
      lists[k].push(Number(process.hrtime.bigint() - t0));
      cpu[k] += (schedNs(pid) - cpu0) / 1e6;
    }
  }
  console.log('\ntools/list:');
  const plain = (await viaProxy.listTools()).tools.length;
  const base = figures(`plain proxy, server-everything (${plain} tools), SDK client`, lists.proxy);
  report(
    [
      base,
      figures('Paddock, agent with 1,000 grants, SDK client', lists.sdk),
      figures('Paddock, agent with 1,000 grants, one HTTP POST', lists.raw),
    ],
    base,
  );
  const per = (k: keyof typeof cpu) => `${(cpu[k] / lists[k].length).toFixed(3)} ms`;
  console.log(
    `  CPU per list: proxy ${per('proxy')}, Paddock ${per('sdk')} (SDK client) / ${per('raw')} (one POST)`,
  );
}
