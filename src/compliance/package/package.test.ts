/**
 * The evidence package end to end on both engines: built from a real audit log, verified offline
 * with the org's published key; reproducible; every file, figure and entry tampered with is
 * caught and named (even when the manifest is re-signed with the org's own key, as a dishonest
 * server could); a period whose details retention erased still verifies; each package proves the
 * log grew from the previous one.
 */
import assert from 'node:assert/strict';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import canonicalize from 'canonicalize';
import { ZipFile } from 'yazl';
import { AuditTrail, applyRetention } from '../../audit/index.ts';
import { initOrg, operatorCaller } from '../../identity/index.ts';
import { silentLogger } from '../../log/index.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../../testing/stores.ts';
import { localKeyring, Vault, vaultLogKeys } from '../../vault/index.ts';
import type { ControlResult, EvidenceRecord } from '../types.ts';
import { buildPackage, type PackageInput } from './build.ts';
import { evidenceHash } from './evidence-hash.ts';
import { MANIFEST, MANIFEST_KIND, PATHS, SIGNATURE } from './layout.ts';
import { type Manifest, manifestBytes, manifestStatementBody, sha256Hex } from './manifest.ts';
import { openArchive } from './read-zip.ts';
import type { ControlInfo, DataFlow, Period } from './source.ts';
import { figureRecord, plainRecord, staticSource } from './testing.ts';
import { verifyPackage } from './verify.ts';

const system = { type: 'system' as const, id: 'test' };
const noPdf = async () => ({ skipped: 'not printed in this test' });
const flow: DataFlow = {
  org: 'acme',
  people: [{ role: 'owner', count: 1 }],
  channels: ['dashboard'],
  agents: [],
  providers: [],
  connections: [],
  keys: 'vault',
  logs: 'database',
};
const CONTROLS: ControlInfo[] = [
  {
    id: 'PAD-GATE-01',
    title: 'Default-deny tool permissions',
    description: 'Calls need a grant.',
    criteria: ['CC6.1', 'CC6.3'],
  },
  {
    id: 'PAD-LOG-01',
    title: 'Tamper-evident audit log',
    description: 'Every action is in a Merkle log.',
    criteria: ['CC7.2', 'CC4.1'],
  },
  {
    id: 'PAD-ACC-01',
    title: 'Roles and access removal',
    description: 'People hold roles.',
    criteria: ['CC6.2'],
  },
];

/** Rewrites a package with `change` applied to its files (a path → new bytes, or undefined to drop it). */
async function rewrite(
  from: string,
  to: string,
  change: (path: string, bytes: Buffer) => Buffer | undefined | Promise<Buffer | undefined>,
): Promise<void> {
  const archive = await openArchive(from);
  const zip = new ZipFile();
  const out = pipeline(zip.outputStream, createWriteStream(to));
  for (const name of archive.names) {
    const bytes = await change(name, await archive.read(name));
    if (bytes) zip.addBuffer(bytes, name);
  }
  archive.close();
  zip.end();
  await out;
}

