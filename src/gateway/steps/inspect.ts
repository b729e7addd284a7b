/**
 * Step 2, inspect: the agent's checks on its tool calls' arguments (data-loss prevention), before
 * the policy is asked and before anything runs. A call whose arguments match a check (a card
 * number, a key, an address the check forbids) is refused, and on record like any denial — with
 * which checks fired and the arguments with each match replaced, never what matched.
 */
import { applyToValue, type CheckSet } from '../../checks/index.ts';
import { ForbiddenError } from '../../errors/index.ts';
import { Refusal } from '../refusals.ts';
import type { GateRequest } from '../request.ts';

/** The refusal of a call whose arguments a check forbids, or null when none does. */
export function argsRefusal(checks: CheckSet | null, call: GateRequest): Refusal | null {
  const scanner = checks?.toolArgs(call.connectionId, call.tool);
  if (!scanner) return null;
  const { value, fired } = applyToValue(scanner, call.args);
  if (fired.length === 0) return null;
  const names = fired.map((f) => `"${f.check}"`).join(', ');
  return new Refusal(
    new ForbiddenError(
      'tool_args_blocked',
      `The call's arguments match the check ${names} (data-loss prevention): it did not run.`,
    ),
    {
      reason: `data-loss prevention: the arguments match the check ${names}`,
      grants: [],
      policyVersion: null,
      checks: fired.map((f) => f.check),
      args: value as Record<string, unknown>,
    },
  );
}
