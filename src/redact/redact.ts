/**
 * The one redaction layer. Logs, error responses and audit details all pass through `redact`
 * so that tokens, passwords and keys never leave the process in clear.
 *
 * @example
 *   redact({ password: 'hunter2', note: 'token pdk_abc...' })
 *   // → { password: '[REDACTED]', note: 'token [REDACTED]' }
 */

export const REDACTED = '[REDACTED]';

// A key names a secret when its last word does (`clientSecret`, `api_key`, `csrfToken`), so
// `tokenId` or `tokensRevoked` stay readable.
const SECRET_WORDS = new Set([
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'key',
  'authorization',
  'cookie',
  'credential',
  'credentials',
  'verifier',
  'dsn',
]);

// Values that look like credentials wherever they appear (our own token formats and common ones).
const SECRET_VALUE = [
  /\b(pdk|pds|pdl|pdi|pda|pdr|pdc)_[A-Za-z0-9_-]{16,}/g, // Paddock tokens, sessions, links, invitations, agent tokens, OAuth refresh tokens and codes
  /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\bsk-[A-Za-z0-9_-]{16,}/g, // OpenAI-style model keys
  /\bAKIA[0-9A-Z]{16}\b/g, // AWS access key ids
  /\bAIza[0-9A-Za-z_-]{35}/g, // Google API keys (Gemini model keys)
  /\bwhsec_[A-Za-z0-9+/=]{16,}/g, // Standard Webhooks signing secrets (webhook endpoints)
  // A private key block, through its end line when there is one (a cut-off block is still a key).
  // Greedy, with an optional end, so each block is scanned once: a lazy scan to a required end
  // line took quadratic time on a text of many begin lines and no end (hostile stderr).
  /-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[A-Za-z0-9+/=\s:,]|-(?!----END))*(?:-----END [A-Z ]*PRIVATE KEY-----)?/g,
];

/**
 * What every shape above contains (a superset, case aside): a string without any of these is not
 * scanned seven times over — most strings of a log line or an audit entry (`index.test.ts`
 * checks each shape is still found).
 */
const SECRET_HINT = /pd[a-z]_|bearer|sk-|akia|aiza|whsec_|-----begin/i;

/** The credential shapes above, for other checks to start from (global regexes: copy before use). */
export const SECRET_SHAPES: readonly RegExp[] = SECRET_VALUE;

/** Registered exact values (for example a secret loaded from config) that must never appear. */
const knownSecrets = new Set<string>();

/** Teach the redaction layer a secret value it cannot recognise by shape (min. 8 chars). */
export function registerSecret(value: string): void {
  if (value.length >= 8) knownSecrets.add(value);
}

export function redactString(value: string): string {
  let out = value;
  if (SECRET_HINT.test(value)) for (const re of SECRET_VALUE) out = out.replace(re, REDACTED);
  for (const s of knownSecrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/** Whether a property name denotes a secret (its value is replaced whole). */
const keyVerdicts = new Map<string, boolean>();

export function isSecretKey(key: string): boolean {
  const known = keyVerdicts.get(key);
  if (known !== undefined) return known;
  const verdict = secretByLastWord(key);
  if (keyVerdicts.size < 10_000) keyVerdicts.set(key, verdict);
  return verdict;
}

function secretByLastWord(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  const last = words.at(-1);
  return last !== undefined && SECRET_WORDS.has(last);
}

/** Deep copy of `value` with secret-named keys and secret-shaped strings replaced. */
export function redact<T>(value: T, depth = 0): T {
  if (depth > 12) return REDACTED as T;
  if (typeof value === 'string') return redactString(value) as T;
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return redactError(value) as T;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1)) as T;
  if (value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      isSecretKey(k) && v !== null && v !== undefined && typeof v !== 'boolean'
        ? REDACTED
        : redact(v, depth + 1);
  }
  return out as T;
}

function redactError(err: Error): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: err.name,
    message: redactString(err.message),
    stack: err.stack ? redactString(err.stack) : undefined,
  };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (err.cause !== undefined) out.cause = redact(err.cause, 1);
  return out;
}
