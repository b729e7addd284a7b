/**
 * Proof Key for Code Exchange (RFC 7636), S256 only: the client proves at the token endpoint
 * that it is the one that started the authorization. `plain` is refused (OAuth 2.1 and the MCP
 * authorization spec require S256 where the client can compute it, and every MCP client can).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** RFC 7636 §4.1: 43–128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~". */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
/** BASE64URL(SHA256(verifier)): 32 bytes are 43 characters without padding (§4.2). */
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export function isS256Challenge(challenge: string): boolean {
  return CHALLENGE.test(challenge);
}

/** Whether `verifier` is the one `challenge` was made from (S256, compared in constant time). */
export function verifierMatches(verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier) || !CHALLENGE.test(challenge)) return false;
  const made = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
  const given = Buffer.from(challenge);
  return made.length === given.length && timingSafeEqual(made, given);
}
