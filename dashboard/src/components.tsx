/** Small building blocks shared by the pages: fields with labels, alerts, confirm steps. */
import {
  type ChangeEvent,
  type FormEvent,
  type InputHTMLAttributes,
  type ReactNode,
  type Ref,
  type TextareaHTMLAttributes,
  useCallback,
  useEffect,
  useId,
  useRef,
  useState,
} from 'react';
import { api, errorMessage, isSessionEnded, type Role } from './api/index.ts';
import { navigate } from './router.tsx';

export function Alert({ message }: { message: string | null | undefined }) {
  if (!message) return null;
  return (
    <div className="alert alert-error" role="alert">
      {message}
    </div>
  );
}

export function Notice({ message }: { message: string | null | undefined }) {
  if (!message) return null;
  return (
    <output className="alert alert-success" aria-live="polite">
      {message}
    </output>
  );
}

type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'onChange' | 'value' | 'id'>;

/** A labelled control with an optional hint under it: the frame every field shares. */
function Field({
  id,
  label,
  hint,
  className = 'field',
  children,
}: {
  id: string;
  label: string;
  hint?: ReactNode;
  className?: string;
  children: ReactNode;
}) {
  return (
    <div className={className}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}

export function TextField({
  label,
  value,
  onChange,
  hint,
  narrow,
  ...rest
}: InputProps & {
  label: string;
  value: string;
  onChange: (value: string) => void;
  hint?: ReactNode;
  /** A short input (numbers) that does not take a full column. */
  narrow?: boolean;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  // React mirrors a controlled input's value into its `value` attribute, i.e. into the page's
  // HTML; a password must never be there, so password inputs are left uncontrolled.
  const secret = rest.type === 'password';
  const ref = useRef<HTMLInputElement>(null);
  // Only the first value goes in as the default: a changing defaultValue is the attribute again.
  const initial = useRef(value).current;
  useEffect(() => {
    if (secret && ref.current && ref.current.value !== value) ref.current.value = value;
  }, [secret, value]);
  return (
    <Field id={id} label={label} hint={hint} className={narrow ? 'field field-narrow' : 'field'}>
      <input
        id={id}
        ref={ref}
        {...(secret ? { defaultValue: initial } : { value })}
        onChange={(e: ChangeEvent<HTMLInputElement>) => onChange(e.target.value)}
        aria-describedby={hint ? hintId : undefined}
        {...rest}
      />
    </Field>
  );
}

/**
 * The name of a new agent, connection, secret, token or org: the server takes every name as 1 to
 * 100 characters, so that rule stands here once.
 */
export function NameField(props: Omit<Parameters<typeof TextField>[0], 'label' | 'required' | 'maxLength'>) {
  return <TextField label="Name" required maxLength={100} {...props} />;
}

/** Multi-line text (instructions, a JSON document); `code` sets it in the monospace font. */
export function TextAreaField({
  label,
  value,
  onChange,
  hint,
  code,
  invalid,
  ...rest
}: Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'onChange' | 'value' | 'id'> & {
  label: string;
  value: string;
  onChange: (value: string) => void;
  hint?: ReactNode;
  code?: boolean;
  /** Marks the field invalid (`aria-invalid`) and shows this message under it. */
  invalid?: string | null;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const described = [hint ? hintId : null, invalid ? errorId : null].filter(Boolean).join(' ');
  return (
    <Field id={id} label={label} hint={hint} className="field field-wide">
      <textarea
        id={id}
        value={value}
        className={code ? 'textarea-code' : undefined}
        onChange={(e: ChangeEvent<HTMLTextAreaElement>) => onChange(e.target.value)}
        aria-describedby={described || undefined}
        aria-invalid={invalid ? true : undefined}
        {...rest}
      />
      {invalid ? (
        <p className="field-error" id={errorId} role="alert">
          {invalid}
        </p>
      ) : null}
    </Field>
  );
}

/**
 * A write-only value (an API key, a credential). Uncontrolled on purpose: React mirrors a
 * controlled input's value into its `value` attribute, which would put the secret in the DOM.
 * Read it through `inputRef` and clear it there.
 */
export function SecretValueField({
  label,
  inputRef,
  hint,
  ...rest
}: Omit<InputProps, 'type' | 'defaultValue'> & {
  label: string;
  inputRef: Ref<HTMLInputElement>;
  hint?: ReactNode;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  return (
    <Field id={id} label={label} hint={hint}>
      <input
        id={id}
        ref={inputRef}
        type="password"
        autoComplete="new-password"
        spellCheck={false}
        aria-describedby={hint ? hintId : undefined}
        {...rest}
      />
    </Field>
  );
}

export function SelectField<T extends string>({
  label,
  value,
  onChange,
  options,
  hint,
  disabled,
}: {
  label: string;
  value: T;
  onChange: (value: T) => void;
  options: readonly { value: T; label: string }[];
  hint?: ReactNode;
  disabled?: boolean;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  return (
    <Field id={id} label={label} hint={hint}>
      <select
        id={id}
        value={value}
        disabled={disabled}
        onChange={(e: ChangeEvent<HTMLSelectElement>) => onChange(e.target.value as T)}
        aria-describedby={hint ? hintId : undefined}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </Field>
  );
}

export function CheckboxField({
  label,
  checked,
  onChange,
  hint,
}: {
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  hint?: ReactNode;
}) {
  const id = useId();
  return (
    <div className="field field-check">
      <input id={id} type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <label htmlFor={id}>{label}</label>
      {hint ? <p className="hint">{hint}</p> : null}
    </div>
  );
}

export const ROLE_LABELS: Record<Role, string> = {
  owner: 'Owner',
  admin: 'Admin',
  member: 'Member',
  auditor: 'Auditor',
};

export function roleOptions(roles: readonly Role[]): { value: Role; label: string }[] {
  return roles.map((r) => ({ value: r, label: ROLE_LABELS[r] }));
}

export function RoleBadge({ role }: { role: Role }) {
  return <span className={`badge badge-${role}`}>{ROLE_LABELS[role]}</span>;
}

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
  const act = (action: 'stop' | 'resume') =>
    run(async () => {
      await onAct(action);
      setAsking(false);
    });
  // Resume and the confirmed stop are one button in two colours: it acts, then says it is busy.
  const actButton = (action: 'stop' | 'resume', className: string, label: string, busyLabel: string) => (
    <button type="button" className={className} disabled={busy} onClick={() => void act(action)}>
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
      <section className="killswitch killswitch-stopped" aria-labelledby={titleId} data-testid={testId}>
        {text}
        {write ? actButton('resume', 'btn btn-primary btn-large', labels.resume, labels.resuming) : null}
      </section>
    );
  }
  return (
    <section className="killswitch" aria-labelledby={titleId} data-testid={testId}>
      {text}
      {asking ? (
        <div className="killswitch-confirm">
          <p className="confirm-question">{labels.question}</p>
          <div className="killswitch-buttons">
            {actButton('stop', 'btn btn-danger btn-large', labels.confirm, labels.stopping)}
            <button type="button" className="btn btn-ghost" disabled={busy} onClick={() => setAsking(false)}>
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <button type="button" className="btn btn-danger btn-large" onClick={() => setAsking(true)}>
          {labels.stop}
        </button>
      )}
    </section>
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

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      {children ? <p className="page-lead">{children}</p> : null}
    </header>
  );
}

export function Section({
  title,
  children,
  actions,
}: {
  title: string;
  children: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <section className="card">
      <div className="card-header">
        <h2>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" aria-busy="true">
      Loading {what}…
    </p>
  );
}

const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

export function formatTime(iso: string | null | undefined, empty = '—'): string {
  if (!iso) return empty;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : TIME.format(d);
}

export function formatDate(iso: string | null | undefined, empty = '—'): string {
  if (!iso) return empty;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : DATE.format(d);
}

/** A hex digest cut to its first 12 characters (the whole one in a tooltip). */
export function Digest({ value }: { value: string | null | undefined }) {
  if (!value) return <span className="muted">—</span>;
  return (
    <code className="digest" title={value}>
      {value.length > 12 ? `${value.slice(0, 12)}…` : value}
    </code>
  );
}

/** Unix seconds as a local time ("—" when unset). */
export function formatUnix(seconds: number | null | undefined, empty = '—'): string {
  return seconds === null || seconds === undefined
    ? empty
    : formatTime(new Date(seconds * 1000).toISOString());
}

/** The org's people, for names instead of ids: "You" for `meId`, the id itself when unknown. */
export function usePeopleNames(
  slug: string,
  meId?: string,
): { name: (id: string | null | undefined) => string; error: string | null } {
  const people = useLoad(() => api.people(slug), slug);
  const byId = new Map((people.data ?? []).map((p) => [p.id, p]));
  return {
    name: (id) => {
      if (!id) return '—';
      if (id === meId) return 'You';
      const p = byId.get(id);
      return p ? p.name || p.email : id;
    },
    error: people.error,
  };
}

/**
 * Runs an API action for a form or button: tracks busy state and turns failures into the
 * message shown in the page's alert. A session that ended sends the browser to sign-in.
 */
export function useAction(): {
  busy: boolean;
  error: string | null;
  setError: (e: string | null) => void;
  run: (fn: () => Promise<void>) => Promise<boolean>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      return true;
    } catch (err) {
      if (isSessionEnded(err) && location.pathname.startsWith('/orgs/')) {
        navigate('/signin', { replace: true });
        return false;
      }
      setError(errorMessage(err));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}

/**
 * A list page's row actions (delete, revoke) and what they report, the same steps on every such
 * page: `act` clears the last notice, makes the call, shows the message it returns, then reloads.
 * A failed call shows in `error`; `setNotice` reports changes made elsewhere (an added row).
 */
export function useListAction(): {
  notice: string | null;
  setNotice: (message: string | null) => void;
  error: string | null;
  act: (call: () => Promise<string>, reload: () => Promise<unknown>) => Promise<void>;
} {
  const { error, run } = useAction();
  const [notice, setNotice] = useState<string | null>(null);
  const act = useCallback(
    async (call: () => Promise<string>, reload: () => Promise<unknown>) => {
      setNotice(null);
      await run(async () => {
        setNotice(await call());
        await reload();
      });
    },
    [run],
  );
  return { notice, setNotice, error, act };
}

/** Loads data for a page; `reload` fetches it again after a change; a new `key` loads afresh. */
export function useLoad<T>(
  load: () => Promise<T>,
  key: string,
): { data: T | undefined; error: string | null; reload: () => Promise<void> } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  const generation = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const value = await loadRef.current();
      if (mine !== generation.current) return;
      setData(value);
      setError(null);
    } catch (err) {
      if (mine !== generation.current) return;
      if (isSessionEnded(err)) navigate('/signin', { replace: true });
      else setError(errorMessage(err));
    }
  }, []);
  // `key` names what the load depends on (the org slug): a new key loads afresh.
  // biome-ignore lint/correctness/useExhaustiveDependencies: key is the trigger, not a value read here.
  useEffect(() => {
    setData(undefined);
    void reload();
  }, [key, reload]);
  return { data, error, reload };
}

