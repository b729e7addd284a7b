/**
 * The whole database as data, for "nothing changed" checks: every table the database itself
 * lists (so a new table is covered without anyone adding it here), every row, every column but
 * the few that legitimately move when something is only read.
 */
import { sql } from 'kysely';
import type { Store } from '../store/index.ts';

/** Columns a read may change, each with why. Nothing else may differ after refused requests. */
export const MOVES_ON_READ: Record<string, { column: string; why: string }[]> = {
  api_tokens: [
    {
      column: 'last_used_at',
      why: 'every authenticated request notes when its token was last used (at most once a minute)',
    },
  ],
};

async function tableNames(store: Store): Promise<string[]> {
  const q =
    store.dialect === 'sqlite'
      ? sql<{ name: string }>`select name from sqlite_master where type = 'table' order by name`
      : sql<{ name: string }>`select table_name as name from information_schema.tables
          where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`;
  return (await q.execute(store.db)).rows.map((r) => r.name);
}

/** Every table's rows (sorted, so row order does not matter), keyed by table name. */
export async function databaseSnapshot(store: Store): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of await tableNames(store)) {
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(store.db);
    const skip = (MOVES_ON_READ[table] ?? []).map((c) => c.column);
    out[table] = rows
      .map((row) => {
        for (const c of skip) delete row[c];
        return JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
      })
      .sort();
  }
  return out;
}

/** The tables whose content differs between two snapshots, each with an example of the change. */
export function snapshotDiff(before: Record<string, string[]>, after: Record<string, string[]>): string[] {
  const problems: string[] = [];
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[table] ?? [];
    const b = after[table] ?? [];
    if (a.length === b.length && a.every((row, i) => row === b[i])) continue;
    const was = new Set(a);
    const is = new Set(b);
    const example = b.find((r) => !was.has(r)) ?? a.find((r) => !is.has(r)) ?? '(duplicated rows)';
    problems.push(`${table}: ${a.length} → ${b.length} rows, e.g. ${example}`);
  }
  return problems;
}
