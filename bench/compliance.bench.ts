/**
 * Evidence collection on an org whose log holds 1,000,000 entries (embedded SQLite): the first
 * collection (every entry read once, every control tested, the whole log verified), then a day's
 * collection after 10,000 more entries (incremental verification: the new entries and a
 * consistency proof), then another day's with the whole log verified (`verify: 'full'`, what runs
 * weekly). Baselines in the same run: `verifyLog` over the same log alone, `verifyLogSince` over
 * the day alone, and reading the collection's slice of headers alone (LogWindow).
 *   BENCH_COMPLIANCE_N (default 1000000) entries; BENCH_COMPLIANCE_DAY (default 10000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyLog, verifyLogSince } from '../src/audit/index.ts';
import { collectEvidence, LogWindow } from '../src/compliance/index.ts';
import { compliancePlatform } from '../src/server/deps.ts';
import { openStore } from '../src/store/index.ts';
import { call, createApp, seedOrg, testDeps } from '../src/testing/fixtures.ts';
import { measured } from './stats.ts';

const N = Number(process.env.BENCH_COMPLIANCE_N ?? 1_000_000);
const DAY = Number(process.env.BENCH_COMPLIANCE_DAY ?? 10_000);

const home = mkdtempSync(join(tmpdir(), 'paddock-bench-compliance-'));
const store = await openStore({ home });
const deps = testDeps(store, home);
const app = createApp(deps);

/** `n` events of agents at work, as the gate and the runtime write them, 2,000 in flight. */
async function activity(orgId: string, agents: string[], tools: string[], n: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const agent = { type: 'agent' as const, id: agents[i % agents.length]! };
      const tool = { type: 'tool', id: tools[i % tools.length]! };
      const kind = i % 10;
      if (kind < 6)
        await deps.audit.append({ orgId, actor: agent, action: 'tool.call.allowed', target: tool });
      else if (kind < 8)
        await deps.audit.append({ orgId, actor: agent, action: 'tool.call.completed', target: tool });
      else if (kind === 8)
        await deps.audit.append({
          orgId,
          actor: agent,
          action: 'tool.call.denied',
          target: tool,
          outcome: 'denied',
        });
      else
        await deps.audit.append({
          orgId,
          actor: agent,
          action: 'model.called',
          target: { type: 'model', id: 'openai/gpt-5' },
        });
    }
  };
  await Promise.all(Array.from({ length: 2000 }, worker));
}

try {
  const org = await seedOrg(store, 'acme');
  const owner = org.people.owner.token;
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await call(app, method, `/api/v1/orgs/acme${path}`, {
      token: owner,
      ...(body ? { body } : {}),
    });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.text}`);
    return r.body;
  };
  // Some state for the collectors: agents with grants on a connection's tools.
  const conn = await api('post', '/connections', {
    name: 'orders',
    transport: 'stdio',
    command: 'npx',
    args: ['@acme/orders-mcp'],
  });
  const toolNames = ['lookup_order', 'list_orders', 'refund'];
  for (const name of toolNames)
    await store.db
      .insertInto('connection_tools')
      .values({
        org_id: org.id,
        connection_id: conn.id,
        name,
        description: name,
        input_schema: '{"type":"object","properties":{}}',
        digest: `v2:${name}`,
        seen_at: new Date().toISOString(),
      })
      .execute();
  const agents: string[] = [];
  for (let i = 0; i < 10; i++) {
    const a = await api('post', '/agents', {
      name: `agent-${i}`,
      scope: 'organization',
      instructions: 'bench',
      model: { provider: 'openai', model: 'gpt-5' },
    });
    for (const tool of toolNames)
      await api('post', `/agents/${a.id}/grants`, {
        connectionId: conn.id,
        tool,
        requiresApproval: tool === 'refund',
      });
    agents.push(a.id);
  }
  const tools = toolNames.map((t) => `${conn.id}/${t}`);

  const t0 = performance.now();
  for (let done = 0; done < N; done += 50_000)
    await activity(org.id, agents, tools, Math.min(50_000, N - done));
  const size = (await deps.audit.checkpoint(org.id)).size;
  console.log(
    `built a ${size.toLocaleString('en')}-entry log in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  const platform = compliancePlatform(deps);
  console.log(`resident before collecting: ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`);
  const by = { trigger: 'request' as const, actor: { type: 'system' as const, id: 'bench' } };
  const first = await measured(() => collectEvidence(store.db, org.id, platform, by));
  const c1 = first.value;
  console.log(
    `first collection, ${(c1.log.range[1] - c1.log.range[0]).toLocaleString('en')} entries read, ${c1.results.length} controls, ${c1.evidence} records: ${first.s.toFixed(2)} s, peak RSS ${first.peakMiB} MiB`,
  );

  const verify = await measured(() => verifyLog(store.db, org.id));
  console.log(
    `baseline: verifyLog alone over ${verify.value.entries.toLocaleString('en')} entries: ${verify.s.toFixed(2)} s, peak RSS ${verify.peakMiB} MiB`,
  );
  const read = await measured(() => LogWindow.read(store.db, org.id, c1.log));
  console.log(
    `baseline: reading the ${read.value.length.toLocaleString('en')} headers alone (LogWindow): ${read.s.toFixed(2)} s, peak RSS ${read.peakMiB} MiB`,
  );

  await activity(org.id, agents, tools, DAY);
  const day = await measured(() => collectEvidence(store.db, org.id, platform, by));
  const c2 = day.value;
  console.log(
    `a day's collection, ${(c2.log.range[1] - c2.log.range[0]).toLocaleString('en')} new entries (log of ${c2.log.treeSize.toLocaleString('en')}): ${day.s.toFixed(2)} s, peak RSS ${day.peakMiB} MiB`,
  );
  const since = { size: c1.log.treeSize, note: c1.log.checkpoint };
  const inc = await measured(() =>
    verifyLogSince(store.db, org.id, since, { size: c2.log.treeSize, note: c2.log.checkpoint }),
  );
  if (!inc.value.ok) throw new Error(`incremental verification failed: ${inc.value.problem?.message}`);
  console.log(
    `baseline: verifyLogSince alone over the day's ${inc.value.entries.toLocaleString('en')} entries: ${inc.s.toFixed(2)} s`,
  );

  await activity(org.id, agents, tools, DAY);
  const weekly = await measured(() => collectEvidence(store.db, org.id, platform, by, { verify: 'full' }));
  const c3 = weekly.value;
  console.log(
    `a day's collection verifying the whole log (verify=full), ${(c3.log.range[1] - c3.log.range[0]).toLocaleString('en')} new entries (log of ${c3.log.treeSize.toLocaleString('en')}): ${weekly.s.toFixed(2)} s, peak RSS ${weekly.peakMiB} MiB`,
  );
  const log = (c: typeof c1) => c.results.find((r) => r.controlId === 'PAD-LOG-01')!.reason;
  console.log(`  PAD-LOG-01 of the day's collection: ${log(c2)}`);
  console.log(`  PAD-LOG-01 of the full one: ${log(c3)}`);
  for (const r of c1.results) console.log(`  ${r.controlId.padEnd(13)} ${r.status.padEnd(15)} ${r.reason}`);
} finally {
  await deps.runs.close();
  await deps.gateway.close();
  deps.siem.close();
  await deps.audit.close();
  await store.close();
  rmSync(home, { recursive: true, force: true });
}
