import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.ts';

export type Dialect = 'sqlite' | 'postgres';

/** A database handle or an open transaction: data-access functions accept either. */
export type Db = Kysely<Database> | Transaction<Database>;
