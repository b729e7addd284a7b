/**
 * Agent memory on SQLite, with an agent's memory full (1,000 entries of ~200 characters, 10
 * pinned): a recall of a three-word query, the pinned entries a run is given at dispatch, and a
 * recall through the in-process MCP session the gate uses — against a baseline of one entry read
 * by id, measured interleaved in the same run.
 *
 *   npm run -s bench -- memory
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.ts';
import { trustedScope } from '../src/identity/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { openMemorySession, pinnedMemory } from '../src/memory/index.ts';
import { recall } from '../src/memory/recall.ts';
import { buildDeps } from '../src/server/deps.ts';
import { openStore } from '../src/store/index.ts';
import { call, createApp, seedOrg } from '../src/testing/fixtures.ts';
import { figures, report } from './stats.ts';

const N = Number(process.env.BENCH_MEMORY_N ?? 2000);
const WORDS =
  'deploy staging database release customer invoice refund ticket weekly monday tuesday report'.split(' ');
const home = mkdtempSync(join(tmpdir(), 'paddock-bench-memory-'));
const store = await openStore({ home });
const deps = buildDeps(loadConfig({ home, port: 7070 }, {}), silentLogger, store, {});
const app = createApp(deps);
try {
  const org = await seedOrg(store, 'acme');
  const agent = (
    await call(app, 'post', '/api/v1/orgs/acme/agents', {
      token: org.people.admin.token,
      body: {
        name: 'bench',
        scope: 'organization',
        instructions: 'x',
        model: { provider: 'openai', model: 'm' },
      },
    })
  ).body;
  const now = Date.now();
  const rows = Array.from({ length: 1000 }, (_v, i) => {
    let text = `note ${i}:`;
    for (let w = 0; text.length < 200; w++) text += ` ${WORDS[(i * 7 + w * 3) % WORDS.length]}`;
    const at = new Date(now - i * 60_000).toISOString();
    return {
      id: `mem_bench${i}x`,
      org_id: org.id,
      agent_id: agent.id,
      person_id: null,
      text,
      pinned: i % 100 === 0 ? 1 : 0,
      updated_by: agent.id,
      created_at: at,
      updated_at: at,
    };
  });
  for (let i = 0; i < rows.length; i += 200)
    await store.db
      .insertInto('memories')
      .values(rows.slice(i, i + 200))
      .execute();
  const scope = trustedScope(org.id);
  const client = await openMemorySession(store.db, org.id, agent.id);

  const cases: Array<[string, () => Promise<unknown>]> = [
    [
      'baseline: one entry read by id',
      () => store.db.selectFrom('memories').selectAll().where('id', '=', 'mem_bench500x').executeTakeFirst(),
    ],
    [
      'recall, 3 words, over 1,000 entries',
      () => recall(store.db, scope, agent.id, 'staging refund monday', null),
    ],
    ['pinned entries for a run (10 of 1,000)', () => pinnedMemory(store.db, scope, agent.id, null)],
    [
      'recall through the in-process MCP session',
      () => client.callTool({ name: 'recall', arguments: { query: 'staging refund monday' } }),
    ],
  ];
  // Interleaved: each round runs every case once, so drift affects all alike.
  for (let i = 0; i < 100; i++) for (const [, fn] of cases) await fn();
  const samples = cases.map(() => [] as number[]);
  for (let i = 0; i < N; i++)
    for (const [k, [, fn]] of cases.entries()) {
      const t0 = process.hrtime.bigint();
      await fn();
      samples[k]!.push(Number(process.hrtime.bigint() - t0));
    }
  const out = cases.map(([name], k) => figures(name, samples[k]!));
  report(out, out[0]);
  await client.close();
} finally {
  await deps.audit.close();
  await store.close();
  rmSync(home, { recursive: true, force: true });
}
