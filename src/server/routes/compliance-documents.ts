/**
 * The customer's own documents for a criterion (for those Paddock cannot cover: board
 * oversight, physical access, HR): upload (streamed, up to 50 MB, its own limit — the JSON API's
 * 64 KiB stays for everything else), list, download. Stored with their SHA-256.
 */
import { z } from 'zod';
import {
  contentTypeOf,
  listDocuments,
  MAX_BYTES,
  openDocument,
  storeDocument,
} from '../../compliance/index.ts';
import { defineRoute } from '../route.ts';
import { Id, Name, OrgParams, Timestamp } from '../schemas.ts';
import { CriterionIdSchema } from './compliance.ts';

export const DocumentSchema = z
  .object({
    id: Id,
    criterion: z.string(),
    name: z.string(),
    contentType: z.string(),
    size: z.number().int(),
    sha256: z.string().describe('SHA-256 (hex) of the file as uploaded'),
    uploadedBy: z.string(),
    uploadedAt: Timestamp,
  })
  .meta({ id: 'ComplianceDocument' });

export const complianceDocumentRoutes = [
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/compliance/criteria/{criterion}/documents',
    summary:
      'Attach a document of the customer’s own to a criterion: the file is the request body (up to 50 MB)',
    tag: 'compliance',
    access: { permission: 'compliance.manage' },
    params: OrgParams.extend({ criterion: CriterionIdSchema }),
    query: z.strictObject({
      name: Name(200).describe('the file name to show and download as'),
    }),
    rawBody: {
      maxBytes: MAX_BYTES,
      description: 'the document, any type (its Content-Type is kept), up to 50 MB',
    },
    response: DocumentSchema,
    status: 201,
    handler: async ({ ctx, deps, params, query, c }) => {
      const length = c.req.header('content-length');
      return storeDocument(deps.store.db, deps.config.home, ctx, {
        criterion: params.criterion,
        name: query.name,
        contentType: contentTypeOf(c.req.header('content-type')),
        length: length === undefined ? undefined : Number(length),
        body: c.req.raw.body,
      });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/compliance/documents',
    summary: 'The customer’s documents, by criterion',
    tag: 'compliance',
    access: { permission: 'compliance.read' },
    params: OrgParams,
    query: z.strictObject({ criterion: CriterionIdSchema.optional() }),
    response: z.object({ documents: z.array(DocumentSchema) }),
    handler: async ({ ctx, deps, query }) => ({
      documents: await listDocuments(deps.store.db, ctx.scope.orgId, query.criterion),
    }),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/compliance/documents/{document}',
    summary: 'Download a document (its SHA-256 in the Repr-Digest header)',
    tag: 'compliance',
    access: { permission: 'compliance.read' },
    params: OrgParams.extend({ document: Id }),
    raw: { status: 200, description: 'The document as uploaded (attachment)', contentTypes: ['*/*'] },
    handler: async ({ ctx, deps, params }) => {
      const { info, stream } = await openDocument(
        deps.store.db,
        deps.config.home,
        ctx.scope.orgId,
        params.document,
      );
      return new Response(stream, {
        headers: {
          'content-type': info.contentType,
          'content-length': String(info.size),
          // The plain name in ASCII (headers are bytes), the exact one in RFC 5987 form.
          'content-disposition': `attachment; filename="${info.name.replace(/[^\x20-\x7e]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(info.name)}`,
          'repr-digest': `sha-256=:${Buffer.from(info.sha256, 'hex').toString('base64')}:`,
        },
      });
    },
  }),
];
