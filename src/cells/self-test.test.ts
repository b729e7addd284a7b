/**
 * The sandbox's self-test under real bubblewrap: a sandbox made as the org's cell is refuses
 * every attempt the probe makes but writing its own folder; the same test run with no sandbox
 * fails, naming what was allowed — so a sandbox that stops isolating cannot pass unseen.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isolation } from '../compliance/controls/isolation.ts';
import { listEvidence } from '../compliance/evidence-store.ts';
import { collectEvidence } from '../compliance/index.ts';
import { initOrg, operatorCaller } from '../identity/index.ts';
import { compliancePlatform } from '../server/deps.ts';
import { testDeps } from '../testing/fixtures.ts';
import { openTestStore, type TestStore } from '../testing/stores.ts';
import { bubblewrap } from './bubblewrap.ts';
import { orgHostUser } from './host-users.ts';
import { sandboxSelfTest } from './self-test.ts';
import { cellSpec } from './supervisor.ts';
import { noSandbox } from './unsafe.ts';

describe('the sandbox self-test', () => {
  let t: TestStore;
  let orgId: string;
  before(async () => {
    const check = await bubblewrap.check();
    assert.ok(check.ok, `bubblewrap is needed for these tests: ${check.reason}`);
    t = await openTestStore('sqlite');
    orgId = (await initOrg(t.store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' })).org.id;
  });
  after(async () => t?.cleanup());

  test('inside bubblewrap, as the org’s cell: every attempt refused but its own folder', async () => {
    const spec = {
      ...cellSpec(orgId, t.home, ''),
      user: bubblewrap.runsAsOrgUsers ? await orgHostUser(t.store.db, orgId) : undefined,
    };
    const r = await sandboxSelfTest(bubblewrap, spec);
    assert.ok(r.ok, `${r.reason} ${JSON.stringify(r.checks)}`);
    const attempts = r.checks.map((c) => c.attempt);
    for (const a of ['write /usr', 'write own /cell', 'see other processes', 'read the host environment'])
      assert.ok(attempts.includes(a), a);
    assert.ok(
      attempts.some((a) => a.endsWith('paddock.db')) && attempts.some((a) => a.startsWith('connect ')),
    );
    assert.equal(r.checks.filter((c) => c.expected === 'allowed').length, 1);
  });

  test('a collection with the sandbox runs the self-test: PAD-CELL-01 carries each attempt and its result', async () => {
    const deps = testDeps(t.store, t.home, {}, { provider: bubblewrap, problem: null });
    const c = await collectEvidence(
      t.store.db,
      orgId,
      compliancePlatform(deps),
      { trigger: 'request', actor: { type: 'system', id: 'test' } },
      { controls: [isolation] },
    );
    const [r] = c.results;
    assert.notEqual(r!.status, 'fail', r!.reason);
    assert.match(r!.reason, /self-test from inside a cell: \d+ attempts refused, its own folder writable/);
    const [record] = await listEvidence(t.store.db, orgId, { collection: c.id, limit: 5 });
    const data = record!.data as { probe: { ok: boolean; checks: unknown[] } };
    assert.equal(data.probe.ok, true);
    assert.ok(data.probe.checks.length >= 8);
  });

  test('with no sandbox it fails, naming what was allowed', async () => {
    const r = await sandboxSelfTest(noSandbox, cellSpec(orgId, t.home, ''));
    assert.equal(r.ok, false);
    assert.match(r.reason!, /^read .*paddock\.db: expected refused, got ALLOWED$/);
    assert.ok(!JSON.stringify(r).includes('SQLite'), 'what a read returned is not kept');
  });
});
