/**
 * What the gateway adds to a tool call: server-everything's `echo` over stdio inside the org's
 * bubblewrap sandbox, called directly on an MCP session, against the same call through the
 * gateway (kill-switch check, grants read, Cedar decision, durable audit record before the
 * call, result record after), at concurrency 1 and 16, in one run, and interleaved one by one
 * (so both servers idle alike between calls). Then the kill switch: how
 * long from the stop request to its acknowledgment, and until calls in flight have ended.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bubblewrap, orgHostUser } from '../src/cells/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { openStdio } from '../src/connections/mcp.ts';
import { silentLogger } from '../src/log/index.ts';
import { buildDeps } from '../src/server/deps.ts';
import { openStore } from '../src/store/index.ts';
import { call, createApp, seedOrg } from '../src/testing/fixtures.ts';
import { figures, report } from './stats.ts';

const N = Number(process.env.BENCH_GATEWAY_N ?? 2000);
const EVERYTHING = ['node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'];
const home = mkdtempSync(join(tmpdir(), 'paddock-bench-gw-'));
const store = await openStore({ home });
const deps = buildDeps(
  loadConfig({ home, port: 7070 }, {}),
  silentLogger,
  store,
  {},
  { provider: bubblewrap, problem: null },
);
const app = createApp(deps);
try {
  const org = await seedOrg(store, 'acme');
  const admin = org.people.admin.token;
  const conn = (
    await call(app, 'post', '/api/v1/orgs/acme/connections', {
      token: admin,
      body: { name: 'everything', transport: 'stdio', command: 'node', args: EVERYTHING },
    })
  ).body;
  await call(app, 'post', `/api/v1/orgs/acme/connections/${conn.id}/tools/refresh`, { token: admin });
  const agent = (
    await call(app, 'post', '/api/v1/orgs/acme/agents', {
      token: admin,
      body: {
        name: 'bench',
        scope: 'organization',
        instructions: 'x',
        model: { provider: 'openai', model: 'm' },
      },
    })
  ).body;
  for (let g = 0; g < 49; g++) {
    await store.db
      .insertInto('grants')
      .values({
        id: `grt_fill${g}`,
        org_id: org.id,
        agent_id: agent.id,
        connection_id: conn.id,
        tool: 'get-sum',
        effect: 'allow',
        constraints: '[]',
        not_before: null,
        not_after: null,
        requires_approval: 0,
        tool_digest: null,
        status: 'active',
        created_by: 'bench',
        created_at: new Date().toISOString(),
        revoked_by: null,
        revoked_at: null,
      })
      .execute();
  }
  await call(app, 'post', `/api/v1/orgs/acme/agents/${agent.id}/grants`, {
    token: admin,
    body: { connectionId: conn.id, tool: 'echo', constraints: [{ arg: 'message', prefix: 'status:' }] },
  });
  const direct = await openStdio(
    {
      orgId: org.id,
      connectionId: conn.id,
      agentId: agent.id,
      user: bubblewrap.runsAsOrgUsers ? await orgHostUser(store.db, org.id) : undefined,
      command: 'node',
      args: EVERYTHING,
    },
    bubblewrap,
    home,
  );
  const caller = { orgId: org.id, agentId: agent.id, onBehalfOf: null, requestId: 'bench' };
  const viaGateway = () =>
    deps.gateway.call({
      caller,
      connectionId: conn.id,
      tool: 'echo',
      args: { message: 'status: ok' },
      approval: 'pause',
    });
  const straight = () => direct.callTool({ name: 'echo', arguments: { message: 'status: ok' } });
  async function measure(fn: () => Promise<unknown>, concurrency: number): Promise<number[]> {
    for (let i = 0; i < 100; i++) await fn();
    const out: number[] = [];
    let left = N;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (left-- > 0) {
          const t0 = process.hrtime.bigint();
          await fn();
          out.push(Number(process.hrtime.bigint() - t0));
        }
      }),
    );
    return out;
  }
  for (const c of [1, 16]) {
    const base = figures(`direct MCP call, concurrency ${c}`, await measure(straight, c));
    const gw = figures(`through the gateway, concurrency ${c}`, await measure(viaGateway, c));
    report([base, gw], base);
    console.log(
      `  added by the gateway at concurrency ${c}: p50 ${(gw.medianUs - base.medianUs).toFixed(0)} µs, p99 ${(gw.p99Us - base.p99Us).toFixed(0)} µs`,
    );
  }
  // The same, interleaved: each call finds its server idle for about as long as the other took,
  // so the server's wake-up (tens of µs on a VM) is in both figures instead of the gateway's only.
  const pairs = { direct: [] as number[], gateway: [] as number[] };
  for (let i = 0; i < N; i++) {
    for (const [k, fn] of [
      ['direct', straight],
      ['gateway', viaGateway],
    ] as const) {
      const t0 = process.hrtime.bigint();
      await fn();
      pairs[k].push(Number(process.hrtime.bigint() - t0));
    }
  }
  const idleBase = figures('direct MCP call, interleaved', pairs.direct);
  const idleGw = figures('through the gateway, interleaved', pairs.gateway);
  report([idleBase, idleGw], idleBase);
  console.log(
    `  added by the gateway, interleaved: p50 ${(idleGw.medianUs - idleBase.medianUs).toFixed(0)} µs, p99 ${(idleGw.p99Us - idleBase.p99Us).toFixed(0)} µs`,
  );
  await direct.close();

  // The kill switch, with 4 long calls in flight each time (the agent's server is ended by the stop).
  await call(app, 'post', `/api/v1/orgs/acme/agents/${agent.id}/grants`, {
    token: admin,
    body: { connectionId: conn.id, tool: 'trigger-long-running-operation' },
  });
  const acked: number[] = [];
  const ended: number[] = [];
  const commits: number[] = [];
  for (let trial = 0; trial < 30; trial++) {
    await call(app, 'post', `/api/v1/orgs/acme/agents/${agent.id}/resume`, { token: admin });
    await viaGateway(); // the agent's MCP session is up again
    const inFlight = Array.from({ length: 4 }, () =>
      deps.gateway
        .call({
          caller,
          connectionId: conn.id,
          tool: 'trigger-long-running-operation',
          args: { duration: 10, steps: 2 },
          approval: 'pause',
        })
        .catch(() => process.hrtime.bigint()),
    );
    while (deps.gateway.kills.inFlight({ agentId: agent.id }) < 4) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    const t0 = process.hrtime.bigint();
    const stop = await call(app, 'post', `/api/v1/orgs/acme/agents/${agent.id}/stop`, { token: admin });
    const t1 = process.hrtime.bigint();
    if (stop.status !== 200) throw new Error(`stop failed: ${stop.text}`);
    const ends = (await Promise.all(inFlight)) as bigint[];
    acked.push(Number(t1 - t0));
    ended.push(Number(ends.reduce((a, b) => (a > b ? a : b)) - t0));
    // Baseline: the same state change committed alone (resume, then stop, with no calls in flight).
    await call(app, 'post', `/api/v1/orgs/acme/agents/${agent.id}/resume`, { token: admin });
    const b0 = process.hrtime.bigint();
    await call(app, 'post', `/api/v1/orgs/acme/agents/${agent.id}/stop`, { token: admin });
    commits.push(Number(process.hrtime.bigint() - b0));
  }
  const commitOnly = figures('baseline: stop with nothing in flight (commit only)', commits);
  report(
    [
      commitOnly,
      figures('stop acknowledged, 4 calls in flight', acked),
      figures('stop request → last in-flight call ended', ended),
    ],
    commitOnly,
  );
} finally {
  await deps.gateway.close();
  await deps.audit.close();
  await store.close();
  rmSync(home, { recursive: true, force: true });
}
