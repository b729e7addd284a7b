/**
 * A client's answer for another replica that is too large for a NOTIFY (PostgreSQL's 8,000
 * bytes): held in `mcp_passed_answers` under a random reference the NOTIFY carries, sealed with
 * a key derived from the session's id (which only the client and the replicas serving the
 * session hold; the database has its digest), and deleted by the replica that takes it, or
 * after `KEEP_MS` by any replica's sweep. Scoped to the org and the session on both sides.
 *
 * @example
 *   const ref = await holdAnswer(db, live, message);          // the replica the answer reached
 *   const message = await takeAnswer(db, live, ref);          // the replica that asked
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Db } from '../../store/index.ts';
import { openSealed, seal } from '../../vault/index.ts';

/** How long an answer waits for its replica to take it. */
export const KEEP_MS = 60_000;

/** The session an answer belongs to, as a replica serving it knows it. */
export interface AnswerSession {
  orgId: string;
  /** The session's digest (its row's `id_hash`). */
  idHash: string;
  /** The key its id gives (`sessionKey`). */
  key: Buffer;
}

/** The key a session's id gives: known to whoever holds the id, never stored. */
export const sessionKey = (sessionId: string) =>
  Buffer.from(hkdfSync('sha256', sessionId, 'paddock', 'mcp session: answers between replicas', 32));

const aad = (s: AnswerSession, ref: string) => `mcp_passed_answers|${s.orgId}|${s.idHash}|${ref}`;

/** Answers a session may have held at once (a replica asks a few at a time): a client's flood of bogus ones stops there. */
export const MAX_HELD_PER_SESSION = 8;

/** Answers an org may have held at once, whatever its number of sessions (each is up to 4 MiB). */
export const MAX_HELD_PER_ORG = 64;

/** Holds `message` for the replica that asked; the reference to NOTIFY, or undefined if the session or org holds too many. */
export async function holdAnswer(
  db: Db,
  s: AnswerSession,
  message: JSONRPCMessage,
): Promise<string | undefined> {
  const held = await db
    .selectFrom('mcp_passed_answers')
    .select('session_hash')
    .where('org_id', '=', s.orgId)
    .limit(MAX_HELD_PER_ORG)
    .execute();
  if (held.length >= MAX_HELD_PER_ORG) return undefined;
  if (held.filter((h) => h.session_hash === s.idHash).length >= MAX_HELD_PER_SESSION) return undefined;
  const ref = randomBytes(18).toString('base64url');
  await db
    .insertInto('mcp_passed_answers')
    .values({
      ref,
      org_id: s.orgId,
      session_hash: s.idHash,
      sealed: seal(s.key, Buffer.from(JSON.stringify(message)), aad(s, ref)),
      created_at: new Date().toISOString(),
    })
    .execute();
  return ref;
}

/** Takes (and deletes) the answer `ref` names for this session; undefined if gone or not this session's. */
export async function takeHeldAnswer(
  db: Db,
  s: AnswerSession,
  ref: string,
): Promise<JSONRPCMessage | undefined> {
  if (typeof ref !== 'string' || ref.length > 64) return undefined;
  const row = await db
    .deleteFrom('mcp_passed_answers')
    .where('ref', '=', ref)
    .where('org_id', '=', s.orgId)
    .where('session_hash', '=', s.idHash)
    .returning('sealed')
    .executeTakeFirst();
  if (!row) return undefined;
  try {
    return JSON.parse(openSealed(s.key, row.sealed, aad(s, ref)).toString()) as JSONRPCMessage;
  } catch {
    return undefined;
  }
}

/** Forgets answers no replica took in time. */
export async function expireHeldAnswers(db: Db, now = Date.now()): Promise<number> {
  const r = await db
    .deleteFrom('mcp_passed_answers')
    .where('created_at', '<', new Date(now - KEEP_MS).toISOString())
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
