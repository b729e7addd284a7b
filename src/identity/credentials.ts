/**
 * Secrets people hold: API tokens, session cookies, one-time links and passwords.
 * Tokens are 256-bit random values, stored only as SHA-256 digests (enough for values with
 * that much entropy); passwords are stored as scrypt hashes.
 */
import { hash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (
  pw: string,
  salt: Buffer,
  len: number,
  opts: object,
) => Promise<Buffer>;

export type SecretKind = 'pdk' | 'pds' | 'pdl' | 'pdi' | 'pda' | 'pdr' | 'pdc';

/**
 * `pdk_` API token, `pds_` session, `pdl_` sign-in link, `pdi_` invitation, `pda_` agent token,
 * `pdr_` an OAuth client's refresh token, `pdc_` an OAuth authorization code.
 */
export function newSecret(kind: SecretKind): string {
  return `${kind}_${randomBytes(32).toString('base64url')}`;
}

/** Whether a secret the caller sent is the one held, compared in constant time (no timing oracle). */
export function sameSecret(given: string, held: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(held);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

// scrypt cost: N=2^15, r=8, p=1 (OWASP's minimum is N=2^17 with p=1 for 64 MiB; we use 32 MiB
// so sign-in stays under ~100 ms on a 2-core host).
const N = 32768;
const R = 8;
const P = 1;
const KEYLEN = 32;
const MAXMEM = 64 * 1024 * 1024;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEYLEN, { N, r: R, p: P, maxmem: MAXMEM });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  if (!stored) {
    // Spend the same time whether or not the person has a password, so timing reveals nothing.
    await hashPassword(password);
    return false;
  }
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: MAXMEM,
  });
  return timingSafeEqual(actual, expected);
}
