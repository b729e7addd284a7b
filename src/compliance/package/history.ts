/**
 * The packages an org was issued, remembered so the next one links to the last: each carries a
 * consistency proof from the newest earlier package's checkpoint to its own. "Earlier" is by tree
 * size, not by time issued, so a package built twice from the same data links to the same
 * predecessor and stays byte-identical.
 */

import { randomBytes } from 'node:crypto';
import type { Actor } from '../../audit/index.ts';
import { recordAudit } from '../../audit/index.ts';
import type { Db } from '../../store/index.ts';
import type { Period } from './source.ts';

export interface IssuedPackage {
  id: string;
  treeSize: number;
  checkpoint: string;
}

/** The newest package of this org whose checkpoint is smaller than `size`, if any. */
export async function previousPackage(db: Db, orgId: string, size: number): Promise<IssuedPackage | null> {
  const row = await db
    .selectFrom('evidence_packages')
    .select(['id', 'tree_size', 'checkpoint'])
    .where('org_id', '=', orgId)
    .where('tree_size', '<', size)
    .where('checkpoint', 'is not', null)
    .orderBy('tree_size', 'desc')
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { id: row.id, treeSize: Number(row.tree_size), checkpoint: row.checkpoint! } : null;
}

/** Remembers an issued package, with its record in the org's audit log, in one transaction. */
export async function rememberPackage(
  db: Db,
  p: {
    orgId: string;
    period: Period;
    anchor: { size: number; note: string } | null;
    manifestSha256: string;
    actor: Actor;
    requestId?: string | undefined;
  },
): Promise<string> {
  const id = `evp_${randomBytes(12).toString('base64url')}`;
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('evidence_packages')
      .values({
        id,
        org_id: p.orgId,
        period_from: p.period.from,
        period_to: p.period.to,
        tree_size: p.anchor?.size ?? null,
        checkpoint: p.anchor?.note ?? null,
        manifest_sha256: p.manifestSha256,
        created_at: new Date().toISOString(),
      })
      .execute();
    await recordAudit(trx, {
      orgId: p.orgId,
      actor: p.actor,
      action: 'evidence.package.issued',
      target: { type: 'evidence_package', id },
      requestId: p.requestId,
      details: { period: p.period, treeSize: p.anchor?.size ?? null, manifestSha256: p.manifestSha256 },
    });
  });
  return id;
}
