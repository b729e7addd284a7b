/** A run as stored, for tests that put one in place rather than run it. */
import type { RunTable } from '../store/schema.ts';

/** A run row: the fields a test names, the rest those of a one-step run (no capability, no state). */
export function runRow(
  fields: Pick<RunTable, 'id' | 'org_id' | 'agent_id' | 'conversation_id'> & Partial<RunTable>,
): RunTable {
  const at = fields.created_at ?? new Date().toISOString();
  return {
    person_id: null,
    via: 'api',
    status: 'completed',
    capability_hash: null,
    input: 'q',
    output: null,
    state: null,
    pending: null,
    steps: 1,
    input_tokens: 1,
    output_tokens: 1,
    error_code: null,
    error_message: null,
    created_at: at,
    updated_at: at,
    ended_at: null,
    ...fields,
  };
}
