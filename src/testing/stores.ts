/**
 * Test stores on both engines. Every storage-touching test runs once on SQLite and once on
 * PostgreSQL (a fresh database per store, on the server named by PADDOCK_TEST_DATABASE_URL,
 * which `npm test` starts). Without it, the PostgreSQL variant fails and says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type Store } from '../store/index.ts';

export const STORE_KINDS = ['sqlite', 'postgres'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

const closers = new WeakMap<Store, Array<() => Promise<void>>>();

/** Runs `fn` when the test store is cleaned up, before the store closes (stop background work). */
export function onCleanup(store: Store, fn: () => Promise<void>): void {
  closers.set(store, [...(closers.get(store) ?? []), fn]);
}

async function runClosers(store: Store): Promise<void> {
  for (const fn of closers.get(store) ?? []) await fn().catch(() => undefined);
}

export interface TestStore {
  store: Store;
  home: string;
  databaseUrl: string | undefined;
  cleanup(): Promise<void>;
}

/** A fresh store of `kind`, migrated unless told not to (a migration's test applies them itself). */
export async function openTestStore(kind: StoreKind, opts: { migrate?: boolean } = {}): Promise<TestStore> {
  const home = mkdtempSync(join(tmpdir(), 'paddock-test-'));
  if (kind === 'sqlite') {
    const store = await openStore({ home, ...opts });
    return {
      store,
      home,
      databaseUrl: undefined,
      cleanup: async () => {
        await runClosers(store);
        await store.close();
        rmSync(home, { recursive: true, force: true });
      },
    };
  }
  const admin = process.env.PADDOCK_TEST_DATABASE_URL;
  if (!admin) {
    throw new Error(
      'PostgreSQL is missing: run the tests with `npm test` (it starts one) or set PADDOCK_TEST_DATABASE_URL.',
    );
  }
  const name = `paddock_t_${Math.random().toString(36).slice(2, 10)}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const store = await openStore({ home, databaseUrl: url.toString(), ...opts });
  return {
    store,
    home,
    databaseUrl: url.toString(),
    cleanup: async () => {
      await runClosers(store);
      await store.close().catch(() => undefined);
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
