/**
 * The Standard Webhooks scheme (https://www.standardwebhooks.com/, "Symmetric signatures"), as
 * the receiving side: the secret is `whsec_` + base64 of random bytes (the key is those bytes);
 * a delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`,
 * a space-separated list of `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>` (other
 * versions, such as `v1a` for asymmetric keys, are ignored here). A timestamp more than five
 * minutes from now, either way, is refused, so a captured delivery cannot be replayed later.
 *
 * Tested against the scheme's reference library (`standardwebhooks`), which signs in the tests.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
/** 32 random bytes: the scheme asks for 24 to 64; this is SHA-256's own block of security. */
const SECRET_BYTES = 32;
/** The scheme's recommended tolerance, in both directions (a sender's clock may run ahead). */
export const TOLERANCE_SECONDS = 5 * 60;
/** More signatures than this in one header is not a sender rotating keys; the rest are ignored. */
const MAX_SIGNATURES = 10;

/**
 * A delivery id: visible ASCII with no dot, at most 256 characters. The dot is refused because
 * the signed text joins id, timestamp and body with dots: an id holding one could make a
 * signature made for one (id, timestamp, body) valid for another with a different timestamp.
 */
const DELIVERY_ID = /^[\x21-\x2d\x2f-\x7e]{1,256}$/;
/** Unix seconds, written as the reference library writes them (no sign, no leading zero). */
const TIMESTAMP = /^(0|[1-9][0-9]{0,11})$/;

/** A new signing secret, shown once to whoever made the endpoint. */
export function newSigningSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/** The HMAC key a secret stands for: the bytes after `whsec_`. */
function keyOf(secret: string): Buffer {
  return Buffer.from(
    secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
    'base64',
  );
}

/**
 * The v1 signature of a delivery, as `v1,<base64>` (what a sender puts in `webhook-signature`).
 *
 * @example
 *   sign(secret, 'msg_1', 1700000000, Buffer.from('{"a":1}')) // 'v1,…'
 */
export function sign(secret: string, id: string, timestamp: number, body: Uint8Array): string {
  return `v1,${hmac(keyOf(secret), id, String(timestamp), body).toString('base64')}`;
}

function hmac(key: Buffer, id: string, timestamp: string, body: Uint8Array): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

export interface SignedHeaders {
  id: string;
  timestamp: number;
  /** The base64 parts of the `v1,` signatures. */
  signatures: string[];
}

/** The three headers, well formed, or null. */
export function readHeaders(header: (name: string) => string | undefined): SignedHeaders | null {
  const id = header('webhook-id')?.trim();
  const timestamp = header('webhook-timestamp')?.trim();
  const signature = header('webhook-signature')?.trim();
  if (!id || !timestamp || !signature || !DELIVERY_ID.test(id) || !TIMESTAMP.test(timestamp)) return null;
  const signatures = signature
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .slice(0, MAX_SIGNATURES)
    .map((s) => s.slice(3));
  return { id, timestamp: Number(timestamp), signatures };
}

/** Why a timestamp is out of the window, or null when it is within five minutes of now. */
export function timestampProblem(
  timestamp: number,
  nowSeconds: number,
): 'timestamp_too_old' | 'timestamp_too_new' | null {
  if (nowSeconds - timestamp > TOLERANCE_SECONDS) return 'timestamp_too_old';
  if (timestamp - nowSeconds > TOLERANCE_SECONDS) return 'timestamp_too_new';
  return null;
}

/** Whether one of the delivery's v1 signatures is the secret's, each compared in constant time. */
export function signatureMatches(secret: string, headers: SignedHeaders, body: Uint8Array): boolean {
  const expected = hmac(keyOf(secret), headers.id, String(headers.timestamp), body);
  let matched = false;
  for (const given of headers.signatures) {
    const bytes = Buffer.from(given, 'base64');
    // The length is public (always 32); only equal lengths reach the constant-time compare.
    if (bytes.length === expected.length && timingSafeEqual(bytes, expected)) matched = true;
  }
  return matched;
}

/** The last four characters of a secret, to tell which one a sender holds (as vault secrets do). */
export const hintOf = (secret: string) => `…${secret.slice(-4)}`;
