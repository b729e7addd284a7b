/**
 * The trail on SQLite and PostgreSQL: durable group-committed appends, one writer per log,
 * checkpoints at most once per interval and on demand, proofs from the stored tree checked by
 * Sigstore's independent verifier, exports verified offline, retention, SIEM streaming.
 */
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import checkpointLib from '@sigstore/verify/dist/tlog/checkpoint.js';
import merkleLib from '@sigstore/verify/dist/tlog/merkle.js';
import { initOrg, operatorCaller } from '../identity/index.ts';
import { silentLogger } from '../log/index.ts';
import { allAuditEntries, call, createApp, seedOrg, testDeps } from '../testing/fixtures.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';
import { localKeyring, Vault, vaultLogKeys } from '../vault/index.ts';
import {
  applyRetention,
  exportBounds,
  exportLines,
  exportProofText,
  recordAudit,
  verifyExport,
  verifyLog,
} from './index.ts';
import { keyId, verifierKey as makeVerifierKey, parseVerifierKey } from './note.ts';
import { AuditTrail } from './trail.ts';

const actor = { type: 'system' as const, id: 'test' };

function sigstoreTlog(vkey: string) {
  const v = parseVerifierKey(vkey);
  const raw = Buffer.from(vkey.split('+').slice(2).join('+'), 'base64').subarray(1);
  return {
    logID: Buffer.concat([keyId(v.name, raw), Buffer.alloc(28)]),
    publicKey: createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
      format: 'jwk',
    }),
    baseURL: v.name,
    validFor: { start: new Date(0), end: new Date(8.64e15) },
  };
}

