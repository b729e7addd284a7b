/**
 * A run held to its agent's output contract and checks, on the control plane's side (a cell is
 * less trusted): its stream passes through the hold-back guard, and its end is settled (blocked,
 * redacted, judged against the schema) before anything of it is stored, audited or delivered.
 */
import type { UIMessageChunk } from 'ai';
import { type CheckSet, checkSetOf, type Fired, StreamGuard, settle } from '../checks/index.ts';
import type { AgentTable } from '../store/schema.ts';
import type { RunEnd } from './cell/loop.ts';

export class RunIntegrity {
  readonly schema: Record<string, unknown> | null;
  readonly #checks: CheckSet | null;
  readonly #guard: StreamGuard;

  constructor(agent: Pick<AgentTable, 'output_schema' | 'checks'>) {
    this.schema = agent.output_schema ? (JSON.parse(agent.output_schema) as Record<string, unknown>) : null;
    this.#checks = checkSetOf(agent.checks);
    this.#guard = new StreamGuard(this.#checks, this.schema !== null);
  }

  /** What to stream for one chunk the cell sent. */
  chunks(chunk: UIMessageChunk): UIMessageChunk[] {
    return this.#guard.push(chunk);
  }

  /** The run's end as it may be kept and delivered, and which checks fired on it. */
  settle(reported: RunEnd): { end: RunEnd; fired: Fired[] } {
    return settle(reported, { checks: this.#checks, schema: this.schema });
  }

  /** What closes the stream once the run ended: the checked answer when it was held whole. */
  close(answer: string | null): UIMessageChunk[] {
    return this.#guard.end(answer);
  }
}
