/** Buttons that do more than click: ask once more, copy, say they are busy. */
import { useEffect, useRef, useState } from 'react';

/** A destructive action that asks once more before it happens. */
export function ConfirmButton({
  label,
  confirmLabel,
  question,
  onConfirm,
  className = 'btn btn-danger-ghost btn-small',
  disabled = false,
}: {
  label: string;
  confirmLabel: string;
  question: string;
  onConfirm: () => Promise<void>;
  className?: string;
  disabled?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  if (!asking) {
    return (
      <button type="button" className={className} disabled={disabled} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span className="confirm">
      <span className="confirm-question">{question}</span>
      <button
        type="button"
        className="btn btn-danger btn-small"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await onConfirm();
          } finally {
            if (mounted.current) {
              setBusy(false);
              setAsking(false);
            }
          }
        }}
      >
        {confirmLabel}
      </button>
      <button
        type="button"
        className="btn btn-ghost btn-small"
        disabled={busy}
        onClick={() => setAsking(false)}
      >
        Cancel
      </button>
    </span>
  );
}

/** Copies `text`; `what` names it for screen readers when a page has several ("Copy tlog-proof"). */
export function CopyButton({ text, what }: { text: string; what?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="btn btn-secondary btn-small"
      onClick={() => {
        navigator.clipboard?.writeText(text).then(
          () => setCopied(true),
          () => setCopied(false),
        );
      }}
    >
      {copied ? 'Copied' : 'Copy'}
      {what ? <span className="sr-only"> {what}</span> : null}
    </button>
  );
}

/** A submit button that says what it is doing while `busy`. */
export function SubmitButton({
  busy,
  label,
  busyLabel,
  className,
}: {
  busy: boolean;
  label: string;
  busyLabel: string;
  className: string;
}) {
  return (
    <button type="submit" className={className} disabled={busy}>
      {busy ? busyLabel : label}
    </button>
  );
}
