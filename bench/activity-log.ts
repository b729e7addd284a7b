/**
 * Builds a large audit log for the benchmarks: `n` events appended through the trail as the gate
 * and the runtime write them (durable, group-committed), 2,000 in flight, in slices of 50,000.
 * Shared by the evidence-package and compliance-page benchmarks.
 */
import type { AuditInput, AuditTrail } from '../src/audit/index.ts';

/** Appends `n` events, the i-th made by `make(i)`; resolves once every one is durable. */
export async function appendActivity(
  trail: Pick<AuditTrail, 'append'>,
  n: number,
  make: (i: number) => AuditInput,
): Promise<void> {
  let next = 0;
  const worker = async (until: number) => {
    while (next < until) await trail.append(make(next++));
  };
  for (let done = 0; done < n; done += 50_000) {
    const until = Math.min(n, done + 50_000);
    await Promise.all(Array.from({ length: 2000 }, () => worker(until)));
  }
}

const TOOL_ACTIONS = [
  'tool.call.allowed',
  'tool.call.allowed',
  'tool.call.allowed',
  'tool.call.denied',
  'tool.call.completed',
];

/**
 * Tool calls of 7 agents on one tool, 60% allowed, 20% denied, 20% completed; with
 * `modelCallsEvery`, every such entry is a model call instead (`openai/gpt-5`).
 */
export function agentsAtWork(orgId: string, opts: { modelCallsEvery?: number } = {}) {
  return (i: number): AuditInput => {
    const actor = { type: 'agent' as const, id: `agt_${i % 7}` };
    if (opts.modelCallsEvery && i % opts.modelCallsEvery === 0)
      return { orgId, actor, action: 'model.called', target: { type: 'model', id: 'openai/gpt-5' } };
    const action = TOOL_ACTIONS[i % TOOL_ACTIONS.length]!;
    return {
      orgId,
      actor,
      action,
      outcome: action === 'tool.call.denied' ? 'denied' : 'success',
      target: { type: 'tool', id: 'github.create_issue' },
      details: { args: { repo: 'acme/api', title: 'Flaky test in CI' }, durationMs: 42 },
    };
  };
}
