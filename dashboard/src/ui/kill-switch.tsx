/** A kill switch panel: stop (asking once more), or while stopped, a banner with resume. */
import { type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { useAction } from '../data/index.ts';
import { Alert } from './alerts.tsx';

/** What a kill switch's buttons and confirm step say. */
export interface KillSwitchLabels {
  stop: string;
  question: string;
  confirm: string;
  stopping: string;
  resume: string;
  resuming: string;
}

/**
 * A kill switch: a stop button that asks once more, or, while stopped, a red banner with a
 * resume button. `write` false shows the banner alone (and nothing while running).
 */
export function KillSwitchPanel({
  stopped,
  title,
  children,
  write,
  labels,
  onAct,
  testId,
}: {
  stopped: boolean;
  title: string;
  children: ReactNode;
  write: boolean;
  labels: KillSwitchLabels;
  onAct: (action: 'stop' | 'resume') => Promise<void>;
  testId?: string;
}) {
  const [asking, setAsking] = useState(false);
  const { busy, error, run } = useAction();
  const titleId = useId();
  // The button pressed is replaced (stop → confirm → resume): focus moves to the one that takes its place.
  const panel = useRef<HTMLElement>(null);
  const pressed = useRef(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: asking and stopped change which button is there.
  useEffect(() => {
    if (!pressed.current || busy) return;
    const next = panel.current?.querySelector<HTMLButtonElement>('button:not(:disabled)');
    if (!next) return;
    pressed.current = false;
    next.focus();
  }, [asking, stopped, busy]);
  const press = (fn: () => void) => () => {
    pressed.current = true;
    fn();
  };
  const act = (action: 'stop' | 'resume') =>
    run(async () => {
      await onAct(action);
      setAsking(false);
    });
  // Resume and the confirmed stop are one button in two colours: it acts, then says it is busy.
  const actButton = (action: 'stop' | 'resume', className: string, label: string, busyLabel: string) => (
    <button type="button" className={className} disabled={busy} onClick={press(() => void act(action))}>
      {busy ? busyLabel : label}
    </button>
  );

  if (!stopped && !write) return null;
  const text = (
    <div className="killswitch-text">
      <h2 id={titleId}>{title}</h2>
      <p>{children}</p>
      <Alert message={error} />
    </div>
  );
  if (stopped) {
    return (
      <section
        ref={panel}
        className="killswitch killswitch-stopped"
        aria-labelledby={titleId}
        data-testid={testId}
      >
        {text}
        {write ? actButton('resume', 'btn btn-primary btn-large', labels.resume, labels.resuming) : null}
      </section>
    );
  }
  return (
    <section ref={panel} className="killswitch" aria-labelledby={titleId} data-testid={testId}>
      {text}
      {asking ? (
        <div className="killswitch-confirm">
          <p className="confirm-question">{labels.question}</p>
          <div className="killswitch-buttons">
            {actButton('stop', 'btn btn-danger btn-large', labels.confirm, labels.stopping)}
            <button
              type="button"
              className="btn btn-ghost"
              disabled={busy}
              onClick={press(() => setAsking(false))}
            >
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <button type="button" className="btn btn-danger btn-large" onClick={press(() => setAsking(true))}>
          {labels.stop}
        </button>
      )}
    </section>
  );
}
