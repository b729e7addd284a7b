/**
 * The package built from what the compliance center really collected: the collectors' records
 * and results of the period, every figure of theirs proven and recomputed by `evidence verify`
 * (the package and the collectors compute figures with the same function), on both engines.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ComplianceOrg, complianceOrg, logEvent, makeAgent } from '../../testing/compliance.ts';
import { STORE_KINDS } from '../../testing/stores.ts';
import { PATHS } from './layout.ts';
import { openArchive } from './read-zip.ts';
import { verifyPackage } from './verify.ts';

for (const kind of STORE_KINDS) {
  describe(`evidence package from collected evidence [${kind}]`, () => {
    let o: ComplianceOrg;
    let dir: string;
    before(async () => {
      o = await complianceOrg(kind);
      dir = mkdtempSync(join(tmpdir(), 'paddock-package-stored-'));
    });
    after(async () => {
      await o.t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test("the collectors' records and results of the period go into the package, and every figure verifies", async () => {
      const agent = await makeAgent(o, 'orders');
      for (let i = 0; i < 6; i++)
        await logEvent(
          o,
          { type: 'agent', id: agent },
          i % 3 ? 'tool.call.denied' : 'tool.call.completed',
          { type: 'tool', id: 'orders.list' },
          i % 3 ? 'denied' : 'success',
        );
      const from = new Date(Date.now() - 3_600_000).toISOString();
      const collection = await o.as('owner', 'post', '/compliance/collect', 201);
      assert.ok(collection);
      const to = new Date(Date.now() + 3_600_000).toISOString();
      const res = await o.app.request(`/api/v1/orgs/acme/compliance/package?from=${from}&to=${to}`, {
        headers: { authorization: `Bearer ${o.org.people.auditor.token}` },
      });
      assert.equal(res.status, 200, await res.clone().text());
      const file = join(dir, 'collected.zip');
      writeFileSync(file, Buffer.from(await res.arrayBuffer()));
      const { verifierKey } = await o.as('auditor', 'get', '/audit/key', 200);
      const v = await verifyPackage(file, verifierKey);
      assert.deepEqual(v.problems, []);

      const stored = await o.t.store.db
        .selectFrom('compliance_evidence')
        .select(['id', 'figure'])
        .where('org_id', '=', o.org.id)
        .execute();
      const figures = stored.filter((r) => r.figure !== null).length;
      assert.ok(figures > 0, 'the collectors computed figures from the log');
      assert.equal(v.figures, figures, 'every collected figure was recomputed');
      const z = await openArchive(file);
      const records = JSON.parse((await z.read(PATHS.records)).toString()) as Array<{ id: string }>;
      const results = JSON.parse((await z.read(PATHS.results)).toString()) as Array<{ controlId: string }>;
      const controls = JSON.parse((await z.read(PATHS.controls)).toString()) as unknown[];
      z.close();
      assert.deepEqual(records.map((r) => r.id).sort(), stored.map((r) => r.id).sort());
      assert.ok(results.length >= 15, `${results.length} control results`);
      assert.ok(controls.length >= 15);
      // A period before the collection holds none of it.
      const early = await o.app.request(
        '/api/v1/orgs/acme/compliance/package?from=2000-01-01&to=2000-02-01',
        {
          headers: { authorization: `Bearer ${o.org.people.auditor.token}` },
        },
      );
      const emptyFile = join(dir, 'empty.zip');
      writeFileSync(emptyFile, Buffer.from(await early.arrayBuffer()));
      const ev = await verifyPackage(emptyFile, verifierKey);
      assert.equal(ev.ok, true);
      assert.equal(ev.figures, 0);
    });
  });
}
