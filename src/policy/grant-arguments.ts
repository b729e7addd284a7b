/**
 * A grant's constraints against its tool's arguments, in words a person can act on: a constraint
 * on an argument the tool lacks names the arguments it has, and one on an argument a grant cannot
 * compare (an object, a list of objects) says which it can. Cedar would only call the grant
 * "impossible". The names come from the tool's schema (a server writes them): quoted, and a long
 * list is cut.
 */
import { BadRequestError } from '../errors/index.ts';
import type { ArgType, Constraint } from './grants.ts';

/** More arguments than this are summarised ("and N more"). */
const LISTED = 12;

function quoted(names: readonly string[]): string {
  const shown = names.slice(0, LISTED).map((n) => JSON.stringify(n));
  return names.length > LISTED ? `${shown.join(', ')} and ${names.length - LISTED} more` : shown.join(', ');
}

/**
 * Throws `invalid_grant` when a constraint names an argument `tool` lacks, or compares one whose
 * type grants cannot read (`Other` in `types`; such an argument can only be required absent).
 */
export function checkConstraintArguments(
  tool: string,
  inputSchema: Record<string, unknown>,
  types: Record<string, ArgType>,
  constraints: readonly Constraint[],
): void {
  const props = inputSchema.properties;
  const names = props && typeof props === 'object' ? Object.keys(props) : [];
  const comparable = (n: string) => types[n] !== undefined && types[n] !== 'Other';
  for (const c of constraints) {
    const { arg } = c;
    if (!names.includes(arg)) {
      throw new BadRequestError(
        'invalid_grant',
        names.length === 0
          ? `${JSON.stringify(tool)} takes no arguments, so a grant of it cannot constrain ${JSON.stringify(arg)}.`
          : `${JSON.stringify(tool)} has no argument ${JSON.stringify(arg)}. Its arguments: ${quoted(names)}.`,
        { argument: arg, arguments: names },
      );
    }
    if (!comparable(arg) && !('absent' in c)) {
      const usable = names.filter(comparable);
      throw new BadRequestError(
        'invalid_grant',
        `A grant cannot constrain ${JSON.stringify(arg)} of ${JSON.stringify(tool)}: only text, number, true/false and list-of-text arguments can be compared${
          usable.length ? ` (here: ${quoted(usable)})` : ', and it has none'
        }.`,
        { argument: arg, arguments: usable },
      );
    }
  }
}
