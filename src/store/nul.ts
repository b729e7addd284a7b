/**
 * NUL in text: PostgreSQL cannot store it (a write fails), SQLite would. What reaches the store
 * with one comes from outside (a tool's result, a model's answer, a Slack message; the API
 * refuses it at the door), so both engines store U+FFFD in its place, as a decoder does with
 * bytes that are no text: the write succeeds, and reads the same on either engine.
 */
const NUL = '\0';

/** A text as stored: each NUL replaced (hashed values stored in columns are made so before hashing). */
export function storableText(text: string): string {
  return text.includes(NUL) ? text.replaceAll(NUL, '\uFFFD') : text;
}

/** The parameters as stored: each string's NUL replaced; the same array when none holds one. */
export function storableParameters<T>(parameters: readonly T[]): readonly T[] {
  if (!parameters.some((p) => typeof p === 'string' && p.includes(NUL))) return parameters;
  return parameters.map((p) => (typeof p === 'string' ? (p.replaceAll(NUL, '\uFFFD') as T) : p));
}
