/**
 * The packages an org was issued, remembered so the next one links to the last: each carries a
 * consistency proof from the newest earlier package's checkpoint to its own. "Earlier" is by tree
 * size, not by time issued, so a package built twice from the same data links to the same
 * predecessor and stays byte-identical.
 */

import { randomBytes } from 'node:crypto';
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

/**
 * Remembers an issued package. Not an audit entry: issuing a package reads the log and changes no
 * configuration (like an export), and the package itself names the checkpoint it was built at.
 */
export async function rememberPackage(
  db: Db,
  p: { orgId: string; period: Period; anchor: { size: number; note: string } | null; manifestSha256: string },
): Promise<string> {
  const id = `evp_${randomBytes(10).toString('hex')}`;
  await db
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
  return id;
}
