/**
 * A run's messages in the chat: the person's message, and the agent's answer carrying its run
 * (`data-run` parts, the run as it stands at its start and its end) and the calls it waits for
 * (`data-approval` parts). No runtime part of the AI SDK here: the pages that list runs load
 * without it.
 */
import type { UIMessage } from 'ai';
import type { Run, RunApproval, RunStatus } from './wire.ts';

/** One message of a chat with an agent: the person's, or the agent's answer with its run. */
export type RunMessage = UIMessage<unknown, { run: Run; approval: RunApproval }>;

/** A run that has ended: it changes no more. */
export function runEnded(status: RunStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'stopped';
}

/** The text of a message (its text parts, joined). */
export function messageText(message: RunMessage | undefined): string {
  return (message?.parts ?? []).flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('');
}

/** The run an answer belongs to, as last streamed (or read back); null before it starts. */
export function messageRun(message: RunMessage): Run | null {
  let run: Run | null = null;
  for (const p of message.parts) if (p.type === 'data-run') run = p.data;
  return run;
}

/**
 * The calls an answer waits for a person on: those the stream announced, and those its run still
 * lists (an answer read back from the run has no stream parts).
 */
export function messageApprovals(message: RunMessage): RunApproval[] {
  const found = new Map<string, RunApproval>();
  for (const p of message.parts) if (p.type === 'data-approval') found.set(p.data.approvalId, p.data);
  for (const w of messageRun(message)?.waitingFor ?? []) {
    if (!found.has(w.approvalId)) found.set(w.approvalId, { approvalId: w.approvalId, tool: w.tool });
  }
  return [...found.values()];
}
