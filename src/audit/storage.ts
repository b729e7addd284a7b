/**
 * What the trail keeps in the database, read by key: a log's row and its stored tree nodes.
 * Every complete subtree's hash is stored once and never changes, so a proof, or a log's
 * frontier, is a handful of primary-key lookups made in one statement.
 */
import { sql } from 'kysely';
import { NotFoundError } from '../errors/index.ts';
import type { Db } from '../store/index.ts';
import { type Hash, lastLeaf, type NodeKey } from './merkle.ts';

export const b64 = (h: Hash): string => h.toString('base64');

export async function requireLog(db: Db, logId: string) {
  const row = await db.selectFrom('audit_logs').selectAll().where('id', '=', logId).executeTakeFirst();
  if (!row) throw new NotFoundError('log_not_found', 'This organization has no audit log entries yet.');
  return row;
}

/** Reads the stored nodes for `keys` in one statement: a union of primary-key lookups. */
export async function fetchNodes(db: Db, logId: string, keys: NodeKey[]): Promise<Map<string, Hash>> {
  const out = new Map<string, Hash>();
  if (keys.length === 0) return out;
  const lookups = keys.map(
    (k) =>
      sql`select level, idx, hash from audit_nodes where log_id = ${logId} and last_idx = ${lastLeaf(k)} and level = ${k.level}`,
  );
  const { rows } = await sql<{
    level: number;
    idx: number;
    hash: string;
  }>`${sql.join(lookups, sql` union all `)}`.execute(db);
  for (const r of rows) out.set(`${r.level}/${Number(r.idx)}`, Buffer.from(r.hash, 'base64'));
  return out;
}

export function nodeGetter(nodes: Map<string, Hash>) {
  return (k: NodeKey): Hash => {
    const h = nodes.get(`${k.level}/${k.index}`);
    if (!h) throw new Error(`audit node ${k.level}/${k.index} is missing`);
    return h;
  };
}
