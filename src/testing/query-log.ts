/**
 * Counting the database reads a piece of work makes: a store whose queries are noted, per async
 * context, as `select:<tables>` (`select:agent_tokens+agents+orgs`), `insert:<table>`, and so on.
 * Work started inside `noting` is attributed to it, including what it schedules (timers), so a
 * test marks the moment it stops counting itself.
 *
 * @example
 *   const { store, noting } = notingStore(t.store);
 *   const log: string[] = [];
 *   await noting(log, () => work(store)); // log: ['select:agents+orgs', …]
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { KyselyPlugin, OperationNode, RootOperationNode } from 'kysely';
import type { Store } from '../store/index.ts';

type Named = { table?: { identifier?: { name?: string } }; node?: Named; kind?: string };

function tableOf(n: Named | undefined): string | undefined {
  if (!n) return undefined;
  return n.table?.identifier?.name ?? tableOf(n.node) ?? tableOf((n as { table?: Named }).table);
}

function describe(node: RootOperationNode): string {
  const n = node as OperationNode & {
    from?: { froms: Named[] };
    joins?: Array<{ table: Named }>;
    into?: Named;
    table?: Named;
  };
  const tables = [
    ...(n.from?.froms ?? []).map(tableOf),
    ...(n.joins ?? []).map((j) => tableOf(j.table)),
    tableOf(n.into),
    tableOf(n.table),
  ].filter((x): x is string => !!x);
  return `${n.kind.replace(/QueryNode$/, '').toLowerCase()}:${[...new Set(tables)].join('+')}`;
}

export function notingStore(inner: Store) {
  const context = new AsyncLocalStorage<string[]>();
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      context.getStore()?.push(describe(args.node));
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  const db = inner.db.withPlugin(plugin);
  // A precompiled query (`store/precompiled.ts`) arrives compiled, past the plugin: noted as it runs.
  const run = db.executeQuery.bind(db);
  db.executeQuery = ((query, queryId) => {
    if ('sql' in query && query.query.kind !== 'RawNode') context.getStore()?.push(describe(query.query));
    return run(query, queryId);
  }) as typeof db.executeQuery;
  const store: Store = { ...inner, db };
  return {
    store,
    /** Runs `fn`, noting its queries into `log` (the same array, for marks taken meanwhile). */
    noting: async <T>(log: string[], fn: () => Promise<T>): Promise<T> => context.run(log, fn),
  };
}
