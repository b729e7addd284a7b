/** One tool call of an agent's answer: its name, arguments, and result or why it did not run. */
import { type ReactNode, useId } from 'react';
import type { ToolCallView } from '../api/index.ts';

/** How a call looks: its state, or `closed` for a wait that is over without a result shown. */
type Tone = ToolCallView['state'] | 'closed';

const STATE_LABEL: Record<ToolCallView['state'], string> = {
  calling: 'Calling…',
  done: 'Allowed',
  refused: 'Refused',
  failed: 'Failed',
  waiting: 'Waiting for approval',
};

/** A call a person decided on, once the run went on, is said as the decision — unless it then failed. */
function label(call: ToolCallView): string {
  if (call.notRun) return 'Not run';
  if (call.decided === 'approved' && call.state === 'done') return 'Approved';
  if (call.decided === 'denied' && call.state === 'refused') return 'Denied';
  if (call.decided === 'approved' && call.state === 'failed') return 'Approved, failed';
  return STATE_LABEL[call.state];
}

/**
 * `children`: what the call waits for (the approval card); `standing` says where that wait
 * stands now, when it has moved on since the call streamed.
 */
export function ToolCall({
  call,
  standing,
  children,
}: {
  call: ToolCallView;
  standing?: { label: string; tone: Tone } | undefined;
  children?: ReactNode;
}) {
  const tone = standing?.tone ?? (call.notRun ? 'closed' : call.state);
  const titleId = useId();
  const args = call.input === undefined ? '' : JSON.stringify(call.input, null, 2);
  return (
    <section className={`tool-call tool-call-${tone}`} aria-labelledby={titleId} data-testid="tool-call">
      <div className="tool-call-header">
        <h3 id={titleId} className="tool-call-title">
          <span className="sr-only">Tool call </span>
          <code>{call.name}</code>
        </h3>
        <span className={`status tool-state-${tone}`} data-testid="tool-call-state">
          {standing?.label ?? label(call)}
        </span>
      </div>
      {args && args !== '{}' ? (
        <div className="tool-call-part">
          <span className="tool-call-label">Arguments</span>
          <pre className="tool-call-text">{args}</pre>
        </div>
      ) : null}
      {call.text !== null ? (
        <div className="tool-call-part">
          <span className="tool-call-label">
            {call.state === 'done' ? 'Result' : call.state === 'refused' ? 'Reason' : 'Error'}
          </span>
          <pre className="tool-call-text" data-testid="tool-call-text">
            {call.text}
          </pre>
        </div>
      ) : null}
      {children}
    </section>
  );
}
