/**
 * The daily retention job on an org with 1,000,000 expired records (embedded SQLite): runs (with
 * flags on some), conversations (their messages are a column of the row) and memory entries,
 * beside unexpired ones that must stay. A real Paddock server answers HTTP on a port while a
 * client in its own thread (so its clock is not held up by the server's event loop) keeps 4
 * requests in flight (GET agents, GET runs). Interleaved in the same run: windows with the job
 * deleting, and baseline windows with it stopped (its AbortSignal, as the scheduler stops it);
 * the job resumes where it stopped. Prints request latency in each kind of window, the job's
 * duration (its windows only) and records/s, then checks that exactly the expired records are
 * gone and that the audited counts add up.
 * Also the server's event-loop delay in each kind of window: how long the job held the process.
 *   BENCH_RETENTION_N (default 1000000) expired records; BENCH_RETENTION_WINDOW_MS (default 2000);
 *   BENCH_RETENTION_BATCH (default: the job's own) rows per batch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { serve } from '@hono/node-server';
import { applyRecordRetention, type RecordsDeleted } from '../src/runtime/index.ts';
import { openStore } from '../src/store/index.ts';
import { allAuditEntries, call, createApp, seedOrg, testDeps } from '../src/testing/fixtures.ts';
import { figures, measured, report } from './stats.ts';

const N = Number(process.env.BENCH_RETENTION_N ?? 1_000_000);
const WINDOW_MS = Number(process.env.BENCH_RETENTION_WINDOW_MS ?? 2000);
const BATCH = process.env.BENCH_RETENTION_BATCH ? Number(process.env.BENCH_RETENTION_BATCH) : undefined;
const DAY = 86_400_000;
const NOW = new Date();
const daysAgo = (d: number) => new Date(NOW.getTime() - d * DAY).toISOString();

// The mix of expired records: a tenth conversations, each with 5 runs; the rest memory entries.
const CONVERSATIONS = Math.floor(N / 10);
const RUNS = CONVERSATIONS * 5;
const MEMORIES = N - CONVERSATIONS - RUNS;
const FLAGS = Math.min(10_000, RUNS); // flags on expired runs go with them (not counted)
const KEPT = 1000; // recent conversations (2 recent runs each) and recent memory entries
const HELD = 100; // expired conversations with a run waiting for an approval: kept

/** The client: 4 loops of requests, each sample tagged with the window it started in. */
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const { base, token } = workerData;
const headers = { authorization: 'Bearer ' + token };
const paths = ['/api/v1/orgs/acme/agents', '/api/v1/orgs/acme/runs?limit=20'];
const samples = { base: [], job: [] };
let phase = 'idle';
let stop = false;
parentPort.on('message', (m) => { if (m === 'stop') stop = true; else phase = m; });
async function loop(k) {
  for (let i = k; !stop; i++) {
    const at = phase;
    const t0 = process.hrtime.bigint();
    const r = await fetch(base + paths[i % 2], { headers });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error('status ' + r.status);
    if (at !== 'idle') samples[at].push(Number(process.hrtime.bigint() - t0));
  }
}
Promise.all([0, 1, 2, 3].map(loop)).then(() => parentPort.postMessage(samples));
`;

const home = mkdtempSync(join(tmpdir(), 'paddock-bench-retention-'));
const store = await openStore({ home });
const deps = testDeps(store, home);
const app = createApp(deps);
const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
  const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
});
const port = (server.address() as AddressInfo).port;

/** Inserts `n` rows made by `row`, 20,000 to a transaction, 400 to a statement. */
async function bulk<T>(
  table: 'runs' | 'conversations' | 'memories' | 'feedback',
  n: number,
  row: (i: number) => T,
) {
  for (let from = 0; from < n; from += 20_000) {
    await store.db.transaction().execute(async (trx) => {
      for (let i = from; i < Math.min(n, from + 20_000); i += 400) {
        const rows = Array.from({ length: Math.min(400, n - i) }, (_v, j) => row(i + j));
        await trx
          .insertInto(table)
          .values(rows as never) // one helper for four tables' rows, each built whole below
          .execute();
      }
    });
  }
}

try {
  const org = await seedOrg(store, 'acme');
  const owner = org.people.owner.token;
  const member = org.people.member.id;
  const agents: string[] = [];
  for (let i = 0; i < 10; i++) {
    const a = await call(app, 'post', '/api/v1/orgs/acme/agents', {
      token: owner,
      body: {
        name: `agent-${i}`,
        scope: 'organization',
        instructions: 'bench',
        model: { provider: 'openai', model: 'gpt-5' },
      },
    });
    if (a.status !== 201 && a.status !== 200) throw new Error(`setup failed: ${a.text}`);
    agents.push(a.body.id);
  }
  const set = await call(app, 'patch', '/api/v1/orgs/acme', {
    token: owner,
    body: { settings: { runRetentionDays: 30, conversationRetentionDays: 30, memoryRetentionDays: 30 } },
  });
  if (set.status !== 200) throw new Error(`setup failed: ${set.text}`);

  const t0 = performance.now();
  const conversation = (id: string, at: string) => ({
    id,
    org_id: org.id,
    agent_id: agents[id.length % agents.length]!,
    person_id: member,
    title: 'a conversation',
    messages: JSON.stringify([
      { role: 'user', content: 'where is my order?' },
      { role: 'assistant', content: 'it shipped yesterday' },
    ]),
    created_at: at,
    updated_at: at,
  });
  const run = (id: string, conv: string, ended: string | null, status = 'completed') => ({
    id,
    org_id: org.id,
    agent_id: agents[conv.length % agents.length]!,
    conversation_id: conv,
    person_id: member,
    via: 'api',
    status,
    capability_hash: null,
    input: 'where is my order?',
    output: ended ? 'it shipped yesterday' : null,
    state: null,
    pending: null,
    steps: 3,
    input_tokens: 120,
    output_tokens: 40,
    error_code: null,
    error_message: null,
    created_at: ended ?? daysAgo(400),
    updated_at: ended ?? daysAgo(400),
    ended_at: ended,
  });
  const memory = (id: string, at: string) => ({
    id,
    org_id: org.id,
    agent_id: agents[id.length % agents.length]!,
    person_id: id.length % 2 ? member : null,
    text: 'prefers email over phone',
    pinned: 0,
    updated_by: agents[0]!,
    created_at: at,
    updated_at: at,
  });
  const old = daysAgo(400);
  const recent = daysAgo(1);
  await bulk('conversations', CONVERSATIONS, (i) => conversation(`cnv_old${i}`, old));
  await bulk('runs', RUNS, (i) => run(`run_old${i}`, `cnv_old${Math.floor(i / 5)}`, old));
  await bulk('feedback', FLAGS, (i) => ({
    id: `fbk_old${i}`,
    org_id: org.id,
    agent_id: agents[0]!,
    run_id: `run_old${i * Math.floor(RUNS / FLAGS)}`,
    entry_index: i,
    leaf_hash: 'x',
    person_id: member,
    correction: 'c',
    reason: 'r',
    status: 'open',
    resolved_by: null,
    resolution: null,
    resolved_at: null,
    created_at: old,
  }));
  await bulk('memories', MEMORIES, (i) => memory(`mem_old${i}`, old));
  await bulk('conversations', KEPT, (i) => conversation(`cnv_new${i}`, recent));
  await bulk('runs', KEPT * 2, (i) => run(`run_new${i}`, `cnv_new${i >> 1}`, recent));
  await bulk('memories', KEPT, (i) => memory(`mem_new${i}`, recent));
  await bulk('conversations', HELD, (i) => conversation(`cnv_held${i}`, old));
  await bulk('runs', HELD, (i) => run(`run_held${i}`, `cnv_held${i}`, null, 'waiting_approval'));
  console.log(
    `seeded ${N.toLocaleString('en')} expired records (${CONVERSATIONS.toLocaleString('en')} conversations, ${RUNS.toLocaleString('en')} runs with ${FLAGS.toLocaleString('en')} flags, ${MEMORIES.toLocaleString('en')} memory entries) and ${(KEPT * 4 + HELD * 2).toLocaleString('en')} to keep, in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  const client = new Worker(CLIENT, {
    eval: true,
    workerData: { base: `http://127.0.0.1:${port}`, token: owner },
  });
  const results = new Promise<{ base: number[]; job: number[] }>((resolve, reject) => {
    client.once('message', resolve);
    client.once('error', reject);
  });
  await sleep(1000); // warm-up, untagged

  const total: RecordsDeleted = { runs: 0, conversations: 0, memory: 0 };
  let jobS = 0;
  let windows = 0;
  let peakMiB = 0;
  const loopDelay = {
    base: monitorEventLoopDelay({ resolution: 1 }),
    job: monitorEventLoopDelay({ resolution: 1 }),
  };
  for (let finished = false; !finished; windows++) {
    client.postMessage('base');
    loopDelay.base.enable();
    await sleep(WINDOW_MS);
    loopDelay.base.disable();
    client.postMessage('job');
    loopDelay.job.enable();
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), WINDOW_MS);
    const m = await measured(() =>
      applyRecordRetention(store.db, NOW, stop.signal, BATCH ? { batch: BATCH } : {}),
    );
    loopDelay.job.disable();
    clearTimeout(timer);
    finished = !stop.signal.aborted;
    jobS += m.s;
    peakMiB = Math.max(peakMiB, m.peakMiB);
    total.runs += m.value.runs;
    total.conversations += m.value.conversations;
    total.memory += m.value.memory;
  }
  client.postMessage('base');
  loopDelay.base.enable();
  await sleep(WINDOW_MS);
  loopDelay.base.disable();
  client.postMessage('stop');
  const samples = await results;
  await client.terminate();

  const deleted = total.runs + total.conversations + total.memory;
  console.log(
    `retention job: ${deleted.toLocaleString('en')} records (runs ${total.runs.toLocaleString('en')}, conversations ${total.conversations.toLocaleString('en')}, memory ${total.memory.toLocaleString('en')}) in ${jobS.toFixed(1)} s over ${windows} windows of ~${WINDOW_MS} ms: ${Math.round(deleted / jobS).toLocaleString('en')} records/s, peak RSS ${peakMiB} MiB`,
  );
  const base = figures('baseline: GET agents / GET runs, job stopped (HTTP, 4 in flight)', samples.base);
  const during = figures('GET agents / GET runs while the retention job deletes', samples.job);
  report([base, during], base);
  const ms = (h: typeof loopDelay.base, q: number) => (h.percentile(q) / 1e6).toFixed(1);
  console.log(
    `server event-loop delay: baseline p50 ${ms(loopDelay.base, 50)} ms, p99 ${ms(loopDelay.base, 99)} ms; during the job p50 ${ms(loopDelay.job, 50)} ms, p99 ${ms(loopDelay.job, 99)} ms (batch ${BATCH ?? 'default'})`,
  );
  console.log(
    `p99 during the job: ${(during.p99Us / 1000).toFixed(2)} ms (target < 20 ms) — ${during.p99Us < 20_000 ? 'met' : 'NOT met'}`,
  );

  // Exactly the expired records are gone, and the audited counts add up.
  const count = async (table: 'runs' | 'conversations' | 'memories' | 'feedback') =>
    Number(
      (
        await store.db
          .selectFrom(table)
          .select((e) => e.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const left = {
    runs: await count('runs'),
    conversations: await count('conversations'),
    memories: await count('memories'),
    feedback: await count('feedback'),
  };
  const expected = { runs: KEPT * 2 + HELD, conversations: KEPT + HELD, memories: KEPT, feedback: 0 };
  if (JSON.stringify(left) !== JSON.stringify(expected))
    throw new Error(`left ${JSON.stringify(left)}, expected ${JSON.stringify(expected)}`);
  const keptIds = await store.db
    .selectFrom('conversations')
    .select('id')
    .where('id', 'not like', 'cnv_new%')
    .where('id', 'not like', 'cnv_held%')
    .execute();
  if (keptIds.length) throw new Error(`an expired conversation is left: ${keptIds[0]!.id}`);
  const want = { runs: RUNS, conversations: CONVERSATIONS, memory: MEMORIES };
  if (JSON.stringify(total) !== JSON.stringify(want))
    throw new Error(`deleted ${JSON.stringify(total)}, expected ${JSON.stringify(want)}`);
  await deps.audit.flush();
  const audited: RecordsDeleted = { runs: 0, conversations: 0, memory: 0 };
  const entries = (await allAuditEntries(store)).filter((e) => e.action === 'retention.records.deleted');
  for (const e of entries) {
    const d = (typeof e.details === 'string' ? JSON.parse(e.details) : e.details).deleted as RecordsDeleted;
    audited.runs += d.runs;
    audited.conversations += d.conversations;
    audited.memory += d.memory;
  }
  if (JSON.stringify(audited) !== JSON.stringify(want))
    throw new Error(`audited ${JSON.stringify(audited)}, expected ${JSON.stringify(want)}`);
  console.log(
    `checked: exactly the expired records are gone (kept ${left.runs} runs, ${left.conversations} conversations, ${left.memories} memory entries; flags gone with their runs), and ${entries.length} audit entries record the same counts`,
  );
} finally {
  server.close();
  await store.close();
  rmSync(home, { recursive: true, force: true });
}
