/**
 * The values of server enums that pages offer as choices, in the order they show them. Each list
 * is checked against its wire type both ways: a value the server does not take, or one it takes
 * that is missing here, fails to compile.
 */
import type {
  AgentScope,
  ApprovalStatus,
  CellState,
  ModelProvider,
  Role,
  RunStatus,
  SecretKind,
} from './wire.ts';

/** `values` as given, when they are exactly the members of `T`: no more, no fewer. */
function everyOf<T extends string>() {
  return <const V extends readonly T[]>(
    values: V & ([T] extends [V[number]] ? unknown : 'lists every value'),
  ): V => values;
}

export const ROLES = everyOf<Role>()(['owner', 'admin', 'member', 'auditor']);
export const CELL_STATES = everyOf<CellState>()(['starting', 'ready', 'unhealthy', 'backoff', 'stopped']);
export const SECRET_KINDS = everyOf<SecretKind>()(['model_key', 'connector_credential', 'other']);
export const AGENT_SCOPES = everyOf<AgentScope>()(['private', 'team', 'organization']);
export const APPROVAL_STATUSES = everyOf<ApprovalStatus>()([
  'pending',
  'approved',
  'denied',
  'used',
  'expired',
]);
export const RUN_STATUSES = everyOf<RunStatus>()([
  'running',
  'waiting_approval',
  'completed',
  'failed',
  'stopped',
]);
/** The providers an agent may think with; `demo` is a replay that needs no model key. */
export const MODEL_PROVIDERS = everyOf<ModelProvider>()([
  'openai',
  'anthropic',
  'google',
  'openai-compatible',
  'demo',
]);
