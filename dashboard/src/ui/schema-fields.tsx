/**
 * A tool's arguments as a form, from its input schema (JSON Schema): text, numbers, yes/no and
 * choices as their own fields, anything else (objects, arrays) as JSON. `argsFrom` turns what
 * was typed into the arguments, or says in words what is wrong.
 */
import { CheckboxField, SelectField, TextAreaField, TextField } from './fields.tsx';

interface Property {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  default?: unknown;
  title?: string;
}

type Kind = 'string' | 'number' | 'integer' | 'boolean' | 'choice' | 'json';

interface Arg {
  name: string;
  kind: Kind;
  required: boolean;
  prop: Property;
}

function kindOf(p: Property): Kind {
  if (Array.isArray(p.enum) && p.enum.length > 0 && p.enum.every((v) => typeof v === 'string'))
    return 'choice';
  const t = Array.isArray(p.type) ? p.type.find((x) => x !== 'null') : p.type;
  if (t === 'string' || t === 'number' || t === 'integer' || t === 'boolean') return t;
  return 'json';
}

/** The arguments a schema names, required ones first. */
export function schemaArgs(schema: Record<string, unknown>): Arg[] {
  const props = (schema.properties ?? {}) as Record<string, Property>;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(props)
    .map(([name, prop]) => ({ name, prop, kind: kindOf(prop), required: required.has(name) }))
    .sort((a, b) => Number(b.required) - Number(a.required));
}

/** The form's first values: each argument's default, if it has one. */
export function initialValues(schema: Record<string, unknown>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const a of schemaArgs(schema)) {
    const d = a.prop.default;
    if (d === undefined) continue;
    values[a.name] = a.kind === 'json' ? JSON.stringify(d, null, 2) : String(d);
  }
  return values;
}

/** The arguments typed in, or an error in words (a required one missing, a number that is not). */
export function argsFrom(
  schema: Record<string, unknown>,
  values: Record<string, string>,
): { args: Record<string, unknown> } | { error: string } {
  const args: Record<string, unknown> = {};
  for (const a of schemaArgs(schema)) {
    const raw = values[a.name] ?? '';
    if (a.kind === 'boolean') {
      if (raw !== '' || a.required) args[a.name] = raw === 'true';
      continue;
    }
    if (raw.trim() === '') {
      if (a.required) return { error: `${a.name} is required.` };
      continue;
    }
    if (a.kind === 'number' || a.kind === 'integer') {
      const n = Number(raw);
      if (!Number.isFinite(n) || (a.kind === 'integer' && !Number.isInteger(n)))
        return { error: `${a.name} must be ${a.kind === 'integer' ? 'a whole number' : 'a number'}.` };
      args[a.name] = n;
    } else if (a.kind === 'json') {
      try {
        args[a.name] = JSON.parse(raw);
      } catch {
        return { error: `${a.name} must be JSON (an object, a list, a number, or text in quotes).` };
      }
    } else args[a.name] = raw;
  }
  return { args };
}

/** The fields of a schema's arguments; a schema with none says so. */
export function SchemaFields({
  schema,
  values,
  onChange,
}: {
  schema: Record<string, unknown>;
  values: Record<string, string>;
  onChange: (values: Record<string, string>) => void;
}) {
  const args = schemaArgs(schema);
  if (args.length === 0) return <p className="hint">This tool takes no arguments.</p>;
  const set = (name: string) => (v: string) => onChange({ ...values, [name]: v });
  return (
    <>
      {args.map((a) => {
        const label = `${a.name}${a.required ? '' : ' (optional)'}`;
        const hint = a.prop.description || undefined;
        const value = values[a.name] ?? '';
        switch (a.kind) {
          case 'boolean':
            return (
              <CheckboxField
                key={a.name}
                label={label}
                hint={hint}
                checked={value === 'true'}
                onChange={(c) => set(a.name)(c ? 'true' : 'false')}
              />
            );
          case 'choice':
            return (
              <SelectField
                key={a.name}
                label={label}
                hint={hint}
                value={value}
                onChange={set(a.name)}
                options={[
                  { value: '', label: a.required ? 'Choose…' : '(none)' },
                  ...(a.prop.enum as string[]).map((v) => ({ value: v, label: v })),
                ]}
              />
            );
          case 'json':
            return (
              <TextAreaField
                key={a.name}
                label={`${label}, as JSON`}
                hint={hint}
                value={value}
                onChange={set(a.name)}
                code
                rows={3}
              />
            );
          default:
            return (
              <TextField
                key={a.name}
                label={label}
                hint={hint}
                value={value}
                onChange={set(a.name)}
                required={a.required}
                autoComplete="off"
                {...(a.kind === 'string' ? {} : { type: 'number', step: a.kind === 'integer' ? 1 : 'any' })}
              />
            );
        }
      })}
    </>
  );
}
