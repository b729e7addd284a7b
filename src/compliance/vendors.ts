/**
 * The vendor register, generated from what the org configures and uses — model providers from
 * its model keys and from the model calls actually made (each with its population per model),
 * MCP server packages and commands from its connections, remote hosts from its connections,
 * model key endpoints and egress allowlist — joined with the org's own assessment of each
 * (data handling, their SOC 2 report date, review dates). A vendor in use with no review shows
 * as `unreviewed`: the register cannot silently miss one, because it is derived, not typed in.
 */
import { basename } from 'node:path';
import type { Kysely } from 'kysely';
import { recordChange } from '../audit/index.ts';
import type { OrgContext } from '../identity/index.ts';
import { newId } from '../ids/index.ts';
import { redactString } from '../redact/index.ts';
import type { Database, Db } from '../store/index.ts';
import type { ComplianceVendorTable } from '../store/schema.ts';

export const VENDOR_KINDS = ['model_provider', 'mcp_package', 'mcp_command', 'remote_host', 'other'] as const;
export type VendorKind = (typeof VENDOR_KINDS)[number];

/** A review older than this is due again, unless its own next review date says otherwise. */
export const REVIEW_EVERY_DAYS = 365;

export type VendorStatus = 'reviewed' | 'review_due' | 'unreviewed' | 'not_in_use';

export interface Assessment {
  dataHandling: string;
  soc2ReportDate: string | null;
  reviewedAt: string | null;
  nextReviewAt: string | null;
  notes: string;
  updatedBy: string;
  updatedAt: string;
}

export interface Vendor {
  kind: VendorKind;
  name: string;
  /** Where it was found: `model key sec_…`, `model calls`, `connection con_…`, `egress allowlist`. */
  sources: string[];
  inUse: boolean;
  /** Model providers: the calls made, per model (all of the log). */
  calls: { total: number; byModel: Record<string, number> } | null;
  assessment: Assessment | null;
  status: VendorStatus;
}

const RUNNERS: Record<string, { registry: string; skip: string[] }> = {
  npx: { registry: 'npm', skip: [] },
  bunx: { registry: 'npm', skip: [] },
  pnpm: { registry: 'npm', skip: ['dlx', 'exec'] },
  yarn: { registry: 'npm', skip: ['dlx'] },
  uvx: { registry: 'pypi', skip: [] },
  pipx: { registry: 'pypi', skip: ['run'] },
  uv: { registry: 'pypi', skip: ['tool', 'run'] },
  docker: { registry: 'docker', skip: ['run'] },
};

/** A package name without its version: `@scope/pkg@1.2` → `@scope/pkg`, `pkg==1.0` → `pkg`. */
function unversioned(spec: string): string {
  const at = spec.lastIndexOf('@');
  const base = at > 0 ? spec.slice(0, at) : spec;
  return base.split(/==|>=|<=|~=/)[0]!;
}

/** What an stdio MCP server is, as a vendor: its package (npm, PyPI, image) or its command. */
export function stdioVendor(command: string, args: string[]): { kind: VendorKind; name: string } {
  const cmd = basename(command);
  const runner = RUNNERS[cmd];
  if (runner) {
    const rest = args.filter((a) => !a.startsWith('-') && !runner.skip.includes(a));
    if (rest[0]) return { kind: 'mcp_package', name: `${runner.registry}:${unversioned(rest[0])}` };
  }
  for (const a of [command, ...args]) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(a);
    if (m) return { kind: 'mcp_package', name: `npm:${m[1]}` };
  }
  const script = args.find((a) => !a.startsWith('-'));
  return { kind: 'mcp_command', name: redactString(script ? `${cmd} ${basename(script)}` : cmd) };
}

