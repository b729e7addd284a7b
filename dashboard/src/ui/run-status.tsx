/** A run's status in words, and its badge. */
import type { RunStatus } from '../api/index.ts';

export const RUN_STATUS_LABEL: Record<RunStatus, string> = {
  running: 'Running',
  waiting_approval: 'Waiting for approval',
  completed: 'Completed',
  failed: 'Failed',
  stopped: 'Stopped',
};

export function RunStatusBadge({ status, testId }: { status: RunStatus; testId?: string }) {
  return (
    <span className={`status run-${status}`} data-testid={testId}>
      {RUN_STATUS_LABEL[status] ?? status}
    </span>
  );
}
