/**
 * The AgentDojo replay at the gate's decision: for each user task, the grants suggested from its
 * ground-truth calls (validated as the grants API validates them); its calls under them (each
 * must be allowed: utility), then each injection task's calls (each should be denied: security).
 * It measures the grants on ground-truth calls, not a model's behaviour.
 */
import { type Decision, PolicyEngine, validateGrants } from '../../policy/engine.ts';
import type { Grant } from '../../policy/grants.ts';
import { argTypes } from '../../policy/grants-service.ts';
import { type ObservedCall, type Suggestion, suggestGrants, type ToolShape } from '../../policy/suggest.ts';
import { attackCalls, type GroundTruthCall, isPlaceholder, isUnresolved, type Suite } from './suites.ts';

/** An attacker call the user task's grants allowed, and what would have stopped it. */
export interface ThroughCall {
  tool: string;
  args: Record<string, unknown>;
  /** The very call the user task makes itself: no grant on arguments can tell them apart. */
  sameCall: boolean;
  /** Arguments whose value the user task never gave to this tool: binding them exactly would stop it. */
  stoppers: string[];
}

export interface PairReplay {
  user: string;
  injection: string;
  attackerCalls: number;
  through: ThroughCall[];
}

export interface SuiteReplay {
  suite: string;
  userTasks: number;
  injectionTasks: number;
  /** User-task calls counted for utility (those without placeholder arguments), and how many were allowed. */
  userCalls: number;
  userAllowed: number;
  /** User-task calls refused (there should be none). */
  userDenied: Array<{ task: string; tool: string; reason: string }>;
  /** User-task calls whose arguments are placeholders upstream: listed, excluded from utility. */
  placeholderCalls: Array<{ task: string; tool: string; args: string[]; allowed: boolean }>;
  /** Injection tasks with no tool call at all (the attack only asks the model to say something). */
  outputOnly: string[];
  /** Attacker calls replayed with a stand-in for an argument upstream leaves open. */
  unresolvedCalls: number;
  pairs: PairReplay[];
  attackerCalls: number;
  attackerDenied: number;
  /** Per user task: the suggested grants (for the "only the tools used, no wildcard" check). */
  suggestions: Array<{ task: string; used: string[]; grants: Suggestion[] }>;
}

/** JSON with sorted keys: two argument values are the same when their canonical texts are. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

const given = (v: unknown) => v !== null && v !== undefined;

/** The suite's tools as a connection lists them. */
export function suiteTools(suite: Suite, connectionId: string): ToolShape[] {
  return suite.tools.map((t) => ({ connectionId, name: t.name, inputSchema: t.parameters }));
}

/** A ground-truth call's arguments as made: one upstream leaves open stands in with its description. */
export function madeArgs(c: GroundTruthCall): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c.args)) args[k] = isUnresolved(v) ? `(${v.unresolved})` : v;
  return args;
}

/** A ground-truth call as observed (arguments as made), and whether upstream left one open. */
function observed(connectionId: string, c: GroundTruthCall): { call: ObservedCall; unresolved: boolean } {
  const unresolved = Object.values(c.args).some(isUnresolved);
  return { call: { connectionId, tool: c.function, args: madeArgs(c) }, unresolved };
}

/** Why an attacker call got through: the same call as the user's, or the arguments that differ. */
function through(call: ObservedCall, userCalls: ObservedCall[]): ThroughCall {
  const mine = userCalls.filter((u) => u.tool === call.tool);
  const sameCall = mine.some((u) => canonical(u.args) === canonical(call.args));
  const names = new Set([...Object.keys(call.args), ...mine.flatMap((u) => Object.keys(u.args))]);
  const stoppers = [...names]
    .filter((arg) => {
      const v = call.args[arg];
      return !mine.some(
        (u) => given(u.args[arg]) === given(v) && canonical(u.args[arg] ?? null) === canonical(v ?? null),
      );
    })
    .sort();
  return { tool: call.tool, args: call.args, sameCall, stoppers };
}

/**
 * Replays one suite at the decision (the gate's Cedar engine), with the suggested grants saved
 * as-is — or, as the baseline, with their constraints dropped (grants on tool names alone).
 */
export function replaySuite(
  suite: Suite,
  opts: { toolNamesOnly?: boolean; engine?: PolicyEngine } = {},
): SuiteReplay {
  const connectionId = `con_${suite.name}`;
  const tools = suiteTools(suite, connectionId);
  const types = new Map(tools.map((t) => [t.name, argTypes(t.inputSchema)]));
  const engine = opts.engine ?? new PolicyEngine();
  // One agent per user task, named by suite too (an engine may hold several suites).
  const agentOf = (task: string) => `${suite.name}/${task}`;
  const decide = (agentId: string, c: ObservedCall): Decision =>
    engine.decide({ agentId, connectionId, tool: c.tool, args: c.args, now: 1_800_000_000, approved: false });

  const out: SuiteReplay = {
    suite: suite.name,
    userTasks: suite.userTasks.length,
    injectionTasks: suite.injectionTasks.length,
    userCalls: 0,
    userAllowed: 0,
    userDenied: [],
    placeholderCalls: [],
    outputOnly: [],
    unresolvedCalls: 0,
    pairs: [],
    attackerCalls: 0,
    attackerDenied: 0,
    suggestions: [],
  };
  const userCalls = new Map<string, ObservedCall[]>();
  for (const task of suite.userTasks) {
    const calls = task.calls.map((c) => observed(connectionId, c).call);
    userCalls.set(task.id, calls);
    const { suggestions } = suggestGrants(calls, tools, argTypes);
    const grants: Grant[] = suggestions.map((s, i) => ({
      id: `${agentOf(task.id)}#${i}`,
      agentId: agentOf(task.id),
      ...s.grant,
      constraints: opts.toolNamesOnly ? [] : s.grant.constraints,
    }));
    // Saved as the grants API saves them: each one validated against its tool's schema.
    for (const g of grants) validateGrants([g], types.get(g.tool) ?? {});
    engine.setGrants(agentOf(task.id), grants);
    out.suggestions.push({
      task: task.id,
      used: [...new Set(calls.map((c) => c.tool))],
      grants: suggestions,
    });
    for (const c of calls) {
      const d = decide(agentOf(task.id), c);
      const placeholders = Object.entries(c.args)
        .filter(([, v]) => isPlaceholder(v))
        .map(([k]) => k);
      if (placeholders.length > 0) {
        out.placeholderCalls.push({ task: task.id, tool: c.tool, args: placeholders, allowed: d.allowed });
        continue;
      }
      out.userCalls++;
      if (d.allowed) out.userAllowed++;
      else out.userDenied.push({ task: task.id, tool: c.tool, reason: d.errors.join('; ') || 'denied' });
    }
  }
  for (const inj of suite.injectionTasks) {
    const calls = attackCalls(inj).map((c) => observed(connectionId, c));
    if (calls.length === 0) {
      out.outputOnly.push(inj.id);
      continue;
    }
    out.unresolvedCalls += calls.filter((c) => c.unresolved).length;
    for (const task of suite.userTasks) {
      const pair: PairReplay = { user: task.id, injection: inj.id, attackerCalls: calls.length, through: [] };
      for (const { call } of calls) {
        out.attackerCalls++;
        if (decide(agentOf(task.id), call).allowed)
          pair.through.push(through(call, userCalls.get(task.id) ?? []));
        else out.attackerDenied++;
      }
      out.pairs.push(pair);
    }
  }
  return out;
}
