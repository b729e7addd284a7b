/**
 * The customer's documents, on both engines: streamed in under their route's own limit (tens of
 * MB) while the JSON API keeps its 64 KiB, stored 0600 with their SHA-256, listed with their
 * criterion, downloaded byte for byte; over the limit, nothing is left behind; a link planted
 * where the files go is refused.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ComplianceOrg, complianceOrg } from '../testing/compliance.ts';
import { STORE_KINDS } from '../testing/stores.ts';
import { MAX_BYTES } from './index.ts';

/** A body of `size` bytes, streamed in 1 MiB chunks (never held whole), and its SHA-256. */
function stream(size: number, seed = 7): { body: ReadableStream<Uint8Array>; sha256: string } {
  const hash = createHash('sha256');
  const chunk = (n: number, i: number) => {
    const b = new Uint8Array(n);
    for (let j = 0; j < n; j += 4096) b[j] = (i * 31 + j + seed) & 0xff;
    return b;
  };
  for (let sent = 0, i = 0; sent < size; i++) {
    const n = Math.min(1 << 20, size - sent);
    hash.update(chunk(n, i));
    sent += n;
  }
  let sent = 0;
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= size) return c.close();
      const n = Math.min(1 << 20, size - sent);
      c.enqueue(chunk(n, i++));
      sent += n;
    },
  });
  return { body, sha256: hash.digest('hex') };
}

for (const kind of STORE_KINDS) {
  describe(`customer documents [${kind}]`, () => {
    let o: ComplianceOrg;
    let folder: string;
    before(async () => {
      o = await complianceOrg(kind);
      folder = join(o.t.home, 'documents', o.org.id);
    });
    after(async () => o?.t.cleanup());

    const upload = (
      criterion: string,
      name: string,
      body: BodyInit,
      opts: { role?: 'owner' | 'admin' | 'auditor' | 'member'; headers?: Record<string, string> } = {},
    ) =>
      o.app.request(
        `/api/v1/orgs/${o.org.slug}/compliance/criteria/${criterion}/documents?name=${encodeURIComponent(name)}`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${o.org.people[opts.role ?? 'owner'].token}`,
            'content-type': 'application/pdf',
            ...opts.headers,
          },
          body,
          duplex: 'half',
        } as RequestInit,
      );

    test('a 20 MB document streams in, is stored 0600 with its SHA-256, listed with its criterion and downloaded byte for byte', async () => {
      const s = stream(20 * 1024 * 1024);
      const res = await upload('CC1.2', 'Board charter 2026.pdf', s.body);
      const doc = (await res.json()) as any;
      assert.equal(res.status, 201, JSON.stringify(doc));
      assert.equal(doc.sha256, s.sha256);
      assert.equal(doc.size, 20 * 1024 * 1024);
      assert.equal(doc.contentType, 'application/pdf');
      const file = join(folder, doc.id);
      assert.equal(statSync(file).mode & 0o777, 0o600);

      const listed = await o.as('auditor', 'get', '/compliance/documents?criterion=CC1.2', 200);
      assert.deepEqual(
        listed.documents.map((d: any) => [d.id, d.name, d.sha256]),
        [[doc.id, 'Board charter 2026.pdf', s.sha256]],
      );
      const grid = await o.as('auditor', 'get', '/compliance/criteria', 200);
      const row = grid.criteria.find((c: any) => c.id === 'CC1.2');
      assert.equal(row.responsibility, 'customer');
      assert.equal(row.documents[0].id, doc.id);

      const down = await o.app.request(`/api/v1/orgs/${o.org.slug}/compliance/documents/${doc.id}`, {
        headers: { authorization: `Bearer ${o.org.people.auditor.token}` },
      });
      assert.equal(down.status, 200);
      assert.equal(down.headers.get('content-type'), 'application/pdf');
      assert.match(down.headers.get('content-disposition')!, /attachment; filename="Board charter 2026.pdf"/);
      const bytes = Buffer.from(await down.arrayBuffer());
      assert.equal(createHash('sha256').update(bytes).digest('hex'), s.sha256);
      assert.equal(
        down.headers.get('repr-digest'),
        `sha-256=:${Buffer.from(s.sha256, 'hex').toString('base64')}:`,
      );

      await o.deps.audit.flush();
      const entry = await o.t.store.db
        .selectFrom('audit_entries')
        .select(['actor_id', 'details'])
        .where('log_id', '=', o.org.id)
        .where('action', '=', 'compliance.document.uploaded')
        .executeTakeFirstOrThrow();
      assert.equal(entry.actor_id, o.org.people.owner.id);
      assert.equal(JSON.parse(entry.details!).sha256, s.sha256);
    });

    test('over the route’s own limit: 413, no row and no file left; the JSON API keeps its 64 KiB limit', async () => {
      const rows = async () =>
        (await o.t.store.db.selectFrom('compliance_documents').select('id').execute()).length;
      const files = () => readdirSync(folder).length;
      const before = { rows: await rows(), files: files() };
      // Streamed with no declared length: refused as the bytes pass the limit.
      const big = await upload('CC6.4', 'too big.bin', stream(MAX_BYTES + 1).body);
      assert.equal(big.status, 413);
      assert.equal(((await big.json()) as any).error.code, 'payload_too_large');
      // Declared too long: refused before a byte is read.
      const declared = await upload('CC6.4', 'too big.bin', 'x', {
        headers: { 'content-length': String(MAX_BYTES + 1) },
      });
      assert.equal(declared.status, 413);
      assert.deepEqual({ rows: await rows(), files: files() }, before);
      const json = await o.app.request(`/api/v1/orgs/${o.org.slug}/compliance/incidents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${o.org.people.owner.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'x', severity: 'low', summary: 'y'.repeat(70 * 1024) }),
      });
      assert.equal(json.status, 413);
    });

    test('bad names, unknown criteria and roles that may not upload are refused; a link planted where files go is not followed', async () => {
      const small = () => stream(1024).body;
      assert.equal((await upload('CC1.2', '../../etc/passwd', small())).status, 400);
      assert.equal((await upload('CC9.9', 'x.pdf', small())).status, 400);
      assert.equal((await upload('CC1.2', 'x.pdf', small(), { role: 'auditor' })).status, 403);
      assert.equal((await upload('CC1.2', 'x.pdf', small(), { role: 'member' })).status, 403);

      const elsewhere = join(o.t.home, 'elsewhere');
      mkdirSync(elsewhere);
      renameSync(folder, `${folder}.real`);
      symlinkSync(elsewhere, folder);
      try {
        const res = await upload('CC1.2', 'x.pdf', small());
        assert.equal(res.status, 500);
        assert.equal(((await res.json()) as any).error.code, 'unsafe_documents_folder');
        assert.deepEqual(readdirSync(elsewhere), []);
      } finally {
        rmSync(folder);
        renameSync(`${folder}.real`, folder);
      }
      assert.ok(existsSync(folder));
    });
  });
}