export function onSubmit(fn: () => void): (e: FormEvent) => void {
  return (e: FormEvent) => {
    e.preventDefault();
    fn();
  };
}

/** A table with plain column headers and, when `actions` is set, an unlabelled actions column. */
export function DataTable({
  headers,
  actions,
  className,
  label,
  children,
}: {
  headers: string[];
  actions?: boolean;
  className?: string;
  /** Accessible name of the table. */
  label?: string;
  children: ReactNode;
}) {
  return (
    <div className="table-wrap">
      <table className={className} aria-label={label}>
        <thead>
          <tr>
            {headers.map((h) => (
              <th scope="col" key={h}>
                {h}
              </th>
            ))}
            {actions ? (
              <th scope="col" className="col-actions">
                <span className="sr-only">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** The full-width row under a table row that holds the row's open form or panel. */
export function FormRow({ colSpan, children }: { colSpan: number; children: ReactNode }) {
  return (
    <tr className="row-form">
      <td colSpan={colSpan}>{children}</td>
    </tr>
  );
}

/** A submit button that says what it is doing while `busy`. */
function SubmitButton({
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

type TokenState = 'active' | 'revoked' | 'expired';
const TOKEN_STATE_LABEL: Record<TokenState, string> = {
  active: 'Active',
  revoked: 'Revoked',
  expired: 'Expired',
};

/** A token's state now (person and agent tokens alike). */
export function tokenState(
  t: { revokedAt: string | null; expiresAt: string | null },
  now: number,
): TokenState {
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt && Date.parse(t.expiresAt) <= now) return 'expired';
  return 'active';
}

/** The state badge of a token row, with the revocation date (one look for every token table). */
export function TokenStateBadge({
  token,
  now,
}: {
  token: { revokedAt: string | null; expiresAt: string | null };
  now: number;
}) {
  const s = tokenState(token, now);
  return (
    <span className={`status status-${s}`}>
      {TOKEN_STATE_LABEL[s]}
      {s === 'revoked' ? ` ${formatDate(token.revokedAt)}` : ''}
    </span>
  );
}
