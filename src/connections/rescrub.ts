/**
 * Re-scrubbing tool definitions stored before definitions were scrubbed on arrival (digest
 * formula v1): a data migration run at start and by `paddock migrate`, once per stored tool.
 * What is stored of them is name, description and input schema, so they are digested under
 * formula v2, which covers exactly that; the next listing of their connection moves them to the
 * current formula (re-pinning grants again where the tool is unchanged).
 * Each connection's definitions are scrubbed with every secret it names, tools whose name holds
 * one are dropped (their grants suspend), and grants whose tool is otherwise unchanged are
 * re-pinned to the new digest — all on record.
 */
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/index.ts';
import { bumpGrantsVersion, reconcileGrants } from '../policy/grants-service.ts';
import type { Database } from '../store/index.ts';
import type { Vault } from '../vault/index.ts';
import { definitionOfRow, rowOfDefinition, vetDefinitions } from './definitions.ts';
import { connectionScrubber } from './open.ts';

/** Returns how many connections were re-scrubbed. */
export async function rescrubStoredTools(db: Kysely<Database>, vault: Vault): Promise<number> {
  // Formula v1 digests are bare hex; every later one is `v<n>:`-prefixed.
  const due = await db
    .selectFrom('connection_tools')
    .select('connection_id')
    .distinct()
    .where('digest', 'not like', 'v%')
    .execute();
  for (const { connection_id: id } of due) {
    const conn = await db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
    if (!conn) continue;
    const scrub = await connectionScrubber({ db, vault }, conn);
    await db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('connection_tools')
        .selectAll()
        .where('connection_id', '=', id)
        .execute();
      const { tools, refused } = vetDefinitions(rows.map(definitionOfRow), scrub, 2);
      await trx.deleteFrom('connection_tools').where('connection_id', '=', id).execute();
      for (const t of tools) {
        await trx
          .insertInto('connection_tools')
          .values({
            org_id: conn.org_id,
            connection_id: id,
            ...rowOfDefinition(t),
            digest: t.digest,
            seen_at: rows.find((r) => r.name === t.name)!.seen_at,
          })
          .execute();
      }
      // Grants of a tool whose name held a secret: revoked, and the name kept only scrubbed.
      const revoked: string[] = [];
      for (const { received, shownAs } of refused) {
        const rows = await trx
          .selectFrom('grants')
          .select(['id', 'agent_id'])
          .where('connection_id', '=', id)
          .where('tool', '=', received)
          .execute();
        for (const g of rows) {
          await trx
            .updateTable('grants')
            .set({
              tool: shownAs,
              status: 'revoked',
              revoked_by: 'connection-monitor',
              revoked_at: new Date().toISOString(),
            })
            .where('id', '=', g.id)
            .execute();
          await bumpGrantsVersion(trx, conn.org_id, g.agent_id);
          revoked.push(g.id);
        }
      }
      const { suspended, repinned } = await reconcileGrants(
        trx,
        conn.org_id,
        id,
        new Map(tools.map((t) => [t.name, t])),
        undefined,
      );
      const scrubbed = tools
        .filter((t) => {
          const was = rows.find((r) => r.name === t.name)!;
          return was.description !== t.description || was.input_schema !== JSON.stringify(t.inputSchema);
        })
        .map((t) => t.name);
      await recordAudit(trx, {
        orgId: conn.org_id,
        actor: { type: 'system', id: 'connection-monitor' },
        action: 'connection.tools.rescrubbed',
        target: { type: 'connection', id },
        details: {
          reason: 'tool definitions are now scrubbed on arrival (digest formula v2)',
          tools: tools.length,
          refused: refused.map((r) => r.shownAs),
          revoked,
          suspended,
          repinned,
          scrubbed,
        },
      });
    });
  }
  return due.length;
}
