/**
 * What removing a person means for their private connections: none is left unowned. Each is
 * handed to an owner or admin, or deleted (its grants with it), as the remover chooses; its
 * servers are ended by the caller once the change commits.
 */
import { recordChange } from '../audit/index.ts';
import type { OrgContext } from '../identity/context.ts';
import type { OrgScope } from '../identity/scope.ts';
import type { Db } from '../store/index.ts';
import { deleteConnectionRow } from './connections.ts';

export interface PrivateConnection {
  id: string;
  name: string;
  transport: 'stdio' | 'http' | 'builtin';
}

function privateRows(db: Db, scope: OrgScope, userId: string) {
  return db
    .selectFrom('connections')
    .selectAll()
    .where('org_id', '=', scope.orgId)
    .where('owner_id', '=', userId)
    .orderBy('name');
}

export async function privateConnectionsOf(
  db: Db,
  scope: OrgScope,
  userId: string,
): Promise<PrivateConnection[]> {
  const rows = await privateRows(db, scope, userId).execute();
  return rows.map((r) => ({ id: r.id, name: r.name, transport: r.transport }));
}

/** Hands the person's private connections to `to`, or deletes them, in the caller's transaction; returns their ids. */
export async function settlePrivateConnections(
  trx: Db,
  ctx: OrgContext,
  userId: string,
  choice: { action: 'transfer'; to: string } | { action: 'delete' },
): Promise<string[]> {
  const rows = await privateRows(trx, ctx.scope, userId).execute();
  const why = `its owner ${userId} was removed from the organization`;
  for (const row of rows) {
    if (choice.action === 'delete') {
      await deleteConnectionRow(trx, ctx, row, why);
      continue;
    }
    await trx
      .updateTable('connections')
      .set({ owner_id: choice.to })
      .where('org_id', '=', ctx.scope.orgId)
      .where('id', '=', row.id)
      .execute();
    await recordChange(trx, ctx, {
      action: 'connection.owner.changed',
      target: { type: 'connection', id: row.id },
      details: { before: { ownerId: userId }, after: { ownerId: choice.to }, why },
    });
  }
  return rows.map((r) => r.id);
}
