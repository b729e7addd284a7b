/**
 * An agent's output contract: a JSON Schema its answers must match. Compiled once per schema with
 * Ajv (JSON Schema draft-07, and 2020-12 when the schema says `$schema` of 2020-12), both when the
 * agent is saved (a schema that does not compile is refused there) and wherever an answer is
 * judged: in the cell (the AI SDK's structured output validates with it) and in the control
 * plane, which judges what the cell reports before anything is stored or delivered.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';

const DRAFT_2020 = 'https://json-schema.org/draft/2020-12/schema';
// `strict: false`: a schema may carry keywords Ajv does not know (titles, examples, vendor ones).
const draft7 = new Ajv({ strict: false, allErrors: false });
const draft2020 = new Ajv2020({ strict: false, allErrors: false });
const compiled = new Map<string, ValidateFunction>();

/** The schema's validator; throws (with Ajv's message) when the schema is not a valid JSON Schema. */
export function outputValidator(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let v = compiled.get(key);
  if (!v) {
    const ajv = String(schema.$schema ?? '').startsWith(DRAFT_2020) ? draft2020 : draft7;
    v = ajv.compile(schema);
    // Compiled schemas stay in Ajv's own cache too: forget both past a bound.
    if (compiled.size >= 200) {
      compiled.clear();
      draft7.removeSchema();
      draft2020.removeSchema();
    }
    compiled.set(key, v);
  }
  return v;
}

/** Why a value does not match, in one line (the first error Ajv found), or null when it does. */
export function mismatch(schema: Record<string, unknown>, value: unknown): string | null {
  const v = outputValidator(schema);
  if (v(value)) return null;
  const e = v.errors?.[0];
  if (!e) return 'it does not match the schema';
  const where = e.instancePath ? `at ${e.instancePath}` : 'at the top level';
  const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params.additionalProperty)})` : '';
  return `${where}: ${e.message ?? e.keyword}${extra}`;
}

/** An answer judged against the schema: its value, or why it is not one. */
export function judgeOutput(
  schema: Record<string, unknown>,
  text: string,
): { ok: true; value: unknown } | { ok: false; why: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, why: 'it is not JSON' };
  }
  const why = mismatch(schema, value);
  return why === null ? { ok: true, value } : { ok: false, why };
}
