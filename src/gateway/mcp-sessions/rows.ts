/**
 * The stored side of MCP sessions: one row per open session, found by the digest of its id,
 * with what `initialize` negotiated. Every replica reads the same rows, so a session opened on
 * one carries on on another; tenant-scoped lookups compare the caller's org and agent.
 */
import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import type { Db } from '../../store/index.ts';

export interface SessionRow {
  idHash: string;
  orgId: string;
  agentId: string;
  tokenId: string;
  issuedBy: string;
  protocolVersion: string;
  clientCapabilities: Record<string, unknown>;
  clientInfo: { name: string; version: string } & Record<string, unknown>;
  /** When it was opened (ISO time), once stored. */
  createdAt?: string | undefined;
  /** The log level its client chose (none: what the server sends). */
  logLevel?: LoggingLevel | undefined;
}

export async function insertSession(db: Db, row: SessionRow, now: Date): Promise<void> {
  const at = now.toISOString();
  await db
    .insertInto('mcp_sessions')
    .values({
      id_hash: row.idHash,
      org_id: row.orgId,
      agent_id: row.agentId,
      token_id: row.tokenId,
      issued_by: row.issuedBy,
      protocol_version: row.protocolVersion,
      client_capabilities: JSON.stringify(row.clientCapabilities),
      client_info: JSON.stringify(row.clientInfo),
      created_at: at,
      last_seen_at: at,
    })
    .execute();
}

/** Keeps the `keep` most recently used sessions of an agent and person, forgets the rest: the digests forgotten. */
export async function trimSessions(
  db: Db,
  orgId: string,
  agentId: string,
  issuedBy: string,
  keep: number,
): Promise<string[]> {
  // Per person: one person's flood of initializes never pushes out another's sessions.
  const old = await db
    .selectFrom('mcp_sessions')
    .select('id_hash')
    .where('org_id', '=', orgId)
    .where('agent_id', '=', agentId)
    .where('issued_by', '=', issuedBy)
    .orderBy('last_seen_at', 'desc')
    .limit(1000)
    .offset(keep)
    .execute();
  const gone = old.map((r) => r.id_hash);
  if (gone.length > 0) await db.deleteFrom('mcp_sessions').where('id_hash', 'in', gone).execute();
  return gone;
}

/** The open session with this digest, unless it has been idle since `idleSince`. */
export async function findSession(db: Db, idHash: string, idleSince: Date): Promise<SessionRow | undefined> {
  const r = await db
    .selectFrom('mcp_sessions')
    .selectAll()
    .where('id_hash', '=', idHash)
    .where('last_seen_at', '>=', idleSince.toISOString())
    .executeTakeFirst();
  return (
    r && {
      idHash: r.id_hash,
      orgId: r.org_id,
      agentId: r.agent_id,
      tokenId: r.token_id,
      issuedBy: r.issued_by,
      protocolVersion: r.protocol_version,
      clientCapabilities: JSON.parse(r.client_capabilities) as SessionRow['clientCapabilities'],
      clientInfo: JSON.parse(r.client_info) as SessionRow['clientInfo'],
      createdAt: r.created_at,
      logLevel: (r.log_level ?? undefined) as LoggingLevel | undefined,
    }
  );
}

/** The session's client chose a log level (its org's and agent's session only). */
export async function setSessionLogLevel(
  db: Db,
  s: { idHash: string; orgId: string; agentId: string },
  level: LoggingLevel,
): Promise<void> {
  await db
    .updateTable('mcp_sessions')
    .set({ log_level: level })
    .where('id_hash', '=', s.idHash)
    .where('org_id', '=', s.orgId)
    .where('agent_id', '=', s.agentId)
    .execute();
}

/**
 * The log levels an agent's stored sessions chose, on every replica (the agent's servers are told
 * the most verbose). An idle session's row counts until it is swept: its level only makes them more verbose.
 */
export async function sessionLogLevels(db: Db, orgId: string, agentId: string): Promise<LoggingLevel[]> {
  const rows = await db
    .selectFrom('mcp_sessions')
    .select('log_level')
    .distinct()
    .where('org_id', '=', orgId)
    .where('agent_id', '=', agentId)
    .where('log_level', 'is not', null)
    .execute();
  return rows.map((r) => r.log_level as LoggingLevel);
}

/** The sessions were used now (or a stream of theirs is open). */
export async function touchSessions(db: Db, idHashes: string[], now: Date): Promise<void> {
  if (idHashes.length === 0) return;
  await db
    .updateTable('mcp_sessions')
    .set({ last_seen_at: now.toISOString() })
    .where('id_hash', 'in', idHashes)
    .execute();
}

/** Which of these sessions are still stored. */
export async function storedSessions(db: Db, idHashes: string[]): Promise<string[]> {
  const found: string[] = [];
  for (let i = 0; i < idHashes.length; i += 500) {
    const rows = await db
      .selectFrom('mcp_sessions')
      .select('id_hash')
      .where('id_hash', 'in', idHashes.slice(i, i + 500))
      .execute();
    for (const r of rows) found.push(r.id_hash);
  }
  return found;
}

export async function deleteSession(db: Db, idHash: string): Promise<boolean> {
  const r = await db.deleteFrom('mcp_sessions').where('id_hash', '=', idHash).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** What a stop ends: an agent's sessions, an org's, those opened with these tokens or by this person. */
export type SessionsOf =
  | { orgId: string; agentId: string }
  | { orgId: string }
  | { orgId: string; tokenIds: string[] }
  | { orgId: string; issuedBy: string };

/** Deletes the sessions `of` covers that were opened by `openedBy`. */
export async function deleteSessionsOf(db: Db, openedBy: Date, of: SessionsOf): Promise<number> {
  let q = db
    .deleteFrom('mcp_sessions')
    .where('org_id', '=', of.orgId)
    .where('created_at', '<=', openedBy.toISOString());
  if ('agentId' in of) q = q.where('agent_id', '=', of.agentId);
  if ('tokenIds' in of) {
    if (of.tokenIds.length === 0) return 0;
    q = q.where('token_id', 'in', of.tokenIds);
  }
  if ('issuedBy' in of) q = q.where('issued_by', '=', of.issuedBy);
  const r = await q.executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Forgets sessions idle since `idleSince` (any replica may). */
export async function deleteIdleSessions(db: Db, idleSince: Date): Promise<number> {
  const r = await db
    .deleteFrom('mcp_sessions')
    .where('last_seen_at', '<', idleSince.toISOString())
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