for (const kind of STORE_KINDS) {
  describe(`audit trail [${kind}]`, () => {
    let t: TestStore;
    let trail: AuditTrail;
    let orgId: string;
    const published: Array<{ log: string; size: number }> = [];

    before(async () => {
      t = await openTestStore(kind);
      orgId = (await initOrg(t.store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' })).org
        .id;
      trail = new AuditTrail({
        store: t.store,
        keys: vaultLogKeys(new Vault(localKeyring(t.home, {}))),
        originHost: 'paddock.test',
        log: silentLogger,
        checkpointIntervalMs: 200,
        publishers: [(log, size) => published.push({ log, size })],
      });
      trail.start(50);
    });
    after(async () => {
      await trail?.close();
      await t?.cleanup();
    });

    test('appends are acknowledged durable, in order, batched by group commit', async () => {
      await trail.flush();
      const before = (await trail.checkpoint(orgId)).size;
      const receipts = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          trail.append({ orgId, actor, action: 'test.appended', details: { i } }),
        ),
      );
      const indexes = receipts.map((r) => r.index);
      assert.deepEqual(
        indexes,
        Array.from({ length: 300 }, (_, i) => before + i),
        'each append has its own place, in order',
      );
      const rows = await t.store.db
        .selectFrom('audit_entries')
        .select('idx')
        .where('log_id', '=', orgId)
        .execute();
      assert.equal(rows.length, before + 300);
      const report = await verifyLog(t.store.db, orgId);
      assert.ok(report.ok, JSON.stringify(report.problem));
    });

    test('entries recorded inside a change’s transaction are placed by the writer', async () => {
      await t.store.db
        .transaction()
        .execute((trx) => recordAudit(trx, { orgId, actor, action: 'test.in_transaction' }));
      await trail.flush();
      const row = await t.store.db
        .selectFrom('audit_entries')
        .selectAll()
        .where('action', '=', 'test.in_transaction')
        .executeTakeFirstOrThrow();
      assert.notEqual(row.idx, null);
      // A rolled-back change leaves no entry.
      await assert.rejects(
        t.store.db.transaction().execute(async (trx) => {
          await recordAudit(trx, { orgId, actor, action: 'test.rolled_back' });
          throw new Error('abort');
        }),
      );
      const none = (await allAuditEntries(t.store)).filter((e) => e.action === 'test.rolled_back');
      assert.equal(none.length, 0);
    });

    test('checkpoints: at most one per interval while the log grows, one on demand, all published', async () => {
      await trail.flush();
      const start = await t.store.db
        .selectFrom('audit_checkpoints')
        .select('tree_size')
        .where('log_id', '=', orgId)
        .execute();
      published.length = 0;
      const until = Date.now() + 1000;
      while (Date.now() < until) {
        await trail.append({ orgId, actor, action: 'test.steady' });
      }
      const during = await t.store.db
        .selectFrom('audit_checkpoints')
        .select(['tree_size', 'created_at'])
        .where('log_id', '=', orgId)
        .orderBy('created_at')
        .execute();
      const cp = await trail.checkpoint(orgId);
      const all = await t.store.db
        .selectFrom('audit_checkpoints')
        .select('tree_size')
        .where('log_id', '=', orgId)
        .execute();
      const signed = during.slice(start.length).map((c) => Date.parse(c.created_at));
      assert.ok(signed.length >= 3, `only ${signed.length} checkpoints while the log grew for 1 s`);
      // Spaced by a monotonic clock; their stamps are the wall clock's, which this VM steps by a
      // few ms now and then (CI once read 192 ms): hence the margin.
      for (let i = 1; i < signed.length; i++) {
        assert.ok(
          signed[i]! - signed[i - 1]! >= 180,
          `two checkpoints ${signed[i]! - signed[i - 1]!} ms apart (interval 200 ms)`,
        );
      }
      assert.equal(
        Math.max(...all.map((c) => Number(c.tree_size))),
        cp.size,
        'the on-demand checkpoint covers everything',
      );
      assert.ok(
        published.some((p) => p.size === cp.size),
        'published outside the database',
      );
    });

    test('when the log stops growing, its last state is signed within the interval, unasked', async () => {
      for (let i = 0; i < 5; i++) await trail.append({ orgId, actor, action: 'test.burst' });
      const head = await t.store.db
        .selectFrom('audit_logs')
        .select('tree_size')
        .where('id', '=', orgId)
        .executeTakeFirstOrThrow();
      // Nobody asks for a checkpoint here: the trail signs the last state on its own.
      await until(
        async () => {
          const newest = await t.store.db
            .selectFrom('audit_checkpoints')
            .select((eb) => eb.fn.max('tree_size').as('size'))
            .where('log_id', '=', orgId)
            .executeTakeFirstOrThrow();
          assert.equal(Number(newest.size), Number(head.tree_size));
          return true;
        },
        { what: 'a checkpoint of the last state' },
      );
    });

    test('inclusion proofs and checkpoints from the stored tree pass Sigstore’s verifier', async () => {
      const cp = await trail.checkpoint(orgId);
      const { verifierKey } = await trail.verifierKey(orgId);
      const tlog = sigstoreTlog(verifierKey);
      const verified = checkpointLib.verifyCheckpoint(
        { inclusionProof: { checkpoint: { envelope: cp.note } } } as never,
        [tlog] as never,
      );
      assert.equal(Number(verified.logSize), cp.size);
      for (const index of [0, 1, 2, 7, 8, 255, 256, 257, cp.size - 2, cp.size - 1]) {
        const p = await trail.inclusionProof(orgId, index);
        const row = await t.store.db
          .selectFrom('audit_entries')
          .select('leaf')
          .where('log_id', '=', orgId)
          .where('idx', '=', index)
          .executeTakeFirstOrThrow();
        merkleLib.verifyMerkleInclusion(
          {
            canonicalizedBody: Buffer.from(row.leaf!),
            inclusionProof: {
              logIndex: String(index),
              hashes: p.hashes.map((h) => Buffer.from(h, 'base64')),
            },
          } as never,
          checkpointLib.LogCheckpoint.fromString(p.checkpoint.slice(0, p.checkpoint.indexOf('\n\n') + 1)),
        );
        assert.match(p.tlogProof, new RegExp(`^c2sp\\.org/tlog-proof@v1\\nindex ${index}\\n`));
      }
      await assert.rejects(trail.inclusionProof(orgId, cp.size + 5), /No entry/);
    });

    test('an export verifies offline, and any change to it is caught', async () => {
      const cp = await trail.checkpoint(orgId);
      const { origin, verifierKey } = await trail.verifierKey(orgId);
      const range = await exportBounds(t.store.db, orgId, cp.size, {});
      let jsonl = '';
      for await (const line of exportLines(t.store.db, orgId, 'jsonl', range)) jsonl += line;
      const proof = exportProofText(
        origin,
        range.a,
        range.b,
        await trail.rangeProof(orgId, range.a, range.b, cp.size),
        cp.note,
      );
      assert.ok(verifyExport(jsonl, proof, verifierKey).ok);
      const lines = jsonl.trim().split('\n');
      const edited = lines
        .map((l, i) => (i === 5 ? l.replace('"test.appended"', '"test.appendeX"') : l))
        .join('\n');
      const r = verifyExport(edited, proof, verifierKey);
      assert.equal(r.ok, false);
      assert.equal(r.problem?.index, 5);
      const dropped = verifyExport(lines.filter((_, i) => i !== 9).join('\n'), proof, verifierKey);
      assert.equal(dropped.problem?.index, 9);
      // A partial export (by time) proves itself too.
      const mid = lines.map((l) => JSON.parse(l)).find((x) => x.index === 100).entry.time;
      const part = await exportBounds(t.store.db, orgId, cp.size, { from: mid });
      let partJsonl = '';
      for await (const line of exportLines(t.store.db, orgId, 'jsonl', part)) partJsonl += line;
      const partProof = exportProofText(
        origin,
        part.a,
        part.b,
        await trail.rangeProof(orgId, part.a, part.b, cp.size),
        cp.note,
      );
      assert.ok(part.a > 0 && verifyExport(partJsonl, partProof, verifierKey).ok);
      const mistyped = verifyExport(jsonl, proof, verifierKey.replace(/\+[0-9a-f]{8}\+/, '+00000000+'));
      assert.equal(mistyped.ok, false);
      assert.match(mistyped.problem?.message ?? '', /^the key is not a verifier key: The verifier key id/);
      assert.match(
        verifyExport(jsonl, proof, '<verifier key>').problem?.message ?? '',
        /not a verifier key: A verifier key looks like/,
      );
      const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!;
      const otherKey = verifyExport(jsonl, proof, makeVerifierKey(origin, Buffer.from(other, 'base64url')));
      assert.equal(otherKey.problem?.message, 'the checkpoint is not signed by that verifier key');
    });

    test('retention erases details on record, keeps headers and hashes: proofs and verification still hold', async () => {
      await t.store.db
        .updateTable('orgs')
        .set({ settings: JSON.stringify({ auditRetentionDays: 1 }) })
        .where('id', '=', orgId)
        .execute();
      const n = await applyRetention(t.store.db, new Date(Date.now() + 2 * 86_400_000));
      assert.ok(n > 300);
      await trail.flush();
      const row = await t.store.db
        .selectFrom('audit_entries')
        .selectAll()
        .where('log_id', '=', orgId)
        .where('idx', '=', 3)
        .executeTakeFirstOrThrow();
      assert.equal(row.details, null);
      assert.equal(row.salt, null);
      assert.ok(row.leaf, 'the hashed header stays');
      const run = await t.store.db
        .selectFrom('audit_entries')
        .selectAll()
        .where('log_id', '=', orgId)
        .where('id', '=', row.erased_by!)
        .executeTakeFirstOrThrow();
      assert.equal(run.action, 'audit.retention.applied');
      assert.equal(JSON.parse(run.details!).count, n);
      const report = await verifyLog(t.store.db, orgId);
      assert.ok(report.ok, JSON.stringify(report.problem));
      assert.equal(report.erased, n);
      const p = await trail.inclusionProof(orgId, 3);
      assert.ok(p.hashes.length > 0);
      await t.store.db.updateTable('orgs').set({ settings: '{}' }).where('id', '=', orgId).execute();
    });
  });

  describe(`audit over the API [${kind}]`, () => {
    let t: TestStore;
    let app: ReturnType<typeof createApp>;
    let owner: string;
    let auditor: string;
    let member: string;
    const received: string[] = [];
    const authorizations: string[] = [];
    let failFirst = 2;
    const siem = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        if (failFirst-- > 0) {
          res.writeHead(503).end();
          return;
        }
        received.push(body);
        authorizations.push(String(req.headers.authorization ?? ''));
        res.writeHead(204).end();
      });
    });

    before(async () => {
      await new Promise<void>((r) => siem.listen(0, '127.0.0.1', r));
      t = await openTestStore(kind);
      app = createApp(testDeps(t.store, t.home));
      const org = await seedOrg(t.store, 'acme');
      owner = org.people.owner.token;
      auditor = org.people.auditor.token;
      member = org.people.member.token;
    });
    after(async () => {
      siem.close();
      await t?.cleanup();
    });

    test('a canary secret sent in requests never appears in the log, exports or responses', async () => {
      const canary = 'canary-secret-9f8e7d6c5b4a';
      await call(app, 'put', '/api/v1/orgs/acme/sso', {
        token: owner,
        body: { issuer: 'https://idp.test', clientId: 'c', clientSecret: canary },
      });
      await call(app, 'post', '/api/v1/session', { body: { email: 'owner@acme.test', password: canary } });
      await call(app, 'post', '/api/v1/orgs/acme/teams', {
        token: owner,
        body: { name: canary.replace('canary-secret-', 't') },
      });
      const texts = [
        (await call(app, 'get', '/api/v1/orgs/acme/audit?limit=500', { token: auditor })).text,
        (await call(app, 'get', '/api/v1/orgs/acme/audit/export?format=jsonl', { token: auditor })).text,
        (await call(app, 'get', '/api/v1/orgs/acme/audit/export?format=csv', { token: auditor })).text,
        (await call(app, 'get', '/api/v1/orgs/acme/audit/export?format=ocsf', { token: auditor })).text,
        JSON.stringify(await allAuditEntries(t.store)),
      ];
      for (const text of texts) assert.ok(!text.includes(canary), 'canary leaked');
      assert.ok(texts[0]!.includes('sso.updated'));
    });

    test('OCSF export maps to the right classes', async () => {
      await call(app, 'post', '/api/v1/session', {
        body: { email: 'admin@acme.test', password: 'correct horse battery staple' },
      });
      const r = await call(app, 'get', '/api/v1/orgs/acme/audit/export?format=ocsf', { token: auditor });
      const events = r.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const byAction = (a: string) => events.find((e) => e.message === a);
      assert.equal(byAction('person.signed_in').class_uid, 3002);
      assert.equal(byAction('person.added').class_uid, 3005);
      assert.equal(byAction('team.created').class_uid, 3004);
      assert.equal(byAction('team.created').type_uid, 300401);
      for (const e of events)
        assert.ok(e.time > 0 && e.metadata.uid && e.metadata.product.name === 'Paddock');
    });

    test('filters, replay order and cursor pagination', async () => {
      const all = (await call(app, 'get', '/api/v1/orgs/acme/audit?limit=500', { token: auditor })).body
        .events;
      const asc = (await call(app, 'get', '/api/v1/orgs/acme/audit?order=asc&limit=3', { token: auditor }))
        .body;
      assert.deepEqual(
        asc.events.map((e: any) => e.index),
        [0, 1, 2],
      );
      const next = (
        await call(app, 'get', `/api/v1/orgs/acme/audit?order=asc&limit=3&cursor=${asc.nextCursor}`, {
          token: auditor,
        })
      ).body;
      assert.deepEqual(
        next.events.map((e: any) => e.index),
        [3, 4, 5],
      );
      const failures = (await call(app, 'get', '/api/v1/orgs/acme/audit?q=idp.test', { token: auditor })).body
        .events;
      assert.ok(failures.length >= 1 && failures.every((e: any) => JSON.stringify(e).includes('idp.test')));
      const since = all[2].time;
      const windowed = (
        await call(app, 'get', `/api/v1/orgs/acme/audit?from=${encodeURIComponent(since)}`, {
          token: auditor,
        })
      ).body.events;
      assert.ok(windowed.every((e: any) => e.time >= since));
      const bad = await call(app, 'get', '/api/v1/orgs/acme/audit?from=yesterday', { token: auditor });
      assert.equal(bad.status, 400);
    });

    test('an export and its proof fetched apart still match when they name the same tree size', async () => {
      const cp = (await call(app, 'get', '/api/v1/orgs/acme/audit/checkpoint', { token: auditor })).body;
      const jsonl = await call(
        app,
        'get',
        `/api/v1/orgs/acme/audit/export?format=jsonl&treeSize=${cp.treeSize}`,
        { token: auditor },
      );
      await call(app, 'post', '/api/v1/orgs/acme/teams', { token: owner, body: { name: 'in-between' } });
      const link = /<([^>]+)>; rel="proof"/.exec(jsonl.headers.get('link') ?? '')?.[1];
      assert.ok(link, 'the export links to its proof');
      const proof = await call(app, 'get', link, { token: auditor });
      const { verifyExport } = await import('./verify.ts');
      const r = verifyExport(jsonl.text, proof.text, cp.verifierKey);
      assert.ok(r.ok, JSON.stringify(r.problem));
      assert.equal(r.treeSize, cp.treeSize);
      const missing = await call(app, 'get', '/api/v1/orgs/acme/audit/export?format=proof&treeSize=999999', {
        token: auditor,
      });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'checkpoint_not_found');
    });

    test('proof, consistency and entry routes; members cannot read the trail; nobody can write it', async () => {
      const cp = (await call(app, 'get', '/api/v1/orgs/acme/audit/checkpoint', { token: auditor })).body;
      assert.ok(cp.treeSize > 5);
      const entry = await call(app, 'get', '/api/v1/orgs/acme/audit/entries/1', { token: auditor });
      assert.equal(entry.body.event.index, 1);
      assert.ok(entry.body.proof.tlogProof.startsWith('c2sp.org/tlog-proof@v1'));
      // By id too (a result names its decision so), in this org's log only.
      const byId = await call(app, 'get', `/api/v1/orgs/acme/audit/entries/${entry.body.event.id}`, {
        token: auditor,
      });
      assert.equal(byId.status, 200, byId.text);
      assert.equal(byId.body.event.index, 1);
      assert.equal(byId.body.proof.tlogProof, entry.body.proof.tlogProof);
      const unknown = await call(app, 'get', '/api/v1/orgs/acme/audit/entries/evt_0000000000000000', {
        token: auditor,
      });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'entry_not_found');
      const garbage = await call(app, 'get', '/api/v1/orgs/acme/audit/entries/evt_x%27%20or%201', {
        token: auditor,
      });
      assert.equal(garbage.status, 400);
      const cons = await call(app, 'get', `/api/v1/orgs/acme/audit/consistency?from=3&to=${cp.treeSize}`, {
        token: auditor,
      });
      assert.equal(cons.status, 200);
      assert.ok(cons.body.hashes.length > 0);
      const outside = await call(
        app,
        'get',
        `/api/v1/orgs/acme/audit/consistency?from=3&to=${cp.treeSize + 100}`,
        { token: auditor },
      );
      assert.equal(outside.status, 404);
      assert.equal((await call(app, 'get', '/api/v1/orgs/acme/audit', { token: member })).status, 403);
      const doc = (await call(app, 'get', '/api/v1/openapi.json')).body;
      const auditPaths = Object.entries(doc.paths).filter(([p]) => p.includes('/audit'));
      assert.ok(
        auditPaths.every(([, ops]: any) => Object.keys(ops).every((m) => m === 'get')),
        'only GET routes on the trail',
      );
    });

    test('committed entries stream to the SIEM webhook as JSON lines, retried until delivered', async () => {
      const url = `http://127.0.0.1:${(siem.address() as AddressInfo).port}/ingest`;
      // Paddock authenticates to the SIEM with a credential from the org's vault.
      const credential = 'Bearer siem-ingest-5f0c2e9a77';
      const secret = await call(app, 'post', '/api/v1/orgs/acme/secrets', {
        token: owner,
        body: { name: 'siem-token', kind: 'other', value: credential },
      });
      assert.equal(secret.status, 201, secret.text);
      const set = await call(app, 'patch', '/api/v1/orgs/acme', {
        token: owner,
        body: { settings: { siemWebhookUrl: url, siemWebhookSecret: secret.body.id } },
      });
      assert.equal(set.status, 200, set.text);
      assert.ok(!set.text.includes(credential), 'settings name the secret, never its value');
      await call(app, 'post', '/api/v1/orgs/acme/teams', { token: owner, body: { name: 'streamed' } });
      const deadline = Date.now() + 10_000;
      while (!received.join('').includes('"team.created"') || !received.join('').includes('streamed')) {
        assert.ok(Date.now() < deadline, 'nothing reached the SIEM');
        await new Promise((r) => setTimeout(r, 100));
      }
      const lines = received
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const indexes = lines.map((l) => l.index);
      assert.deepEqual(
        indexes,
        [...indexes].sort((a, b) => a - b),
        'in index order',
      );
      assert.equal(new Set(indexes).size, indexes.length, 'each entry once');
      assert.equal(indexes[0], 0, 'from the start of the log');
      assert.ok(
        authorizations.length > 0 && authorizations.every((a) => a === credential),
        'each delivery carries it',
      );
      assert.ok(!lines.some((l) => JSON.stringify(l).includes(credential)), 'and it is in no streamed entry');
      const insecure = await call(app, 'patch', '/api/v1/orgs/acme', {
        token: owner,
        body: { settings: { siemWebhookUrl: 'http://siem.example.com/x' } },
      });
      assert.equal(insecure.status, 400);
    });
  });
}

