/**
 * The compliance page over HTTP, for an org whose log holds 1,000,000 entries (target: the page
 * answers in under 300 ms). A real server on a port (embedded SQLite on the real disk), an org
 * with ten agents granted three tools each, the log built by the generator the evidence-package
 * bench uses (with a model call in every ten entries, so the vendor register has a population to
 * count), evidence collected twice (the page reads stored results, never the log), an access
 * review, an incident and a tabletop. Then the dashboard's requests as the page makes them on
 * opening (all at once) and on opening a control, each timed end to end by a client on the same
 * machine (fetch, bearer token of the auditor), plus the Overview's activity chart.
 *   BENCH_PAGE_N (default 1000000) entries; BENCH_PAGE_ROUNDS (default 50) page loads.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Collection, collectEvidence } from '../src/compliance/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { compliancePlatform } from '../src/server/deps.ts';
import { startServer } from '../src/server/index.ts';
import { seedOrg } from '../src/testing/fixtures.ts';
import { agentsAtWork, appendActivity } from './activity-log.ts';

const N = Number(process.env.BENCH_PAGE_N ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_PAGE_ROUNDS ?? 50);

/** What the compliance page asks for when it opens (dashboard/src/pages/Compliance.tsx). */
const PAGE = [
  '/compliance/criteria',
  '/compliance/controls',
  '/compliance/collections?limit=30',
  '/compliance/reviews',
  '/compliance/vendors',
  '/compliance/incidents',
  '/compliance/exercises',
  '/audit/key',
];
/** Opening one control: its latest evidence and history. */
const CONTROL = '/compliance/controls/PAD-GATE-01?limit=30';
/** The Overview's activity chart: 14 days, and 48 hours. */
const ACTIVITY = ['/audit/activity?unit=day&count=14', '/audit/activity?unit=hour&count=48'];

const home = mkdtempSync(join(tmpdir(), 'paddock-bench-page-'));
const server = await startServer(loadConfig({ home, port: 0 }), silentLogger);
const { deps } = server;

/** Median and p99 of times in milliseconds. */
const ms = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return `median ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms`;
};

try {
  const org = await seedOrg(deps.store, 'acme');
  const base = `${server.url}/api/v1/orgs/acme`;
  const request = async (token: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(base + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as { id: string };
  };
  const owner = (method: string, path: string, body?: unknown) =>
    request(org.people.owner.token, method, path, body);

  // The org's state: a connection's tools granted to ten agents (refund behind an approval).
  const conn = await owner('POST', '/connections', {
    name: 'orders',
    transport: 'stdio',
    command: 'npx',
    args: ['@acme/orders-mcp'],
  });
  const tools = ['lookup_order', 'list_orders', 'refund'];
  for (const name of tools)
    await deps.store.db
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
  for (let i = 0; i < 10; i++) {
    const a = await owner('POST', '/agents', {
      name: `agent-${i}`,
      scope: 'organization',
      instructions: 'bench',
      model: { provider: 'openai', model: 'gpt-5' },
    });
    for (const tool of tools)
      await owner('POST', `/agents/${a.id}/grants`, {
        connectionId: conn.id,
        tool,
        requiresApproval: tool === 'refund',
      });
  }

  const t0 = performance.now();
  await appendActivity(deps.audit, N, agentsAtWork(org.id, { modelCallsEvery: 10 }));
  const size = (await deps.audit.checkpoint(org.id)).size;
  console.log(
    `built a ${size.toLocaleString('en')}-entry log in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const by = { trigger: 'request' as const, actor: { type: 'system' as const, id: 'bench' } };
  // The server's daily job may be collecting too: a collection that loses the race tries again.
  const collect = async (): Promise<Collection> => {
    try {
      return await collectEvidence(deps.store.db, org.id, compliancePlatform(deps), by);
    } catch (err) {
      if ((err as { code?: string }).code !== 'collection_running') throw err;
      return collect();
    }
  };
  const t1 = performance.now();
  await collect();
  await appendActivity(deps.audit, Math.min(10_000, N), agentsAtWork(org.id, { modelCallsEvery: 10 }));
  const c2 = await collect();
  console.log(
    `two collections (the second at a log of ${c2.log.treeSize.toLocaleString('en')}): ${((performance.now() - t1) / 1000).toFixed(1)} s`,
  );
  await owner('POST', '/compliance/reviews', { kind: 'agents' });
  await owner('POST', '/compliance/reviews', { kind: 'people' });
  await owner('POST', '/compliance/incidents', { title: 'Leaked token in CI log', severity: 'high' });
  await owner('POST', '/compliance/exercises', {
    title: 'Model provider outage',
    heldAt: new Date().toISOString(),
    scenario: 'The provider is down for a day.',
    outcome: 'pass',
  });

  const auditor = (path: string) => request(org.people.auditor.token, 'GET', path);
  const timed = async (path: string) => {
    const s = performance.now();
    await auditor(path);
    return performance.now() - s;
  };
  for (let i = 0; i < 5; i++) await Promise.all([...PAGE, CONTROL, ...ACTIVITY].map(timed));

  const page: number[] = [];
  const each = new Map<string, number[]>(PAGE.map((p) => [p, []]));
  for (let i = 0; i < ROUNDS; i++) {
    const s = performance.now();
    const times = await Promise.all(PAGE.map(timed));
    page.push(performance.now() - s);
    for (const [k, t] of times.entries()) each.get(PAGE[k]!)!.push(t);
  }
  // Each request alone, one after the other: what each costs the server by itself.
  const alone = new Map<string, number[]>(PAGE.map((p) => [p, []]));
  for (let i = 0; i < ROUNDS; i++) for (const p of PAGE) alone.get(p)!.push(await timed(p));
  const control: number[] = [];
  for (let i = 0; i < ROUNDS; i++) control.push(await timed(CONTROL));
  const activity = new Map<string, number[]>(ACTIVITY.map((p) => [p, []]));
  for (let i = 0; i < ROUNDS; i++) for (const p of ACTIVITY) activity.get(p)!.push(await timed(p));

  console.log(
    `compliance page, its ${PAGE.length} requests at once (target < 300 ms), ${ROUNDS} loads: ${ms(page)}`,
  );
  for (const [p, xs] of each) console.log(`  GET …${p.padEnd(34)} ${ms(xs)}; alone: ${ms(alone.get(p)!)}`);
  console.log(`opening a control, GET …${CONTROL}: ${ms(control)}`);
  for (const [p, xs] of activity) console.log(`Overview activity, GET …${p}: ${ms(xs)}`);
} finally {
  await server.close();
  rmSync(home, { recursive: true, force: true });
}
