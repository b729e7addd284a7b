/**
 * Agent runs, end to end through the HTTP API, against a scripted provider that answers at once
 * (so what is measured is Paddock's own time): a real bubblewrap cell per org, the AI SDK loop in
 * it, the model call through the org's egress proxy, every tool call through the gate.
 *
 * - platform time per run step, against the same AI SDK loop run in process with local tools
 *   (what one would write without Paddock), interleaved in one run;
 * - 200 concurrent runs across 20 orgs: errors and latency;
 * - time to the first streamed token, against the same baseline streamed;
 * - stop → run ended;
 * - an idle cell's memory, before and after its first run (the SDK loads lazily).
 *
 *   npm run bench -- runtime        (BENCH_RUNS=… BENCH_ORGS=… shrink it)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenAI } from '@ai-sdk/openai';
import { jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { bubblewrap } from '../src/cells/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { initOrg, operatorCaller } from '../src/identity/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { type RunningServer, startServer } from '../src/server/index.ts';
import { type ModelTurn, startModelServer } from '../src/testing/model-server/index.ts';
import { figures, report } from './stats.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 60);
const ORGS = Number(process.env.BENCH_ORGS ?? 20);
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 200);
const STEPS = 4; // three tool calls and the answer
const EVERYTHING = ['node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'];

const check = await bubblewrap.check();
if (!check.ok) throw new Error(`bubblewrap is needed: ${check.reason}`);

/** The scripted model: `echo` three times, then the answer; the step is read from the request. */
const models = await startModelServer((req): ModelTurn => {
  // "hello": a plain answer at once (time to first token); anything else: the tool steps.
  if (req.lastUserText === 'hello') return { text: 'Hello there, how can I help today?' };
  const done = req.toolResults.length;
  const echo = req.tools.find((t) => t.endsWith('echo')) ?? 'echo';
  return done < STEPS - 1
    ? { toolCalls: [{ name: echo, args: { message: `step ${done}` } }] }
    : { text: `Finished after ${done} tool calls, all fine.` };
});
const port = Number(new URL(models.url).port);
const home = mkdtempSync(join(tmpdir(), 'paddock-bench-runtime-'));
let server: RunningServer | undefined;

/** RSS of a process and all its descendants (bwrap + the cell), from /proc. */
function treeRss(pid: number): number {
  const kids = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .filter(Boolean)
    .map(Number);
  const own = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  return own + kids.reduce((s, k) => s + treeRss(k), 0);
}

const TICK_MS = 1000 / 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

