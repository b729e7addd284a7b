/**
 * Processing integrity: an agent's output contract (a JSON schema its answers must match) and its
 * checks (block or redact what matches, in its answers and in its tool calls' arguments).
 */
export { judgeOutput, mismatch, outputValidator } from './output-schema.ts';
export {
  type AgentChecks,
  AgentChecksSchema,
  BUILTIN_MATCHES,
  type CheckRule,
  CheckRuleSchema,
  type Fired,
} from './rules.ts';
export { applyToValue, CheckSet, checkSetOf, type Scanner } from './scan.ts';
export { type Contract, type Outcome, settle } from './settle.ts';
export { StreamGuard } from './stream.ts';
export { assertChecks, assertOutputSchema } from './validate.ts';
