/**
 * Step 2, decide: Cedar on the agent's active grants (default deny; an explicit deny beats any
 * allow), loaded into the engine again only when the agent's grants version moved. A call that
 * only an approval-requiring grant allows comes out as needing approval, with the decision it
 * gets once approved.
 */

import type { OrgScope } from '../../identity/index.ts';
import { type Decision, PolicyEngine } from '../../policy/engine.ts';
import { explainDenial } from '../../policy/explain.ts';
import type { Action, Grant } from '../../policy/grants.ts';
import { type Refusal, refuse, ToolDeniedError } from '../refusals.ts';

/** A call as the policy sees it. */
export interface Ask {
  agentId: string;
  connectionId: string;
  /** A tool call when absent; a resource read, a prompt get, a completion otherwise. */
  action?: Action | undefined;
  /** The tool, the prompt, the resource's URI (a completion: the prompt or the template). */
  tool: string;
  completing?: 'prompt' | 'resource' | undefined;
  args: Record<string, unknown>;
  /** Unix seconds (time windows). */
  now: number;
}

export type Verdict =
  | { kind: 'allowed'; decision: Decision }
  /** Allowed only with a person's approval: `decision` is the one made as approved. */
  | { kind: 'needs-approval'; decision: Decision }
  | { kind: 'denied'; decision: Decision };

export class Decider {
  readonly #engine = new PolicyEngine();
  /** The grants version each agent's grants were loaded at. */
  readonly #versions = new Map<string, number>();
  readonly #load: (scope: OrgScope, agentId: string) => Promise<Grant[]>;

  /** `load`: the agent's active grants, from the policy's data access. */
  constructor(load: (scope: OrgScope, agentId: string) => Promise<Grant[]>) {
    this.#load = load;
  }

  /** Loads the agent's grants into the engine, unless they are already there at this version. */
  async prepare(scope: OrgScope, agentId: string, grantsVersion: number): Promise<void> {
    if (this.#versions.get(agentId) === grantsVersion) return;
    this.#engine.setGrants(agentId, await this.#load(scope, agentId));
    this.#versions.set(agentId, grantsVersion);
  }

  /** The agent's loaded grants that bear on the asked tool (to explain a denial). */
  grantsFor(ask: Ask): Grant[] {
    return this.#engine.relevant(ask.agentId, ask);
  }

  decide(ask: Ask, approved: boolean): Decision {
    return this.#engine.decide({ ...ask, approved });
  }

  verdict(ask: Ask): Verdict {
    const plain = this.decide(ask, false);
    if (plain.allowed) return { kind: 'allowed', decision: plain };
    // Would a person's approval allow it? Then it needs one, bound to exactly this call.
    const approved = this.decide(ask, true);
    if (approved.allowed) return { kind: 'needs-approval', decision: approved };
    return { kind: 'denied', decision: plain };
  }
}

/**
 * The refusal of a call no grant allows (or one an explicit deny forbids), saying why: `grants`
 * are the agent's active grants on the tool, `suspended` whether one of it waits for re-approval.
 */
export function deniedRefusal(
  decision: Decision,
  call: { name: string; args: Record<string, unknown>; now: number } & Pick<Ask, 'action' | 'completing'>,
  grants: Grant[],
  suspended: boolean,
): Refusal {
  const why = explainDenial(decision, grants, call, suspended);
  return refuse(
    new ToolDeniedError(why, DENIED_CODE[call.action ?? 'call']),
    why.reason,
    decision.grants,
    decision.policyVersion,
  );
}

/** The code of a denial, by what was asked. */
export const DENIED_CODE: Record<Action, string> = {
  call: 'tool_denied',
  read: 'resource_denied',
  subscribe: 'subscription_denied',
  sample: 'sampling_denied',
  elicit: 'elicitation_denied',
  get: 'prompt_denied',
  complete: 'completion_denied',
};

export const unixNow = () => Math.floor(Date.now() / 1000);
