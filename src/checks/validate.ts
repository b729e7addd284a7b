/**
 * What an agent's output contract and checks must be before they are saved, each refusal a clear
 * 400: a schema Ajv compiles; check names unique; a pattern where (and only where) one is asked
 * for, that compiles, matches something, never the empty text, and cannot backtrack
 * catastrophically — judged by recheck (automata theory, then fuzzing), which finds exponential
 * and polynomial ReDoS alike. A pattern recheck cannot judge in time is refused too.
 */
import { check } from 'recheck';
import { BadRequestError } from '../errors/index.ts';
import { outputValidator } from './output-schema.ts';
import type { AgentChecks } from './rules.ts';

/** Refuses an output schema that is not a JSON Schema Ajv can compile. */
export function assertOutputSchema(schema: Record<string, unknown> | null | undefined): void {
  if (!schema) return;
  try {
    outputValidator(schema);
  } catch (err) {
    throw new BadRequestError(
      'invalid_output_schema',
      `The output schema is not a valid JSON Schema: ${(err as Error).message.slice(0, 500)}`,
    );
  }
}

/**
 * How long recheck may take over one pattern when an agent is saved. Its fuzzing judges by steps
 * only (no per-attack time limits), so a verdict never depends on how busy the machine is.
 */
export const RECHECK = {
  timeout: 5_000,
  attackTimeout: null,
  incubationTimeout: null,
  seedingTimeout: null,
} as const;

/** Refuses checks that could not be applied safely; resolves when they can. */
export async function assertChecks(checks: AgentChecks | null | undefined): Promise<void> {
  if (!checks) return;
  const names = new Set<string>();
  for (const rule of checks.rules) {
    const bad = (code: string, message: string): never => {
      throw new BadRequestError(code, `Check "${rule.name}": ${message}`);
    };
    if (names.has(rule.name)) bad('duplicate_check', 'two checks have this name.');
    names.add(rule.name);
    if (rule.match !== 'pattern') {
      if (rule.pattern !== undefined || rule.flags !== undefined)
        bad('invalid_check', 'a pattern belongs only to a check whose match is "pattern".');
    } else {
      if (!rule.pattern) bad('invalid_check', 'a check whose match is "pattern" needs its pattern.');
      await assertPattern(rule.pattern ?? '', rule.flags ?? '', bad);
    }
    if (rule.tools && !rule.on.includes('tool_args'))
      bad('invalid_check', 'tools narrows a check on tool_args only.');
  }
}

async function assertPattern(
  pattern: string,
  flags: string,
  bad: (code: string, message: string) => never,
): Promise<void> {
  let re: RegExp;
  try {
    re = new RegExp(pattern, flags);
  } catch (err) {
    return bad('invalid_check_pattern', `the pattern does not compile: ${(err as Error).message}.`);
  }
  if (re.test(''))
    bad('invalid_check_pattern', 'the pattern matches the empty text, so it matches everywhere.');
  const verdict = await check(pattern, flags, RECHECK);
  if (verdict.status === 'safe') return;
  if (verdict.status === 'vulnerable') {
    const kind = verdict.complexity.type === 'exponential' ? 'exponential' : 'polynomial';
    bad(
      'unsafe_check_pattern',
      `the pattern can backtrack catastrophically (${kind} time on some texts${verdict.hotspot.length ? `, around "${pattern.slice(verdict.hotspot[0]!.start, verdict.hotspot[0]!.end)}"` : ''}): rewrite it without nested or overlapping repetition.`,
    );
  }
  bad(
    'unsafe_check_pattern',
    'the pattern could not be shown safe from catastrophic backtracking in time: simplify it.',
  );
}