/** CPU time (user + system, every thread) of this process's descendants (cells, MCP servers), in ms. */
function descendantsCpuMs(pid = process.pid): number {
  const kids = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .filter(Boolean)
    .map(Number);
  let ms = 0;
  for (const k of kids) {
    try {
      const stat = readFileSync(`/proc/${k}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ms += (Number(f[11]) + Number(f[12])) * TICK_MS + descendantsCpuMs(k);
    } catch {
      // gone meanwhile
    }
  }
  return ms;
}

/** CPU time of this process (the control plane, the model server and the baseline), in ms. */
const ownCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

try {
  server = await startServer(loadConfig({ home, port: 0 }, {}), silentLogger);
  const url = server.url;
  const db = server.deps.store.db;
  const orgs: Array<{ slug: string; id: string; token: string; agent: string }> = [];
  for (let i = 0; i < ORGS; i++) {
    const slug = `org-${i}`;
    const made = await initOrg(db, operatorCaller(), { slug, ownerEmail: `o@${slug}.test`, withToken: true });
    const token = made.token!;
    const api = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${url}/api/v1/orgs/${slug}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await r.json().catch(() => ({}))) as { id: string } & Record<string, unknown>;
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
      return json;
    };
    await api('PATCH', '', {
      settings: { egressAllowlist: [{ host: '127.0.0.1', port, allowPrivate: true }], runMaxSteps: 10 },
    });
    await api('post', '/secrets', {
      name: 'key',
      kind: 'model_key',
      provider: 'openai',
      value: `sk-bench-${slug}-0123456789`,
      baseUrl: `${models.url}/v1`,
    });
    const con = await api('post', '/connections', {
      name: 'everything',
      transport: 'stdio',
      command: 'node',
      args: EVERYTHING,
    });
    await api('post', `/connections/${con.id}/tools/refresh`);
    const agent = await api('post', '/agents', {
      name: 'bench',
      scope: 'organization',
      instructions: 'Be quick.',
      model: { provider: 'openai', model: 'gpt-bench' },
    });
    await api('post', `/agents/${agent.id}/grants`, { connectionId: con.id, tool: 'echo' });
    orgs.push({ slug, id: made.org.id, token, agent: agent.id });
  }
  const first = orgs[0]!;
  const runVia = (o: (typeof orgs)[number], message: string, accept = 'application/json') =>
    fetch(`${url}/api/v1/orgs/${o.slug}/agents/${o.agent}/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json', accept },
      body: JSON.stringify({ message }),
    });

  // Idle memory: the cell ready, before any run; then after its first run loaded the SDK.
  const cell = await server.deps.cells!.ensure(first.id);
  await new Promise((r) => setTimeout(r, 1500));
  const idleBefore = treeRss(cell.pid!);

  // The baseline: the same loop in process, tools local, same scripted provider.
  const openai = createOpenAI({ baseURL: `${models.url}/v1`, apiKey: 'sk-local' });
  const echo = tool({
    description: 'Echoes a message',
    inputSchema: jsonSchema<{ message: string }>({
      type: 'object',
      properties: { message: { type: 'string' } },
    }),
    execute: async ({ message }) => `Echo: ${message}`,
  });
  const local = async () => {
    const r = streamText({
      model: openai('gpt-bench'),
      prompt: 'go',
      tools: { echo },
      stopWhen: stepCountIs(10),
    });
    await r.consumeStream();
    if ((await r.steps).length !== STEPS) throw new Error('the baseline did not take 4 steps');
  };
  const governed = async () => {
    const r = await runVia(first, 'go');
    const run = (await r.json()) as { status: string; steps: number; error: unknown };
    if (run.status !== 'completed' || run.steps !== STEPS) throw new Error(`run: ${JSON.stringify(run)}`);
  };
  for (let i = 0; i < 5; i++) {
    await local();
    await governed();
  }
  const idleAfter = treeRss(cell.pid!);
  const base: number[] = [];
  const gov: number[] = [];
  // CPU: this process's per run (the baseline's, or the control plane's with the model server),
  // the cells' and MCP servers' over the whole loop (idle while the baseline runs).
  let baseCpu = 0;
  let govCpu = 0;
  let syncs = 0;
  const kidsBefore = descendantsCpuMs();
  for (let i = 0; i < RUNS; i++) {
    let c0 = ownCpuMs();
    let t0 = process.hrtime.bigint();
    await local();
    base.push(Number(process.hrtime.bigint() - t0) / STEPS);
    baseCpu += ownCpuMs() - c0;
    c0 = ownCpuMs();
    const s0 = server.deps.store.syncStats?.().fdatasyncs ?? 0;
    t0 = process.hrtime.bigint();
    await governed();
    gov.push(Number(process.hrtime.bigint() - t0) / STEPS);
    govCpu += ownCpuMs() - c0;
    syncs += (server.deps.store.syncStats?.().fdatasyncs ?? 0) - s0;
  }
  const kidsCpu = descendantsCpuMs() - kidsBefore;
  console.log(`\nper run step (${STEPS} steps a run, ${RUNS} runs each, interleaved):`);
  const b = figures('baseline: AI SDK loop in process, local tools', base);
  const g = figures('Paddock: run in the cell, tools through the gate', gov);
  report([b, g], b);
  const perStep = gov.map((x, i) => x - base[i]!);
  const added = figures('platform time added per step (governed − baseline)', perStep);
  report([added]);
  const perStepCpu = (ms: number) => `${((ms / RUNS / STEPS) * 1000).toFixed(0)} µs`;
  console.log(
    `CPU per step: baseline ${perStepCpu(baseCpu)} (its process); Paddock ${perStepCpu(govCpu + kidsCpu)}: control plane with the model server ${perStepCpu(govCpu)}, cell and MCP server ${perStepCpu(kidsCpu)} (10 ms ticks over the loop); load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    `database syncs (fdatasync of the WAL) per governed run of ${STEPS} steps: ${(syncs / RUNS).toFixed(2)}`,
  );

  // Time to the first streamed token.
  const ttftBase: number[] = [];
  const ttftGov: number[] = [];
  const textFirst = async (res: Response) => {
    const reader = res.body!.getReader();
    let seen = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('no text in the stream');
      seen += new TextDecoder().decode(value);
      if (seen.includes('"type":"text-delta"')) {
        void reader.cancel().catch(() => undefined);
        return;
      }
    }
  };
  for (let i = 0; i < RUNS; i++) {
    let t0 = process.hrtime.bigint();
    const r = streamText({
      model: openai('gpt-bench'),
      prompt: 'go',
      tools: { echo },
      stopWhen: stepCountIs(10),
    });
    for await (const part of r.fullStream) if (part.type === 'text-delta') break;
    ttftBase.push(Number(process.hrtime.bigint() - t0));
    t0 = process.hrtime.bigint();
    await textFirst(await runVia(first, 'hello', 'text/event-stream'));
    ttftGov.push(Number(process.hrtime.bigint() - t0));
    await new Promise((r2) => setTimeout(r2, 20));
  }
  console.log('\ntime to the first streamed token (a direct answer):');
  const tb = figures('baseline: AI SDK stream in process', ttftBase);
  report([tb, figures('Paddock: streamed run through the API', ttftGov)], tb);

  // Concurrency: runs at once across the orgs.
  const t0 = process.hrtime.bigint();
  const lat: number[] = [];
  let errors = 0;
  const why = new Map<string, number>();
  const failed = (reason: string) => {
    errors++;
    why.set(reason, (why.get(reason) ?? 0) + 1);
  };
  await Promise.all(
    Array.from({ length: CONCURRENT }, async (_, i) => {
      const s = process.hrtime.bigint();
      try {
        const r = await runVia(orgs[i % orgs.length]!, 'go');
        const run = (await r.json()) as { status?: string; error?: { code: string; message?: string } };
        if (run.status !== 'completed')
          failed(
            `${r.status} ${run.status ?? ''} ${run.error?.code ?? ''}: ${(run.error?.message ?? '').slice(0, 120)}`,
          );
      } catch (err) {
        failed((err as Error).message);
      }
      lat.push(Number(process.hrtime.bigint() - s));
    }),
  );
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    `\n${CONCURRENT} concurrent runs across ${orgs.length} orgs: ${errors} errors, ${wall.toFixed(1)} s in all`,
  );
  for (const [reason, n] of why) console.log(`  ${n} × ${reason}`);
  report([figures('run latency under that load', lat)]);

  // Stop → run ended: a run held in a long tool call, then the agent stopped.
  await server.deps.store.db
    .selectFrom('connections')
    .select('id')
    .where('org_id', '=', first.id)
    .executeTakeFirstOrThrow();
  const stops: number[] = [];
  for (let i = 0; i < Math.min(20, RUNS); i++) {
    const run = (await (
      await fetch(`${url}/api/v1/orgs/${first.slug}/agents/${first.agent}/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'go', wait: false }),
      })
    ).json()) as { id: string };
    const s = process.hrtime.bigint();
    await fetch(`${url}/api/v1/orgs/${first.slug}/runs/${run.id}/stop`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first.token}` },
    });
    for (;;) {
      const row = await server.deps.store.db
        .selectFrom('runs')
        .select('status')
        .where('id', '=', run.id)
        .executeTakeFirstOrThrow();
      if (row.status !== 'running') break;
      await new Promise((r) => setImmediate(r));
    }
    stops.push(Number(process.hrtime.bigint() - s));
  }
  console.log('\nstop → run ended (POST …/runs/{run}/stop on a run in flight):');
  report([figures('stop acknowledged, run ended on record', stops)]);

  console.log(
    `\nidle cell (bwrap + node): ${(idleBefore / 2 ** 20).toFixed(1)} MB before any run, ${(idleAfter / 2 ** 20).toFixed(1)} MB after its first runs (SDK and provider loaded)`,
  );
} finally {
  await server?.close();
  await models.close();
  rmSync(home, { recursive: true, force: true });
}
