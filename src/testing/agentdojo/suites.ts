/**
 * AgentDojo's four suites (workspace, travel, banking, slack) as data: tools with their argument
 * schemas, user tasks and injection tasks with their ground-truth calls. Read at test and bench
 * time from `../shared/reference/agentdojo/` beside the repository (never copied into it).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const AGENTDOJO_FILE = fileURLToPath(
  new URL('../../../../shared/reference/agentdojo/agentdojo-tasks.json', import.meta.url),
);

export interface SuiteTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface GroundTruthCall {
  function: string;
  args: Record<string, unknown>;
}

export interface Task {
  id: string;
  prompt?: string;
  goal?: string;
  calls: GroundTruthCall[];
  /** Upstream's ground truth is empty; calls reconstructed from the task's goal and checks. */
  inferred_calls?: GroundTruthCall[];
  calls_note?: string;
}

export interface Suite {
  name: string;
  tools: SuiteTool[];
  userTasks: Task[];
  injectionTasks: Task[];
}

interface File {
  source: { repo: string; commit: string; version: string };
  suites: Record<string, { tools: SuiteTool[]; user_tasks: Task[]; injection_tasks: Task[] }>;
}

/** The suites in the data's order, and where they come from (upstream repository and commit). */
export function loadSuites(path = AGENTDOJO_FILE): { source: File['source']; suites: Suite[] } {
  const file = JSON.parse(readFileSync(path, 'utf8')) as File;
  return {
    source: file.source,
    suites: Object.entries(file.suites).map(([name, s]) => ({
      name,
      tools: s.tools,
      userTasks: s.user_tasks,
      injectionTasks: s.injection_tasks,
    })),
  };
}

/** An argument upstream writes as a placeholder for the model's own text (`<summary>`, `...`). */
export function isPlaceholder(v: unknown): boolean {
  return typeof v === 'string' && (/^<[a-z -]+>$/i.test(v) || v === '...');
}

/** An argument of a reconstructed call that upstream leaves open (`{"unresolved": "free text"}`). */
export function isUnresolved(v: unknown): v is { unresolved: string } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'unresolved' in v;
}

/** The calls an injection task makes: upstream's, or those reconstructed when upstream has none. */
export function attackCalls(t: Task): GroundTruthCall[] {
  return t.calls.length > 0 ? t.calls : (t.inferred_calls ?? []);
}