for (const kind of STORE_KINDS) {
  describe(`evidence package [${kind}]`, () => {
    let t: TestStore;
    let trail: AuditTrail;
    let org: { id: string; slug: string };
    let key: string;
    let dir: string;
    let period: Period;
    let records: EvidenceRecord[];
    let results: ControlResult[];

    const build = async (file: string, over: Partial<PackageInput> = {}) => {
      const pkg = await buildPackage({
        db: t.store.db,
        log: trail,
        source: staticSource({ controls: CONTROLS, records, results }),
        dataFlow: flow,
        org,
        period,
        productVersion: 'test',
        pdf: noPdf,
        ...over,
      });
      await pipeline(pkg.stream, createWriteStream(join(dir, file)));
      return { path: join(dir, file), summary: await pkg.done };
    };
    const collect = async (at: { size: number; note: string }) => [
      await figureRecord(
        t.store.db,
        at,
        org.id,
        'PAD-GATE-01',
        { name: 'tool calls by outcome', where: { prefix: 'tool.call.' }, by: 'outcome' },
        period,
        period.from,
      ),
      await figureRecord(
        t.store.db,
        at,
        org.id,
        'PAD-GATE-01',
        { name: 'denials by agent', where: { actions: ['tool.call.denied'] }, by: 'actor' },
        period,
        period.from,
      ),
      await figureRecord(
        t.store.db,
        at,
        org.id,
        'PAD-LOG-01',
        { name: 'entries', where: {} },
        period,
        period.from,
      ),
      plainRecord(
        org.id,
        'PAD-ACC-01',
        'people.roles',
        [
          { email: 'o@acme.test', role: 'owner', lastSignIn: null },
          { email: '=cmd()', role: 'auditor', lastSignIn: '2026-01-01' },
        ],
        period,
        period.from,
      ),
    ];

    before(async () => {
      t = await openTestStore(kind);
      dir = mkdtempSync(join(tmpdir(), 'paddock-package-'));
      const init = await initOrg(t.store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
      org = { id: init.org.id, slug: 'acme' };
      trail = new AuditTrail({
        store: t.store,
        keys: vaultLogKeys(new Vault(localKeyring(t.home, {}))),
        originHost: 'audit.test',
        log: silentLogger,
      });
      await trail.flush();
      const start = new Date(Date.now() - 60_000).toISOString();
      for (let i = 0; i < 40; i++) {
        const denied = i % 5 === 0;
        await trail.append({
          orgId: org.id,
          actor: { type: 'agent', id: i % 2 ? 'agt_a' : 'agt_b' },
          action: denied ? 'tool.call.denied' : 'tool.call.allowed',
          outcome: denied ? 'denied' : 'success',
          target: { type: 'tool', id: 'github.create_issue' },
          details: { args: { title: `issue ${i}` } },
        });
      }
      period = { from: start, to: new Date(Date.now() + 60_000).toISOString() };
      records = await collect(await trail.checkpoint(org.id));
      results = [
        {
          controlId: 'PAD-GATE-01',
          status: 'pass',
          reason: '8 calls denied without a grant',
          evaluatedAt: period.from,
          evidence: [records[0]!.id, records[1]!.id],
        },
        {
          controlId: 'PAD-LOG-01',
          status: 'warning',
          reason: 'audit log verified to size 40',
          evaluatedAt: period.from,
          evidence: [records[2]!.id],
        },
        {
          controlId: 'PAD-ACC-01',
          status: 'fail',
          reason: '1 person never signed in',
          evaluatedAt: period.from,
          evidence: [records[3]!.id],
        },
      ];
      key = (await trail.verifierKey(org.id)).verifierKey;
    });
    after(async () => {
      await trail.close();
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test("a package verifies offline with the org's published key: signature, hashes, proofs and every figure", async () => {
      const { path, summary } = await build('first.zip');
      const v = await verifyPackage(path, key);
      assert.deepEqual(v.problems, []);
      assert.equal(v.ok, true);
      assert.equal(v.figures, 3);
      assert.equal(summary.pdfSkipped, 'not printed in this test');
      const archive = await openArchive(path);
      const names = archive.names;
      const proofs = JSON.parse((await archive.read(PATHS.proofs)).toString());
      const entries = (await archive.read(proofs.ranges[0].file)).toString();
      archive.close();
      for (const p of [
        PATHS.reportHtml,
        PATHS.pdfSkipped,
        PATHS.dataFlow,
        PATHS.records,
        PATHS.recordsCsv,
        PATHS.oscal,
        PATHS.findings('PAD-GATE-01'),
        PATHS.populationCsv(records[3]!.id),
        PATHS.proofs,
        MANIFEST,
        SIGNATURE,
      ])
        assert.ok(names.includes(p), `${p} is in the package`);
      // Headers only: the details never leave the database.
      assert.doesNotMatch(entries, /issue 3/);
      assert.match(entries, /"action":"tool.call.denied"/);
      // The first package of an org links to none.
      assert.equal(proofs.previous, null);
      // A formula-looking cell is neutralised in the CSV.
      assert.match(readFileSync(path).toString('latin1'), /manifest/);
    });

    test('two packages of the same period and data hold the same files, byte for byte; only generation time and signature differ', async () => {
      const a = await build('same-a.zip', { now: () => new Date('2030-01-01T00:00:00Z') });
      const b = await build('same-b.zip', { now: () => new Date('2030-01-02T00:00:00Z') });
      const read = async (p: string) => {
        const z = await openArchive(p);
        const m = JSON.parse((await z.read(MANIFEST)).toString()) as Manifest;
        const sig = (await z.read(SIGNATURE)).toString();
        z.close();
        return { m, sig };
      };
      const [ra, rb] = [await read(a.path), await read(b.path)];
      assert.deepEqual(ra.m.files, rb.m.files);
      assert.notEqual(ra.m.generatedAt, rb.m.generatedAt);
      assert.deepEqual({ ...ra.m, generatedAt: '' }, { ...rb.m, generatedAt: '' });
      assert.notEqual(ra.sig, rb.sig);
    });

    test('tampering with any file of the package is caught, naming the file', async () => {
      const { path } = await build('tamper-base.zip');
      const archive = await openArchive(path);
      const names = archive.names;
      archive.close();
      assert.ok(names.length > 10);
      for (const name of names) {
        const bad = join(dir, 'tampered.zip');
        await rewrite(path, bad, (p, bytes) => {
          if (p !== name) return bytes;
          const copy = Buffer.from(bytes);
          // Change one byte in the middle (a digit stays a digit, so JSON stays JSON).
          const i = Math.floor(copy.length / 2);
          copy[i] = copy[i] === 0x31 ? 0x32 : 0x31;
          return copy;
        });
        const v = await verifyPackage(bad, key);
        assert.equal(v.ok, false, `a change to ${name} is caught`);
        const named =
          name === MANIFEST || name === SIGNATURE ? /manifest/ : new RegExp(name.replaceAll('.', '\\.'));
        assert.match(v.problems.join('\n'), named, `the problem names ${name}: ${v.problems.join('; ')}`);
      }
      // A file removed, or one added, is caught too.
      await rewrite(path, join(dir, 'dropped.zip'), (p, bytes) => (p === PATHS.oscal ? undefined : bytes));
      assert.match(
        (await verifyPackage(join(dir, 'dropped.zip'), key)).problems.join('\n'),
        /oscal\/assessment-results\.json is listed in the manifest but missing/,
      );
      const added = join(dir, 'added.zip');
      const z = await openArchive(path);
      const zip = new ZipFile();
      const out = pipeline(zip.outputStream, createWriteStream(added));
      for (const n of z.names) zip.addBuffer(await z.read(n), n);
      z.close();
      zip.addBuffer(Buffer.from('trust me'), 'evidence/extra.json');
      zip.end();
      await out;
      assert.match(
        (await verifyPackage(added, key)).problems.join('\n'),
        /evidence\/extra\.json is in the package but not in the signed manifest/,
      );
    });

    test("a changed figure, or a changed entry, is caught even when the manifest is re-signed with the org's key", async () => {
      const { path } = await build('resign-base.zip');
      // A dishonest server: change the record, fix its hash and the manifest, sign again with the real key.
      const resign = async (to: string, change: (p: string, b: Buffer) => Buffer) => {
        const files = new Map<string, Buffer>();
        await rewrite(path, join(dir, 'scratch.zip'), (p, b) => {
          files.set(p, change(p, b));
          return b;
        });
        const m = JSON.parse(files.get(MANIFEST)!.toString()) as Manifest;
        m.files = m.files.map((f) => ({
          ...f,
          sha256: sha256Hex(files.get(f.path)!),
          size: files.get(f.path)!.length,
        }));
        const bytes = manifestBytes(m);
        const sig = await trail.signStatement(org.id, MANIFEST_KIND, manifestStatementBody(bytes));
        await rewrite(path, to, (p) =>
          p === MANIFEST ? bytes : p === SIGNATURE ? Buffer.from(sig) : files.get(p),
        );
      };
      const figure = join(dir, 'figure.zip');
      await resign(figure, (p, b) => {
        if (p !== PATHS.records) return b;
        const rs = JSON.parse(b.toString()) as EvidenceRecord[];
        const r = rs.find((x) => x.figure?.name === 'tool calls by outcome')!;
        r.data = { value: { ...(r.data as { value: Record<string, number> }).value, denied: 1 } };
        r.hash = evidenceHash(r);
        return Buffer.from(JSON.stringify(rs));
      });
      const vf = await verifyPackage(figure, key);
      assert.equal(vf.ok, false);
      const [a, b] = records[0]!.log!.range;
      assert.match(
        vf.problems.join('\n'),
        new RegExp(
          `evidence record .*\\(tool calls by outcome\\): it says \\{"denied":1,"success":32\\}, but entries ${a}–${b - 1} give \\{"denied":8,"success":32\\}`,
        ),
      );

      const entry = join(dir, 'entry.zip');
      await resign(entry, (p, b) =>
        p.startsWith('log/entries/')
          ? Buffer.from(b.toString().replace('tool.call.denied', 'tool.call.allowed'))
          : b,
      );
      const ve = await verifyPackage(entry, key);
      assert.equal(ve.ok, false);
      assert.match(
        ve.problems.join('\n'),
        new RegExp(
          `entries ${a}–${b - 1} \\(log/entries/${a}-${b}\\.jsonl\\): they do not lead to the signed root`,
        ),
      );
    });

    test("a package is refused with any key but the org's", async () => {
      const { path } = await build('key.zip');
      const other = new AuditTrail({
        store: t.store,
        keys: vaultLogKeys(new Vault(localKeyring(t.home, {}))),
        originHost: 'audit.test',
        log: silentLogger,
      });
      const b = await initOrg(t.store.db, operatorCaller(), { slug: 'other', ownerEmail: 'o@other.test' });
      await other.flush();
      const v = await verifyPackage(path, (await other.verifierKey(b.org.id)).verifierKey);
      await other.close();
      assert.equal(v.ok, false);
      assert.match(v.problems.join('\n'), /manifest signature does not verify with that key/);
    });

    test('a period whose details retention erased still verifies: figures read headers only', async () => {
      await t.store.db
        .updateTable('orgs')
        .set({ settings: JSON.stringify({ auditRetentionDays: 1 }) })
        .where('id', '=', org.id)
        .execute();
      const erased = await applyRetention(t.store.db, new Date(Date.now() + 3 * 86_400_000));
      assert.ok(erased >= 40, `retention erased ${erased} entries' details`);
      await trail.flush();
      const row = await t.store.db
        .selectFrom('audit_entries')
        .select(['details', 'erased_by'])
        .where('log_id', '=', org.id)
        .where('idx', '=', 5)
        .executeTakeFirstOrThrow();
      assert.equal(row.details, null);
      const { path } = await build('erased.zip');
      const v = await verifyPackage(path, key);
      assert.deepEqual(v.problems, []);
      assert.equal(v.figures, 3);
    });

    test("each package proves the log grew from the previous package's checkpoint", async () => {
      const first = await build('chain-1.zip');
      const firstSize = first.summary.treeSize!;
      for (let i = 0; i < 5; i++)
        await trail.append({ orgId: org.id, actor: system, action: 'person.invited' });
      records = await collect(await trail.checkpoint(org.id));
      const second = await build('chain-2.zip');
      assert.ok(second.summary.treeSize! > firstSize);
      const z = await openArchive(second.path);
      const proofs = JSON.parse((await z.read(PATHS.proofs)).toString());
      z.close();
      assert.equal(proofs.previous.from, firstSize);
      assert.match(proofs.previous.package, /^evp_/);
      const v = await verifyPackage(second.path, key);
      assert.deepEqual(v.problems, []);
      assert.match(
        v.passed.join('\n'),
        new RegExp(`from the previous package's checkpoint \\(tree size ${firstSize}\\)`),
      );
      // A forged previous checkpoint (another size's note under its name) is caught.
      const bad = join(dir, 'chain-bad.zip');
      await rewrite(second.path, bad, (p, b) =>
        p === PATHS.proofs
          ? Buffer.from(canonicalize({ ...proofs, previous: { ...proofs.previous, proof: [] } })!)
          : b,
      );
      assert.match((await verifyPackage(bad, key)).problems.join('\n'), /log\/proofs\.json was changed/);
    });
  });
}
