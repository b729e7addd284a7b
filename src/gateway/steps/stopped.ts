/**
 * Step 1, stopped: the kill switch is read on every call. A call of a stopped agent, or of any
 * agent of a stopped org, is refused, as is one whose signal has ended already (a brake, the
 * token it came in on revoked, its caller gone). Taken again after a pause for approval.
 */
import type { AgentStanding } from '../../agents/index.ts';
import { PaddockError } from '../../errors/index.ts';
import { endedCause, endedWhileWaiting, type Refusal, refuse, StoppedError } from '../refusals.ts';

/**
 * The refusal for a call on this standing, or null when it may go on. `afterWait`: the call was
 * paused for approval and its standing read afresh (no standing: the agent was deleted meanwhile).
 */
export function stoppedRefusal(
  standing: AgentStanding | undefined,
  signal: AbortSignal,
  afterWait = false,
): Refusal | null {
  const reason: unknown = signal.aborted ? signal.reason : undefined;
  // Ended by something other than the kill switch (its token, its caller): refused, saying why.
  if (PaddockError.isInstance(reason) && !(reason instanceof StoppedError))
    return refuse(reason, afterWait ? endedWhileWaiting(reason) : endedCause(reason));
  const org = standing?.orgStoppedAt != null || (reason instanceof StoppedError && reason.org);
  if (standing?.agentState === 'active' && !org && !signal.aborted) return null;
  const why = afterWait
    ? 'the agent was stopped while waiting for approval'
    : org
      ? "the organization's agents are stopped"
      : 'the agent is stopped';
  return refuse(new StoppedError(org), why);
}
