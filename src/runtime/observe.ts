/** What the runtime tells an observer (metrics, traces) about runs; nothing waits on it. */
import type { StepReport } from './cell/loop.ts';
import type { Run } from './runs.ts';

/** The run an event is about, as the control plane knows it (never as a cell claims it). */
export interface RunRef {
  orgId: string;
  agentId: string;
  runId: string;
}

export interface RunObserver {
  /**
   * A run was recorded and is being handed to its cell. `message` is the person's text, and
   * `textRecording` how the org records such text (an observer passes it on only where `full`).
   */
  started(run: RunRef & { via: string; message: string; textRecording: string }): void;
  /** A run that waited for approvals goes on. */
  resumed(run: RunRef): void;
  /** A model step the cell reported (its latency, tokens and model). */
  step(run: RunRef, step: StepReport): void;
  /** A run ended, or paused to wait for a person (`status` says which), as put on record. */
  ended(run: RunRef, end: Run): void;
}
