/**
 * Keeps a connection's own credentials out of what its tools return: the literal value and the
 * encodings a server is likely to print it in (JSON- and URL-escaped, hex, base64 and base64url
 * at any byte alignment), so a tool that echoes its environment or request headers leaks none.
 */
import { REDACTED } from '../redact/index.ts';

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

/** A function that replaces every form of these secrets in a JSON-able value with `[REDACTED]`. */
export function scrubber(secrets: string[]): <T>(content: T) => T {
  const forms = secrets.flatMap(secretForms);
  if (forms.length === 0) return (content) => content;
  return <T>(content: T): T => {
    if (content === undefined) return content;
    let text = JSON.stringify(content);
    for (const f of forms) {
      // Forms are matched as they appear inside a JSON string.
      const inJson = JSON.stringify(f).slice(1, -1);
      if (text.includes(inJson)) text = text.replaceAll(inJson, REDACTED);
    }
    return JSON.parse(text) as T;
  };
}
