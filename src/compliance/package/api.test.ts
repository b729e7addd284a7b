/**
 * The package from the API and the command line: `GET …/compliance/package` streams a ZIP that
 * `paddock evidence verify` accepts with the org's published key (and refuses, exiting 1 and
 * naming the file, once a byte changed); owners, admins and auditors may fetch it, members not.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import yauzl from 'yauzl';
import type { Deps } from '../../server/index.ts';
import { createApp, type SeededOrg, seedOrg, testDeps } from '../../testing/fixtures.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../../testing/stores.ts';
import { until } from '../../testing/until.ts';
import { figureRecord, staticSource } from './testing.ts';

const BIN = fileURLToPath(new URL('../../../bin/paddock.js', import.meta.url));

function paddock(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, PADDOCK_HOME: '/nonexistent' },
    });
    let stdout = '';
    p.stdout.on('data', (d) => (stdout += String(d)));
    p.once('error', reject);
    p.once('close', (code) => resolve({ code, stdout }));
  });
}

for (const kind of STORE_KINDS) {
  describe(`evidence package over the API [${kind}]`, () => {
    let t: TestStore;
    let deps: Deps;
    let app: Hono;
    let org: SeededOrg;
    let dir: string;

    before(async () => {
      t = await openTestStore(kind);
      dir = mkdtempSync(join(tmpdir(), 'paddock-package-api-'));
      deps = testDeps(t.store, t.home, {});
      app = createApp(deps);
      org = await seedOrg(t.store, 'acme');
      for (let i = 0; i < 12; i++)
        await deps.audit.append({
          orgId: org.id,
          actor: { type: 'agent', id: 'agt_1' },
          action: i % 3 ? 'tool.call.allowed' : 'tool.call.denied',
          outcome: i % 3 ? 'success' : 'denied',
        });
      const period = { from: '2000-01-01T00:00:00.000Z', to: '2100-01-01T00:00:00.000Z' };
      const cp = await deps.audit.checkpoint(org.id);
      const rec = await figureRecord(
        t.store.db,
        cp,
        org.id,
        'PAD-GATE-01',
        { name: 'calls by outcome', where: { prefix: 'tool.call.' }, by: 'outcome' },
        period,
        period.from,
      );
      deps.evidence = staticSource({
        controls: [
          {
            id: 'PAD-GATE-01',
            title: 'Default-deny tool permissions',
            description: 'Calls need a grant.',
            criteria: ['CC6.1'],
          },
        ],
        records: [rec],
        results: [
          {
            controlId: 'PAD-GATE-01',
            status: 'pass',
            reason: '4 calls denied',
            evaluatedAt: period.from,
            evidence: [rec.id],
          },
        ],
      });
    });
    after(async () => {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('an auditor downloads the package as a stream, and `paddock evidence verify` checks it with the published key', async () => {
      const res = await app.request('/api/v1/orgs/acme/compliance/package?from=2000-01-01&to=2100-01-01', {
        headers: { authorization: `Bearer ${org.people.auditor.token}` },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/zip');
      assert.match(
        res.headers.get('content-disposition') ?? '',
        /paddock-evidence-acme-2000-01-01-2100-01-01\.zip/,
      );
      const file = join(dir, 'api.zip');
      writeFileSync(file, Buffer.from(await res.arrayBuffer()));
      const keyRes = await app.request('/api/v1/orgs/acme/audit/key', {
        headers: { authorization: `Bearer ${org.people.auditor.token}` },
      });
      const { verifierKey } = (await keyRes.json()) as { verifierKey: string };
      const ok = await paddock(['evidence', 'verify', file, '--key', verifierKey]);
      assert.equal(ok.code, 0, ok.stdout);
      assert.match(ok.stdout, /OK/);
      assert.match(ok.stdout, /1 figures recomputed from the entries' headers match their records/);

      // One byte inside the report's compressed bytes changed (its place read from the ZIP's local header).
      const bytes = readFileSync(file);
      const zip = await yauzl.openPromise(file, { lazyEntries: true });
      let entry: yauzl.Entry | undefined;
      zip.on('entry', (e: yauzl.Entry) => {
        if (e.fileName !== 'report/report.html') return zip.readEntry();
        entry = e;
        zip.close();
      });
      zip.readEntry();
      await until(() => entry);
      const header = entry!.relativeOffsetOfLocalHeader;
      const data = header + 30 + bytes.readUInt16LE(header + 26) + bytes.readUInt16LE(header + 28);
      bytes[data + Math.floor(entry!.compressedSize / 2)]! ^= 0x55;
      const tampered = join(dir, 'api-tampered.zip');
      writeFileSync(tampered, bytes);
      const bad = await paddock(['evidence', 'verify', tampered, '--key', verifierKey]);
      assert.equal(bad.code, 1, bad.stdout);
      assert.match(bad.stdout, /FAILED/);
      assert.match(bad.stdout, /✗ report\/report\.html/);
    });

    test('members may not fetch the package; the period must make sense', async () => {
      const get = (token: string, q = 'from=2026-01-01&to=2026-02-01') =>
        app.request(`/api/v1/orgs/acme/compliance/package?${q}`, {
          headers: { authorization: `Bearer ${token}` },
        });
      assert.equal((await get(org.people.member.token)).status, 403);
      const inverted = await get(org.people.admin.token, 'from=2026-02-01&to=2026-01-01');
      assert.equal(inverted.status, 400);
      assert.equal(((await inverted.json()) as { error: { code: string } }).error.code, 'invalid_period');
      assert.equal((await get(org.people.owner.token)).status, 200);
    });
  });
}
