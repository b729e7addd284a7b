/**
 * The built-in detectors. Each is a global regular expression whose every match is bounded in
 * length or anchored on a literal prefix (so a scan stays linear in the text), plus, for card
 * numbers, the Luhn checksum (ISO/IEC 7812-1) that tells a card number from any run of digits.
 */
import { SECRET_SHAPES } from '../redact/index.ts';
import type { BuiltinMatch } from './rules.ts';

export interface Detector {
  re: RegExp;
  /** A match only counts when this holds of it. */
  accept?: (match: string) => boolean;
}

/** Luhn (mod 10): from the right, every second digit doubled (minus 9 above 9), the sum ends in 0. */
export function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const copy = (re: RegExp) => new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);

/** Credential shapes beyond the redaction layer's own (which the checks include too). */
const MORE_SECRETS = [
  /\bgh[pousr]_[A-Za-z0-9]{36,}/g, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{22,}/g, // GitHub fine-grained tokens
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g, // Slack tokens
  /\bAIza[0-9A-Za-z_-]{35}/g, // Google API keys
  /\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}/g, // Stripe keys
];

/**
 * 13 to 19 digits, single spaces or dashes between them allowed, not inside a longer number.
 * At most 37 characters: bounded, so a long run of digits costs a bounded amount per position.
 */
const CARD = /(?<![\d.])\d(?:[ -]?\d){12,18}(?![\d])/g;

/**
 * An address whose parts stay within RFC 5321's lengths (local part 64, labels 63), starting where
 * no address character comes before: each position is tried at a bounded cost.
 */
const EMAIL =
  /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])/g;

export function detectors(match: BuiltinMatch): Detector[] {
  switch (match) {
    case 'secrets':
      return [...SECRET_SHAPES, ...MORE_SECRETS].map((re) => ({ re: copy(re) }));
    case 'card_numbers':
      return [{ re: copy(CARD), accept: (m) => luhn(m.replace(/[ -]/g, '')) }];
    case 'emails':
      return [{ re: copy(EMAIL) }];
  }
}

/** A custom pattern, compiled global (throws a SyntaxError for one that does not compile). */
export function customDetector(pattern: string, flags = ''): Detector {
  return { re: new RegExp(pattern, `${flags.replace(/[gy]/g, '')}g`) };
}
