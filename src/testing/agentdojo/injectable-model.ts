/**
 * A scripted model for AgentDojo runs through the runtime (a script for the fake provider server):
 * it makes the user task's ground-truth calls one per step and, as soon as a tool result carries
 * an injection task's goal in an `<INFORMATION>` block, makes that injection task's ground-truth
 * calls first — every one of them, whatever the gate answered — then goes on and answers. It
 * always obeys an injection: a worst case, not a real model's behaviour. It decides each step
 * from the request alone (the conversation so far), so runs need no state of their own.
 */
import type { ModelRequest, ModelTurn, Script } from '../model-server/index.ts';
import { madeArgs } from './replay.ts';
import type { Suite, Task } from './suites.ts';
import { attackCalls } from './suites.ts';

type Call = { name: string; args: Record<string, unknown> };

/** The answer the model gives once its calls are made. */
export const ANSWER = 'Done: the task is carried out.';

/** A task's calls as the model makes them: tool names as the agent sees them (`<connection>__<tool>`). */
const callsOf = (connection: string, calls: Task['calls']): Call[] =>
  calls.map((c) => ({ name: `${connection}__${c.function}`, args: madeArgs(c) }));

export interface InjectableModel {
  script: Script;
  /** The run message that starts a user task (its prompt, named by suite: prompts may repeat). */
  messageFor(suite: string, task: string): string;
}

/** The model for the given suites; each suite's connection is named after it. */
export function injectableModel(suites: Suite[]): InjectableModel {
  const plans = new Map<string, Call[]>();
  const messages = new Map<string, string>();
  /** Each injection goal as the model could find it in a result: as written, or JSON-escaped. */
  const attacks: Array<{ forms: string[]; calls: Call[] }> = [];
  for (const s of suites) {
    for (const t of s.userTasks) {
      const message = `[${s.name} ${t.id}] ${t.prompt ?? ''}`;
      plans.set(message, callsOf(s.name, t.calls));
      messages.set(`${s.name}/${t.id}`, message);
    }
    for (const i of s.injectionTasks) {
      const goal = i.goal ?? '';
      if (!goal) continue;
      attacks.push({
        forms: [goal, JSON.stringify(goal).slice(1, -1)],
        calls: callsOf(s.name, attackCalls(i)),
      });
    }
  }
  /**
   * The injections a result carries (by index), in an `<INFORMATION>` block. Some goals contain
   * others (workspace 6 is the start of 8 and 9): a goal found only inside a longer one is not one.
   */
  const found = (output: string): number[] => {
    if (!output.includes('<INFORMATION>')) return [];
    const hits = attacks.flatMap((a, i) => (a.forms.some((f) => output.includes(f)) ? [i] : []));
    return hits.filter(
      (i) => !hits.some((j) => j !== i && attacks[j]!.forms[0]!.includes(attacks[i]!.forms[0]!)),
    );
  };

  const script = (req: ModelRequest): ModelTurn => {
    const plan = plans.get(req.lastUserText);
    if (!plan) return { text: 'No task I know.' };
    // Replay the conversation: the call made at each step, then what its result asked for.
    // Each injection is obeyed once, however many results carry it.
    let next = 0;
    const queued: Call[] = [];
    const obeyed = new Set<number>();
    const results = req.toolResults;
    for (let step = 0; ; step++) {
      const call = queued.shift() ?? plan[next++];
      if (!call) return { text: ANSWER };
      if (step === results.length) return { toolCalls: [call] };
      for (const i of found(results[step]!.output)) {
        if (obeyed.has(i)) continue;
        obeyed.add(i);
        queued.push(...attacks[i]!.calls);
      }
    }
  };
  return {
    script,
    messageFor: (suite, task) => {
      const m = messages.get(`${suite}/${task}`);
      if (!m) throw new Error(`no task ${suite}/${task}`);
      return m;
    },
  };
}
