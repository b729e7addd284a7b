/**
 * The compliance center's evidence package for a period, streamed as a ZIP (its
 * size grows with the log; memory does not).
 */
import { Readable } from 'node:stream';
import { z } from 'zod';
import { evidencePackage, periodOf } from '../../compliance/package/index.ts';
import { defineRoute } from '../route.ts';
import { OrgParams } from '../schemas.ts';

const VERSION = '0.1.0';
const Day = z.string().max(40).describe('a date (2026-11-01, midnight UTC) or an ISO-8601 time');

export const EvidencePackageQuerySchema = z.strictObject({
  from: Day.optional().describe('start of the period, included (default: 90 days before `to`)'),
  to: Day.optional().describe('end of the period, excluded (default: the start of today, UTC)'),
});

export const evidencePackageRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/compliance/package',
    summary:
      "The evidence package for a period: a ZIP of the report, evidence, OCSF findings, OSCAL results and the audit entries behind each figure with their proofs, its manifest signed with the org's log key (check it with `paddock evidence verify`)",
    tag: 'compliance',
    access: { permission: 'compliance.read' },
    params: OrgParams,
    query: EvidencePackageQuerySchema,
    raw: { status: 200, description: 'The package (attachment)', contentTypes: ['application/zip'] },
    handler: async ({ ctx, deps, query }) => {
      const period = periodOf(query.from, query.to);
      const pkg = await evidencePackage(
        {
          db: deps.store.db,
          audit: deps.audit,
          evidence: deps.evidence,
          config: deps.config,
          productVersion: VERSION,
        },
        { id: ctx.org.id, slug: ctx.org.slug },
        period,
      );
      pkg.done.catch((err: unknown) =>
        deps.log.warn({ err, org: ctx.org.slug }, 'evidence package not completed'),
      );
      const name = `paddock-evidence-${ctx.org.slug}-${period.from.slice(0, 10)}-${period.to.slice(0, 10)}.zip`;
      return new Response(Readable.toWeb(pkg.stream) as ReadableStream<Uint8Array>, {
        headers: {
          'content-type': 'application/zip',
          'content-disposition': `attachment; filename="${name}"`,
        },
      });
    },
  }),
];
