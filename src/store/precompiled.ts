/**
 * A query of the hot path (one run per request) built and compiled once per database handle,
 * then run with new values: the query builder's work — building the tree, compiling it to SQL —
 * is done once, not on every run. The builder is given stand-ins for the values; each is
 * replaced, in the compiled parameters, by the value given to the run. It is compiled without
 * the handle's plugins (none in production; tests note queries with one), and run through
 * `executeQuery` with its query tree, where an observer sees it (`testing/query-log.ts`) — except
 * a read on the embedded store's own handle while no transaction is open, which runs at once on
 * its connection (`readNow`).
 */
import type { Compilable, CompiledQuery } from 'kysely';
import { readNow } from './node-sqlite.ts';
import type { Db } from './types.ts';

const STAND_IN = '\u0000paddock-precompiled-value-';

interface Kept {
  query: CompiledQuery;
  /** For each compiled parameter, the index of the run's value it is, or -1 for a constant. */
  slots: number[];
  /** A SELECT: may run at once (`readNow`). */
  read: boolean;
}

/**
 * Returns a function running the query `build` makes, with `args` in place of its values. The
 * values must only be compared or stored (they are passed as parameters): the builder sees
 * text stand-ins while compiling.
 *
 * @example
 *   const byHash = precompiled((db, hash: string) => db.selectFrom('agent_tokens').selectAll().where('token_hash', '=', hash));
 *   const rows = await byHash(db, hashSecret(secret));
 */
export function precompiled<Args extends string[], Row>(
  build: (db: Db, ...args: Args) => Compilable<Row>,
): (db: Db, ...args: Args) => Promise<Row[]> {
  const kept = new WeakMap<Db, Kept>();
  const compile = (db: Db): Kept => {
    const standIns = Array.from({ length: build.length - 1 }, (_, i) => `${STAND_IN}${i}`) as Args;
    const query = build(db.withoutPlugins(), ...standIns).compile();
    const slots = query.parameters.map((p) =>
      typeof p === 'string' && p.startsWith(STAND_IN) ? Number(p.slice(STAND_IN.length)) : -1,
    );
    if (new Set(slots.filter((s) => s >= 0)).size !== standIns.length)
      throw new Error('a precompiled query must use each of its values as a parameter');
    return { query, slots, read: query.query.kind === 'SelectQueryNode' };
  };
  return async (db, ...args) => {
    let k = kept.get(db);
    if (!k) {
      k = compile(db);
      kept.set(db, k);
    }
    const { query, slots, read } = k;
    const parameters = slots.map((s, i) => (s >= 0 ? args[s] : query.parameters[i]));
    const now = read ? readNow(db, query.sql, parameters) : undefined;
    if (now) return now as Row[];
    return (await db.executeQuery<Row>({ ...query, parameters })).rows;
  };
}
