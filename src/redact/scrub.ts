/**
 * The one scrubber for everything an MCP server says — tool definitions, results, errors and
 * stderr: the secrets it was given, in their literal form and the encodings a server is likely
 * to print them in (JSON- and URL-escaped, hex, base64 and base64url at any byte alignment),
 * then the redaction layer's secret shapes (Paddock tokens, model keys, private keys…).
 *
 * A guard against accidents, not a boundary: a hostile server can always encode a secret another
 * way. The boundary is which secrets a server is given (docs/vault.md).
 */
import { REDACTED, redactString } from './redact.ts';

/** Shorter values are scrubbed in their literal form only: their encodings would match noise. */
const MIN_ENCODED = 8;

/** The part of `bytes`' base64 that does not depend on what comes before or after them. */
function base64Cores(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const text = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    // Character i holds bits [6i, 6i + 6): keep those that fall inside the value's bits.
    const core = text.slice(Math.ceil((8 * shift) / 6), Math.floor((8 * (shift + bytes.length)) / 6));
    out.push(core, core.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return out;
}

/** Every form of `secret` that is scrubbed. */
export function secretForms(secret: string): string[] {
  const forms = new Set([secret, JSON.stringify(secret).slice(1, -1)]);
  if (secret.length >= MIN_ENCODED) {
    const bytes = Buffer.from(secret);
    forms.add(encodeURIComponent(secret));
    forms.add(bytes.toString('hex'));
    forms.add(bytes.toString('hex').toUpperCase());
    for (const core of base64Cores(bytes)) forms.add(core);
  }
  // Longest first: a form inside another is not left half-replaced.
  return [...forms].filter((f) => f.length > 0).sort((a, b) => b.length - a.length);
}

/** Every string of a JSON-able value (keys too) through the redaction layer's shapes. */
function redactStrings(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 64) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactStrings(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[redactString(k)] = redactStrings(v, depth + 1);
  return out;
}

/** A JSON text with a field MCP carries bytes in (a resource's `blob`, an image's or audio's `data`). */
const BINARY_KEY = /"(blob|data)":"/;

/**
 * Base64 fields (a resource's `blob`, an image's or audio's `data`) holding a secret — in their
 * base64 or in their bytes — become the base64 of those bytes read as UTF-8 text with the secret's
 * forms replaced (or of `[REDACTED]` alone, if a form survives that): still valid base64, which a
 * client checks, and no longer the secret. Bytes that were not text are lost: the scrubber's price.
 */
function scrubBinaries(value: unknown, forms: string[], depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) return value.map((v) => scrubBinaries(v, forms, depth + 1));
  const holds = (s: string) => forms.some((f) => s.includes(f));
  const kind = String((value as { type?: unknown }).type);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const binary =
      typeof v === 'string' && (k === 'blob' || (k === 'data' && (kind === 'image' || kind === 'audio')));
    if (!binary) {
      out[k] = scrubBinaries(v, forms, depth + 1);
      continue;
    }
    const bytes = Buffer.from(v, 'base64');
    if (!holds(v) && !holds(bytes.toString('latin1')) && !holds(bytes.toString('utf8'))) {
      out[k] = v;
      continue;
    }
    let text = bytes.toString('utf8');
    for (const f of forms) text = text.replaceAll(f, REDACTED);
    const again = Buffer.from(text).toString('base64');
    out[k] = holds(again) || holds(text) ? Buffer.from(REDACTED).toString('base64') : again;
  }
  return out;
}

/**
 * A function that replaces every form of these secrets, and every secret-shaped string, in a
 * JSON-able value with `[REDACTED]`.
 *
 * @example
 *   const scrub = scrubber(['s3cr3t-value']);
 *   scrub({ text: 'env: czNjcjN0LXZhbHVl' }); // → { text: 'env: [REDACTED]' }
 */
export function scrubber(secrets: string[]): <T>(content: T) => T {
  const forms = secrets.flatMap(secretForms).map((f) => ({ f, inJson: JSON.stringify(f).slice(1, -1) }));
  const raw = forms.map(({ f }) => f);
  return <T>(content: T): T => {
    if (content === undefined) return content;
    let text = JSON.stringify(content);
    // Binary fields first, as bytes: replacing inside their base64 would leave invalid base64.
    if (raw.length && BINARY_KEY.test(text)) text = JSON.stringify(scrubBinaries(JSON.parse(text), raw));
    // Forms are matched as they appear inside a JSON string.
    for (const { inJson } of forms) if (text.includes(inJson)) text = text.replaceAll(inJson, REDACTED);
    return redactStrings(JSON.parse(text)) as T;
  };
}
