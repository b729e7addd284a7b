/**
 * The host user an org's sandboxed code runs as. When Paddock runs as root, each org gets its own
 * unprivileged uid, and a gid of the same number, from a range Paddock owns: by default
 * 2,000,000,000 to 2,099,999,999 (`PADDOCK_CELL_UID_BASE`, `PADDOCK_CELL_UID_COUNT`), far above
 * any account or container range a distribution hands out. An org's id is allocated on first use,
 * stored (`cell_host_ids`), unique and never reused, so a sandbox escape lands neither as root,
 * nor as the owner of `$PADDOCK_HOME` (the database, the master key), nor as another org.
 *
 * @example
 *   const user = await orgHostUser(db, orgId); // { uid: 2000000003, gid: 2000000003 }
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Kysely } from 'kysely';
import { PaddockError } from '../errors/index.ts';
import type { Database } from '../store/index.ts';

export interface HostUser {
  uid: number;
  gid: number;
}

export interface UidRange {
  base: number;
  count: number;
}

/** Node's `spawn` takes 32-bit signed ids; (uid_t)-1 means "unchanged" to the kernel. */
const MAX_ID = 2 ** 31 - 2;

/** The range, from `PADDOCK_CELL_UID_BASE` and `PADDOCK_CELL_UID_COUNT`. */
export function uidRange(env: NodeJS.ProcessEnv = process.env): UidRange {
  const base = Number(env.PADDOCK_CELL_UID_BASE ?? 2_000_000_000);
  const count = Number(env.PADDOCK_CELL_UID_COUNT ?? 100_000_000);
  return { base, count };
}

/** Ids files on this host already give to someone (accounts, groups, subordinate ranges). */
function takenRanges(): Array<{ from: number; to: number; where: string }> {
  const out: Array<{ from: number; to: number; where: string }> = [];
  for (const [file, idAt] of [
    ['/etc/passwd', 2],
    ['/etc/group', 2],
  ] as const) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const id = Number(line.split(':')[idAt]);
      if (line && Number.isInteger(id))
        out.push({ from: id, to: id, where: `${file} (${line.split(':')[0]})` });
    }
  }
  for (const file of ['/etc/subuid', '/etc/subgid']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [, start, n] = line.split(':').map(Number);
      if (Number.isInteger(start) && Number.isInteger(n) && n! > 0)
        out.push({ from: start!, to: start! + n! - 1, where: `${file} (${line.split(':')[0]})` });
    }
  }
  return out;
}

/** Why the range cannot be used, or null: it must hold no id anyone on this host already has. */
export function uidRangeProblem(range: UidRange = uidRange()): string | null {
  const { base, count } = range;
  if (!Number.isInteger(base) || !Number.isInteger(count) || base < 1000 || count < 1)
    return `PADDOCK_CELL_UID_BASE must be an integer ≥ 1000 and PADDOCK_CELL_UID_COUNT ≥ 1 (got ${base}, ${count})`;
  if (base + count - 1 > MAX_ID) return `the uid range ends past ${MAX_ID} (${base} + ${count})`;
  const clash = takenRanges().find((t) => t.from <= base + count - 1 && t.to >= base);
  if (clash) return `the uid range ${base}–${base + count - 1} overlaps ids already in use: ${clash.where}`;
  return null;
}

const known = new WeakMap<object, Map<string, HostUser>>();

/** The org's host user: read, or allocated (the next free id of the range) on first use. */
export async function orgHostUser(
  db: Kysely<Database>,
  orgId: string,
  range: UidRange = uidRange(),
): Promise<HostUser> {
  const cache = known.get(db) ?? new Map<string, HostUser>();
  known.set(db, cache);
  const cached = cache.get(orgId);
  if (cached) return cached;
  // Two replicas may allocate at once: the unique id makes one of them try the next.
  for (let attempt = 0; attempt < 20; attempt++) {
    const row = await db
      .selectFrom('cell_host_ids')
      .select('uid')
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    if (row) {
      const user = { uid: Number(row.uid), gid: Number(row.uid) };
      cache.set(orgId, user);
      return user;
    }
    const top = await db
      .selectFrom('cell_host_ids')
      .select((eb) => eb.fn.max('uid').as('top'))
      .executeTakeFirst();
    const next = Math.max(range.base, top?.top == null ? range.base : Number(top.top) + 1);
    if (next > range.base + range.count - 1) {
      throw new PaddockError(
        503,
        'cell_ids_exhausted',
        `Every host uid of the cells' range (${range.base}, ${range.count} ids) is taken; raise PADDOCK_CELL_UID_COUNT.`,
      );
    }
    await db
      .insertInto('cell_host_ids')
      .values({ org_id: orgId, uid: next, created_at: new Date().toISOString() })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  throw new PaddockError(503, 'cell_ids_busy', 'No host uid could be allocated for this org; try again.', {
    retryable: true,
  });
}
