/**
 * What the API pipeline costs per request (authenticate a bearer token, resolve the org and
 * role, check the permission, strict parsing, a tenant-scoped query, JSON out) on embedded
 * SQLite, against a bare Hono route returning the same body in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { openStore } from '../src/store/index.ts';
import { call, createApp, seedOrg, testDeps } from '../src/testing/fixtures.ts';
import { figures, report, sample } from './stats.ts';

const N = Number(process.env.BENCH_N ?? 3000);
const home = mkdtempSync(join(tmpdir(), 'paddock-bench-'));
const store = await openStore({ home });
try {
  const org = await seedOrg(store, 'acme');
  const app = createApp(testDeps(store, home));
  const people = await call(app, 'get', '/api/v1/orgs/acme/people', { token: org.people.member.token });
  if (people.status !== 200) throw new Error(`setup failed: ${people.text}`);

  const bare = new Hono();
  bare.get('/people', (c) => c.json(people.body));
  const headers = { authorization: `Bearer ${org.people.member.token}` };

  const base = figures(
    'baseline: bare Hono route, same JSON body',
    await sample(N, () => bare.request('/people')),
  );
  const full = figures(
    'GET /api/v1/orgs/acme/people (token, org, role, query)',
    await sample(N, () => app.request('/api/v1/orgs/acme/people', { headers })),
  );
  const denied = figures(
    'POST …/teams refused (member lacks teams.manage)',
    await sample(N, () =>
      app.request('/api/v1/orgs/acme/teams', {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: '{"name":"x"}',
      }),
    ),
  );
  const other = figures(
    'GET /api/v1/orgs/other (unknown org → 404)',
    await sample(N, () => app.request('/api/v1/orgs/other', { headers })),
  );
  console.log(`API pipeline, in-process (no socket), SQLite, ${N} sequential requests each`);
  report([base, full, denied, other], base);
} finally {
  await store.close();
  rmSync(home, { recursive: true, force: true });
}