function hostOf(url: string | null): string | null {
  if (!url || !URL.canParse(url)) return null;
  return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

function toAssessment(r: ComplianceVendorTable): Assessment {
  return {
    dataHandling: r.data_handling,
    soc2ReportDate: r.soc2_report_date,
    reviewedAt: r.reviewed_at,
    nextReviewAt: r.next_review_at,
    notes: r.notes,
    updatedBy: r.updated_by,
    updatedAt: r.updated_at,
  };
}

function statusOf(inUse: boolean, a: Assessment | null, now: Date): VendorStatus {
  if (!inUse) return 'not_in_use';
  if (!a?.reviewedAt) return 'unreviewed';
  const due = a.nextReviewAt
    ? a.nextReviewAt <= now.toISOString()
    : now.getTime() - Date.parse(a.reviewedAt) > REVIEW_EVERY_DAYS * 86_400_000;
  return due ? 'review_due' : 'reviewed';
}

/** Model calls per target (`provider/model`). */
export type ModelCalls = Array<{ target: string | null; n: number }>;

/** The model calls among the log's first `treeSize` entries (all of them without it). */
async function modelCallsInLog(db: Db, orgId: string, treeSize?: number): Promise<ModelCalls> {
  let q = db
    .selectFrom('audit_entries')
    .select((eb) => ['target_id', eb.fn.countAll<number>().as('n')])
    .where('log_id', '=', orgId)
    .where('action', '=', 'model.called');
  if (treeSize !== undefined) q = q.where('idx', '<', treeSize);
  const rows = await q.groupBy('target_id').execute();
  return rows.map((r) => ({ target: r.target_id, n: Number(r.n) }));
}

/**
 * The register for the compliance page: the org's configuration and assessments as they stand,
 * with the model calls as the latest collection counted them (its stored `vendors.register`
 * evidence) instead of counting a log of millions again on every view. Before any collection,
 * no calls are known yet (`asOf` null).
 */
export async function currentVendorRegister(
  db: Db,
  orgId: string,
  now = new Date(),
): Promise<{ vendors: Vendor[]; asOf: { collectedAt: string; treeSize: number } | null }> {
  const row = await db
    .selectFrom('compliance_evidence')
    .select(['data', 'collected_at', 'tree_size'])
    .where('org_id', '=', orgId)
    .where('control_id', '=', 'PAD-VEND-01')
    .where('kind', '=', 'vendors.register')
    .orderBy('collected_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const calls: ModelCalls = [];
  if (row) {
    const stored = (JSON.parse(row.data) as { vendors?: Vendor[] }).vendors ?? [];
    for (const v of stored)
      if (v.kind === 'model_provider' && v.calls)
        for (const [model, n] of Object.entries(v.calls.byModel))
          calls.push({ target: model === '-' ? v.name : `${v.name}/${model}`, n });
  }
  return {
    vendors: await vendorRegister(db, orgId, now, undefined, calls),
    asOf: row ? { collectedAt: row.collected_at, treeSize: Number(row.tree_size ?? 0) } : null,
  };
}

/**
 * The org's register as it stands: every vendor in use or assessed, sorted by kind and name.
 *
 * @example
 *   const vendors = await vendorRegister(db, orgId); // [{ kind: 'model_provider', name: 'openai', status: 'unreviewed', … }]
 */
export async function vendorRegister(
  db: Db,
  orgId: string,
  now = new Date(),
  /** Count model calls among the log's first `treeSize` entries only (a collection's checkpoint). */
  treeSize?: number,
  /** The model calls per target, already counted (else counted in the log). */
  calls?: ModelCalls,
): Promise<Vendor[]> {
  const found = new Map<
    string,
    { kind: VendorKind; name: string; sources: Set<string>; calls: Vendor['calls'] }
  >();
  const add = (kind: VendorKind, name: string, source: string) => {
    const k = `${kind}\n${name}`;
    let v = found.get(k);
    if (!v) {
      v = { kind, name, sources: new Set(), calls: null };
      found.set(k, v);
    }
    v.sources.add(source);
    return v;
  };
  const keys = await db
    .selectFrom('secrets')
    .select(['id', 'provider', 'base_url'])
    .where('org_id', '=', orgId)
    .where('kind', '=', 'model_key')
    .execute();
  for (const k of keys) {
    if (k.provider && k.provider !== 'demo') add('model_provider', k.provider, `model key ${k.id}`);
    const host = hostOf(k.base_url);
    if (host) add('remote_host', host, `model key ${k.id} endpoint`);
  }
  for (const c of calls ?? (await modelCallsInLog(db, orgId, treeSize))) {
    const target = c.target ?? 'unknown/unknown';
    const slash = target.indexOf('/');
    const provider = slash > 0 ? target.slice(0, slash) : target;
    if (provider === 'demo') continue;
    const v = add('model_provider', provider, 'model calls');
    v.calls ??= { total: 0, byModel: {} };
    v.calls.total += c.n;
    v.calls.byModel[slash > 0 ? target.slice(slash + 1) : '-'] = c.n;
  }
  const connections = await db
    .selectFrom('connections')
    .select(['id', 'transport', 'command', 'args', 'url'])
    .where('org_id', '=', orgId)
    .execute();
  for (const c of connections) {
    if (c.transport === 'stdio' && c.command) {
      const v = stdioVendor(c.command, JSON.parse(c.args) as string[]);
      add(v.kind, v.name, `connection ${c.id}`);
    }
    const host = hostOf(c.url);
    if (host) add('remote_host', host, `connection ${c.id}`);
  }
  const org = await db.selectFrom('orgs').select('settings').where('id', '=', orgId).executeTakeFirst();
  const allow = ((org ? JSON.parse(org.settings) : {}) as { egressAllowlist?: Array<{ host: string }> })
    .egressAllowlist;
  for (const e of allow ?? []) add('remote_host', e.host, 'egress allowlist');

  const assessed = await db
    .selectFrom('compliance_vendors')
    .selectAll()
    .where('org_id', '=', orgId)
    .execute();
  const byKey = new Map(assessed.map((r) => [`${r.kind}\n${r.name}`, r]));
  const out: Vendor[] = [];
  for (const [k, v] of found) {
    const row = byKey.get(k);
    const assessment = row ? toAssessment(row) : null;
    out.push({
      kind: v.kind,
      name: v.name,
      sources: [...v.sources].sort(),
      inUse: true,
      calls: v.calls,
      assessment,
      status: statusOf(true, assessment, now),
    });
  }
  for (const r of assessed) {
    if (found.has(`${r.kind}\n${r.name}`)) continue;
    out.push({
      kind: r.kind as VendorKind,
      name: r.name,
      sources: [],
      inUse: false,
      calls: null,
      assessment: toAssessment(r),
      status: 'not_in_use',
    });
  }
  return out.sort((a, b) =>
    a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind.localeCompare(b.kind),
  );
}

export interface AssessmentInput {
  kind: VendorKind;
  name: string;
  dataHandling: string;
  soc2ReportDate: string | null;
  reviewedAt: string | null;
  nextReviewAt: string | null;
  notes: string;
}

/** Records (or replaces) the org's assessment of one vendor, audited with before and after. */
export async function assessVendor(
  db: Kysely<Database>,
  ctx: OrgContext,
  input: AssessmentInput,
): Promise<Assessment> {
  return db.transaction().execute(async (trx) => {
    const before = await trx
      .selectFrom('compliance_vendors')
      .selectAll()
      .where('org_id', '=', ctx.scope.orgId)
      .where('kind', '=', input.kind)
      .where('name', '=', input.name)
      .executeTakeFirst();
    const now = new Date().toISOString();
    const row: ComplianceVendorTable = {
      id: before?.id ?? newId('vnd'),
      org_id: ctx.scope.orgId,
      kind: input.kind,
      name: input.name,
      data_handling: input.dataHandling,
      soc2_report_date: input.soc2ReportDate,
      reviewed_at: input.reviewedAt,
      next_review_at: input.nextReviewAt,
      notes: input.notes,
      updated_by: ctx.actor.id,
      updated_at: now,
    };
    if (before) {
      const { id: _, org_id: __, ...set } = row;
      await trx.updateTable('compliance_vendors').set(set).where('id', '=', before.id).execute();
    } else await trx.insertInto('compliance_vendors').values(row).execute();
    await recordChange(trx, ctx, {
      action: 'compliance.vendor.assessed',
      target: { type: 'vendor', id: `${input.kind}:${input.name}` },
      details: { before: before ? toAssessment(before) : null, after: toAssessment(row) },
    });
    return toAssessment(row);
  });
}
