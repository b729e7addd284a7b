/**
 * An agent's checks, as saved with it: rules that block or redact what matches them in its answers
 * (post-checks) and in the arguments of its tool calls (data-loss prevention, at the gate), and
 * how an agent with output checks streams. The shape is parsed strictly; what a shape cannot say
 * (a pattern that compiles, that cannot backtrack catastrophically) is checked in `validate.ts`.
 */
import { z } from 'zod';

/** Built-in detectors: credentials by shape, card numbers (Luhn-valid), email addresses. */
export const BUILTIN_MATCHES = ['secrets', 'card_numbers', 'emails'] as const;
export type BuiltinMatch = (typeof BUILTIN_MATCHES)[number];

/** Flags a custom pattern may carry (`g` and `y` are Paddock's to set; `d` and `v` add nothing here). */
const FLAGS = /^[imsu]{0,4}$/;

export const CheckRuleSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,59}$/)
      .describe('what the audit trail calls this check when it fires (lowercase, digits, _ and -)'),
    match: z
      .enum([...BUILTIN_MATCHES, 'pattern'])
      .describe('a built-in detector (secrets, card_numbers, emails) or your own pattern'),
    pattern: z
      .string()
      .min(1)
      .max(500)
      .optional()
      .describe(
        'with match "pattern": a JavaScript regular expression, checked for catastrophic backtracking',
      ),
    flags: z.string().regex(FLAGS).optional().describe('with match "pattern": any of i, m, s, u'),
    action: z
      .enum(['block', 'redact'])
      .describe('block: the answer is withheld and the run fails; redact: the match is replaced'),
    on: z
      .array(z.enum(['output', 'tool_args']))
      .min(1)
      .max(2)
      .default(['output'])
      .describe(
        'output: the agent’s answers; tool_args: the arguments of its tool calls (a match refuses the call)',
      ),
    tools: z
      .array(z.string().min(1).max(300))
      .max(100)
      .optional()
      .describe(
        'with tool_args: only calls of these tools (a tool name, or connectionId/tool); all when absent',
      ),
  })
  .meta({ id: 'CheckRule' });

export const AgentChecksSchema = z
  .strictObject({
    rules: z.array(CheckRuleSchema).max(50),
    streaming: z
      .enum(['hold_back', 'final'])
      .default('hold_back')
      .describe(
        'hold_back: text streams once the checks cleared it, holdBackChars behind the model; final: the answer is not streamed, only sent once checked',
      ),
    holdBackChars: z
      .number()
      .int()
      .min(32)
      .max(8192)
      .default(256)
      .describe(
        'how far the stream stays behind the model: a match at most this long is caught before any of it streams',
      ),
  })
  .meta({ id: 'AgentChecks' });

export type CheckRule = z.output<typeof CheckRuleSchema>;
export type AgentChecks = z.output<typeof AgentChecksSchema>;

/** Where a check fired, and what it did: what an audit entry says (never the text it matched). */
export interface Fired {
  check: string;
  action: 'block' | 'redact';
}
