/**
 * The customer's own documents, attached to a criterion (a board charter for CC1.2, a visitor
 * log for CC6.4…): streamed to `$PADDOCK_HOME/documents/<org>/<document id>` — never a name the
 * caller chose, created exclusively, mode 0600, without following links — up to `MAX_BYTES`,
 * hashed (SHA-256) on the way in, and listed with that hash. The JSON API's 64 KiB limit does not
 * apply to this one route; this one's is its own.
 */
import { createHash } from 'node:crypto';
import { constants, lstatSync, mkdirSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import { recordChange } from '../audit/index.ts';
import { BadRequestError, NotFoundError, PaddockError, PayloadTooLargeError } from '../errors/index.ts';
import type { OrgContext } from '../identity/index.ts';
import { newId } from '../ids/index.ts';
import type { Database, Db } from '../store/index.ts';
import type { ComplianceDocumentTable } from '../store/schema.ts';
import { criterion } from './catalog.ts';

/** 50 MB: a scanned policy binder, not a data dump. */
export const MAX_BYTES = 50 * 1024 * 1024;

export interface DocumentInfo {
  id: string;
  criterion: string;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  uploadedBy: string;
  uploadedAt: string;
}

const toInfo = (r: ComplianceDocumentTable): DocumentInfo => ({
  id: r.id,
  criterion: r.criterion,
  name: r.name,
  contentType: r.content_type,
  size: Number(r.size),
  sha256: r.sha256,
  uploadedBy: r.uploaded_by,
  uploadedAt: r.uploaded_at,
});

/** A document's name as shown and offered for download: no path, no control characters. */
export function checkName(name: string): string {
  const n = name.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (!n || n.length > 200 || /[/\\\u0000-\u001f\u007f"]/.test(n) || n === '.' || n === '..')
    throw new BadRequestError(
      'invalid_document_name',
      'A document name is 1 to 200 characters, without slashes, quotes or control characters.',
    );
  return n;
}

const TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** The stored content type: the caller's, if it is a plain `type/subtype`. */
export function contentTypeOf(header: string | undefined): string {
  const t = (header ?? '').split(';')[0]!.trim().toLowerCase();
  return TYPE.test(t) ? t : 'application/octet-stream';
}

function unsafe(message: string): PaddockError {
  return new PaddockError(500, 'unsafe_documents_folder', message);
}

/** `$PADDOCK_HOME/documents/<org>`, made one level at a time, refusing links (0700). */
function orgFolder(home: string, orgId: string): string {
  let dir = home;
  mkdirSync(home, { recursive: true, mode: 0o700 });
  for (const part of ['documents', orgId.replace(/[^A-Za-z0-9_-]/g, '_')]) {
    dir = join(dir, part);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const st = lstatSync(dir);
    if (st.isSymbolicLink() || !st.isDirectory())
      throw unsafe(`${dir} is not a directory (a link?): Paddock does not follow it; remove it`);
  }
  return dir;
}

export interface Upload {
  criterion: string;
  name: string;
  contentType: string;
  /** Declared length, if any: refused at once when over the limit. */
  length?: number | undefined;
  body: ReadableStream<Uint8Array> | null;
}

/**
 * Streams an upload to disk, hashing it, then records it (audited) — or leaves nothing behind.
 *
 * @example
 *   await storeDocument(db, home, ctx, { criterion: 'CC1.2', name: 'board-charter.pdf', contentType: 'application/pdf', body });
 */
export async function storeDocument(
  db: Kysely<Database>,
  home: string,
  ctx: OrgContext,
  upload: Upload,
  maxBytes = MAX_BYTES,
): Promise<DocumentInfo> {
  if (!criterion(upload.criterion))
    throw new NotFoundError('criterion_not_found', `No criterion "${upload.criterion}" in the catalog.`);
  const name = checkName(upload.name);
  if (upload.length !== undefined && upload.length > maxBytes) throw new PayloadTooLargeError(maxBytes);
  if (!upload.body) throw new BadRequestError('empty_document', 'Send the document as the request body.');
  const id = newId('doc');
  const path = join(orgFolder(home, ctx.scope.orgId), id);
  const fh = await open(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  const hash = createHash('sha256');
  let size = 0;
  let stored = false;
  try {
    for await (const chunk of upload.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > maxBytes) throw new PayloadTooLargeError(maxBytes);
      hash.update(chunk);
      await fh.write(chunk);
    }
    if (size === 0) throw new BadRequestError('empty_document', 'The document is empty.');
    await fh.sync();
    await fh.close();
    const row: ComplianceDocumentTable = {
      id,
      org_id: ctx.scope.orgId,
      criterion: upload.criterion,
      name,
      content_type: upload.contentType,
      size,
      sha256: hash.digest('hex'),
      uploaded_by: ctx.actor.id,
      uploaded_at: new Date().toISOString(),
    };
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('compliance_documents').values(row).execute();
      await recordChange(trx, ctx, {
        action: 'compliance.document.uploaded',
        target: { type: 'document', id },
        details: { criterion: row.criterion, name, size, sha256: row.sha256, contentType: row.content_type },
      });
    });
    stored = true;
    return toInfo(row);
  } finally {
    if (!stored) {
      await fh.close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
    }
  }
}

export async function listDocuments(db: Db, orgId: string, criterionId?: string): Promise<DocumentInfo[]> {
  let q = db.selectFrom('compliance_documents').selectAll().where('org_id', '=', orgId);
  if (criterionId) q = q.where('criterion', '=', criterionId);
  const rows = await q.orderBy('criterion').orderBy('uploaded_at').orderBy('id').execute();
  return rows.map(toInfo);
}

/** A document's record and a stream of its bytes (opened without following links). */
export async function openDocument(
  db: Db,
  home: string,
  orgId: string,
  id: string,
): Promise<{ info: DocumentInfo; stream: ReadableStream<Uint8Array> }> {
  const row = await db
    .selectFrom('compliance_documents')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new NotFoundError('document_not_found', 'No such document in this organization.');
  const path = join(home, 'documents', orgId.replace(/[^A-Za-z0-9_-]/g, '_'), row.id);
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch(
    (err: NodeJS.ErrnoException) => {
      throw new PaddockError(
        500,
        'document_missing',
        `The stored file of ${row.id} cannot be read (${err.code}).`,
      );
    },
  );
  return { info: toInfo(row), stream: Readable.toWeb(fh.createReadStream()) as ReadableStream<Uint8Array> };
}
