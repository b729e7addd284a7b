/** Form fields: each a labelled control with an optional hint under it. */
import {
  type ChangeEvent,
  type InputHTMLAttributes,
  type ReactNode,
  type Ref,
  type TextareaHTMLAttributes,
  useEffect,
  useId,
  useRef,
} from 'react';

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
