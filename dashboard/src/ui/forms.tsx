/** Forms: submitting without a page load, the inline row form, and a page's "Add a …" card. */
import type { FormEvent, ReactNode } from 'react';
import { Alert } from './alerts.tsx';
import { SubmitButton } from './buttons.tsx';
import { Section } from './sections.tsx';

export function onSubmit(fn: () => void): (e: FormEvent) => void {
  return (e: FormEvent) => {
    e.preventDefault();
    fn();
  };
}

/**
 * A form inside a FormRow (rotate a secret, decide an approval): its fields, submit and Cancel,
 * then the API's refusal under them. One frame so every inline row form reads and acts alike.
 */
export function RowForm({
  label,
  submit,
  busy,
  error,
  submitLabel,
  busyLabel,
  submitClassName = 'btn btn-primary btn-small',
  onCancel,
  autoComplete,
  children,
}: {
  /** Accessible name of the form. */
  label: string;
  submit: () => void;
  busy: boolean;
  error: string | null;
  submitLabel: string;
  busyLabel: string;
  submitClassName?: string;
  onCancel: () => void;
  autoComplete?: 'off';
  children: ReactNode;
}) {
  return (
    <form
      className="form-inline row-inline-form"
      aria-label={label}
      autoComplete={autoComplete}
      onSubmit={onSubmit(submit)}
    >
      {children}
      <div className="form-actions">
        <SubmitButton busy={busy} label={submitLabel} busyLabel={busyLabel} className={submitClassName} />
        <button type="button" className="btn btn-ghost btn-small" disabled={busy} onClick={onCancel}>
          Cancel
        </button>
      </div>
      {error ? (
        <div className="row-form-error">
          <Alert message={error} />
        </div>
      ) : null}
    </form>
  );
}

/**
 * A page's "Add a …" card (a secret, a connection): the alert, the fields in a grid, the submit
 * button; the same frame for each, named by its title.
 */
export function AddForm({
  title,
  submit,
  busy,
  error,
  submitLabel,
  busyLabel,
  children,
}: {
  title: string;
  submit: () => void;
  busy: boolean;
  error: string | null;
  submitLabel: string;
  busyLabel: string;
  children: ReactNode;
}) {
  return (
    <Section title={title}>
      <Alert message={error} />
      <form className="form-grid" aria-label={title} autoComplete="off" onSubmit={onSubmit(submit)}>
        {children}
        <div className="form-actions">
          <SubmitButton busy={busy} label={submitLabel} busyLabel={busyLabel} className="btn btn-primary" />
        </div>
      </form>
    </Section>
  );
}
