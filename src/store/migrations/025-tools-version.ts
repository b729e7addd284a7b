/**
 * A per-org counter of what `tools/list` depends on: it moves on with every write to an org's
 * grants, connections and connection tools, by triggers in the database itself, so no writer
 * (now or later) can forget it and every replica sees it with the write's commit. The MCP
 * endpoint keeps each agent's listed tools in memory under it (src/gateway/listed-tools.ts).
 */
import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../types.ts';

const WATCHED = ['grants', 'connections', 'connection_tools'] as const;

export function toolsVersion(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // No reference to orgs: a trigger may bump it while an org's rows are being removed.
      await db.schema
        .createTable('tools_versions')
        .addColumn('org_id', 'text', (c) => c.primaryKey())
        .addColumn('version', 'bigint', (c) => c.notNull())
        .execute();
      if (dialect === 'sqlite') {
        for (const table of WATCHED)
          for (const [event, row] of [
            ['insert', 'new'],
            ['update', 'new'],
            ['delete', 'old'],
          ] as const)
            await sql
              .raw(
                `create trigger ${table}_${event}_tools_version after ${event} on ${table} begin
                   insert or ignore into tools_versions (org_id, version) values (${row}.org_id, 0);
                   update tools_versions set version = version + 1 where org_id = ${row}.org_id;
                 end`,
              )
              .execute(db);
        return;
      }
      // PostgreSQL: once per statement (a refresh writes a thousand tool rows), for each org touched.
      await sql`create function bump_tools_version() returns trigger language plpgsql as $$
        begin
          insert into tools_versions (org_id, version)
            select distinct org_id, 1 from changed
            on conflict (org_id) do update set version = tools_versions.version + 1;
          return null;
        end $$`.execute(db);
      for (const table of WATCHED)
        for (const [event, rows] of [
          ['insert', 'new'],
          ['update', 'new'],
          ['delete', 'old'],
        ] as const)
          await sql
            .raw(
              `create trigger ${table}_${event}_tools_version after ${event} on ${table}
                 referencing ${rows} table as changed
                 for each statement execute function bump_tools_version()`,
            )
            .execute(db);
    },
  };
}