test('checkpoints are posted to a webhook as they are signed, retried when it fails', async () => {
  const { webhookCheckpointPublisher } = await import('./publish.ts');
  const got: Array<{ log: string; size: number; note: string }> = [];
  let fail = 1;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      if (fail-- > 0) return void res.writeHead(500).end();
      got.push(JSON.parse(body));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const publish = webhookCheckpointPublisher(
      `http://127.0.0.1:${(server.address() as AddressInfo).port}/cp`,
      silentLogger,
    );
    publish('org_x', 7, 'origin\n7\nroot\n\n— sig\n');
    const deadline = Date.now() + 5000;
    while (got.length === 0) {
      assert.ok(Date.now() < deadline, 'the webhook never got the checkpoint');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(got[0], { log: 'org_x', size: 7, note: 'origin\n7\nroot\n\n— sig\n' });
  } finally {
    server.close();
  }
});

for (const kind of STORE_KINDS) {
  test(`a change's commit wakes the writer: its entry is placed with no poll and no kick [${kind}]`, async () => {
    const t = await openTestStore(kind);
    const trail = new AuditTrail({
      store: t.store,
      keys: vaultLogKeys(new Vault(localKeyring(t.home, {}))),
      originHost: 'paddock.test',
      log: silentLogger,
    });
    // A backstop poll far longer than the wait below: only the wake-up can place the entries.
    trail.start(600_000);
    try {
      // Three: the first kick and the first "now listening" can each place one; the rest is the wake-up.
      for (const action of ['test.woken.one', 'test.woken.two', 'test.woken.three']) {
        await t.store.db
          .transaction()
          .execute((trx) => recordAudit(trx, { orgId: 'org_woken', actor, action }));
        await until(
          () =>
            t.store.db
              .selectFrom('audit_entries')
              .select('idx')
              .where('action', '=', action)
              .executeTakeFirst(),
          { what: `${action} placed`, timeoutMs: 10_000 },
        );
      }
    } finally {
      await trail.close();
      await t.cleanup();
    }
  });
}
