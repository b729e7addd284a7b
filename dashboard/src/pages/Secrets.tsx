/**
 * `/orgs/{slug}/secrets`: model keys (bring your own key) and connector credentials. Values are
 * write-only: they go in through uncontrolled password inputs that are cleared on submit, and
 * only metadata (with a four-character hint) ever comes back.
 */
import { useRef, useState } from 'react';
import {
  api,
  canManage,
  MODEL_PROVIDERS,
  type Person,
  SECRET_KINDS,
  type Secret,
  type SecretKind,
} from '../api/index.ts';
import { useAction, useListAction, useLoad } from '../data/index.ts';
import type { PageProps } from '../page.ts';
import {
  AddForm,
  Alert,
  ConfirmButton,
  DataTable,
  FormRow,
  formatDate,
  formatTime,
  Loading,
  NameField,
  Notice,
  PageHeader,
  RowForm,
  SecretValueField,
  Section,
  SelectField,
  TextField,
} from '../ui/index.ts';

const KIND_LABEL: Record<SecretKind, string> = {
  model_key: 'Model key',
  connector_credential: 'Connector credential',
  other: 'Other',
};
const KIND_OPTIONS = SECRET_KINDS.map((k) => ({ value: k, label: KIND_LABEL[k] }));
/** Providers whose models take a key (the demo replay needs none). */
const KEY_PROVIDERS = MODEL_PROVIDERS.filter((p) => p !== 'demo');
const ENDPOINT_HINT =
  'Optional: an openai-compatible server (Ollama, vLLM, LiteLLM) or a proxy; https, or http to this machine only. Blank: the provider’s own.';
const AGENT_ID = /^[a-z]+_[0-9a-z]+$/;
const MIN_VALUE = 8;
const MAX_VALUE = 16_384;

/** Comma- or space-separated agent ids; blank is "every agent" (null). */
function parseAgents(text: string): string[] | null | { error: string } {
  const ids = [...new Set(text.split(/[\s,]+/).filter(Boolean))];
  if (ids.length === 0) return null;
  const bad = ids.find((id) => !AGENT_ID.test(id) || id.length > 64);
  if (bad) return { error: `“${bad}” is not an agent id (they look like agt_1a2b3c).` };
  if (ids.length > 1000) return { error: 'At most 1000 agents.' };
  return ids;
}

function valueProblem(value: string): string | null {
  if (value.length < MIN_VALUE) return `A value has at least ${MIN_VALUE} characters.`;
  if (value.length > MAX_VALUE) return `A value has at most ${MAX_VALUE} characters.`;
  return null;
}

/** Reads a write-only input and empties it at once, whatever happens next. */
function takeValue(input: HTMLInputElement | null): string {
  if (!input) return '';
  const value = input.value;
  input.value = '';
  return value;
}

/** Takes a new value from its input, as adding and rotating do; a bad length is the form's error (null). */
function takeCheckedValue(input: HTMLInputElement | null, setError: (e: string) => void): string | null {
  const value = takeValue(input);
  const problem = valueProblem(value);
  if (problem) {
    setError(`${problem} Enter the value again.`);
    return null;
  }
  return value;
}

const WRITE_ONLY =
  'Values are write-only: Paddock seals them with the organization’s data key and never shows or returns ' +
  'them again, to anyone. Only the last four characters are kept as a hint.';

export function SecretsPage({ org }: PageProps) {
  const manage = canManage(org.role);
  const secrets = useLoad(() => api.secrets(org.slug), org.slug);
  const people = useLoad(() => api.people(org.slug), org.slug);
  const action = useListAction();
  const { notice, setNotice } = action;
  const [open, setOpen] = useState<{ id: string; mode: 'rotate' | 'agents' | 'endpoint' } | null>(null);
  const byId = new Map((people.data ?? []).map((p) => [p.id, p]));
  const who = (id: string | null) => personName(byId, id);
  const columns = manage ? 9 : 8;
  // Rotating and changing agents end alike: reload and say what changed, or just close on Cancel.
  const closeForm = (say: (changed: Secret) => string) => async (changed: Secret | null) => {
    if (changed) {
      await secrets.reload();
      setNotice(say(changed));
    }
    setOpen(null);
  };

  return (
    <>
      <PageHeader title="Secrets">
        Model keys and connector credentials that {org.name}’s agents use. {WRITE_ONLY}
      </PageHeader>
      {manage ? (
        <AddSecret
          slug={org.slug}
          onAdded={async (s) => {
            setNotice(`Secret ${s.name} stored (hint ${s.hint}). Its value will not be shown again.`);
            await secrets.reload();
          }}
        />
      ) : null}
      <Section title="Secrets">
        <Alert message={action.error ?? secrets.error} />
        <Notice message={notice} />
        {!secrets.data ? (
          <Loading what="secrets" />
        ) : secrets.data.length === 0 ? (
          <p className="empty">
            No secrets yet. A secret is a value such as an API key or a model key, kept encrypted in the
            vault: connections and agents use it, and nobody can read it back.{' '}
            {manage ? 'Add one above.' : 'An owner or admin adds them.'}
          </p>
        ) : (
          <DataTable
            headers={['Name', 'Kind', 'Provider', 'Agents', 'Version', 'Hint', 'Created', 'Rotated']}
            actions={manage}
            className="secrets-table"
            label="Secrets"
          >
            {secrets.data.map((s) => {
              const editing = open?.id === s.id ? open.mode : null;
              return [
                <tr key={s.id} data-testid="secret-row" className={editing ? 'row-editing' : undefined}>
                  <td className="nowrap">
                    <strong>{s.name}</strong>
                  </td>
                  <td>{KIND_LABEL[s.kind] ?? s.kind}</td>
                  <td>
                    {s.provider ? <code>{s.provider}</code> : <span className="muted">—</span>}
                    {s.kind === 'model_key' ? (
                      <div className="sub secret-endpoint">
                        {s.baseUrl ? (
                          <code data-testid="secret-endpoint">{s.baseUrl}</code>
                        ) : (
                          <span className="muted">Provider’s own endpoint</span>
                        )}
                        {manage ? (
                          <button
                            type="button"
                            className="btn-link"
                            aria-expanded={editing === 'endpoint'}
                            onClick={() =>
                              setOpen(editing === 'endpoint' ? null : { id: s.id, mode: 'endpoint' })
                            }
                          >
                            Change<span className="sr-only"> endpoint of {s.name}</span>
                          </button>
                        ) : null}
                      </div>
                    ) : null}
                  </td>
                  <td>
                    <span className="agent-list">
                      {s.agentIds === null ? (
                        <span className="muted nowrap">All agents</span>
                      ) : (
                        s.agentIds.map((a) => <code key={a}>{a}</code>)
                      )}
                      {manage ? (
                        <button
                          type="button"
                          className="btn-link"
                          aria-expanded={editing === 'agents'}
                          onClick={() => setOpen(editing === 'agents' ? null : { id: s.id, mode: 'agents' })}
                        >
                          Change<span className="sr-only"> agents of {s.name}</span>
                        </button>
                      ) : null}
                    </span>
                  </td>
                  <td data-testid="secret-version">{s.version}</td>
                  <td>
                    <code data-testid="secret-hint">{s.hint}</code>
                  </td>
                  <td className="nowrap">
                    {formatDate(s.createdAt)}
                    <div className="sub">by {who(s.createdBy)}</div>
                  </td>
                  <td className="nowrap">
                    {s.rotatedAt ? (
                      <>
                        <span title={formatTime(s.rotatedAt)}>{formatDate(s.rotatedAt)}</span>
                        <div className="sub">by {who(s.rotatedBy)}</div>
                      </>
                    ) : (
                      <span className="muted">Never</span>
                    )}
                  </td>
                  {manage ? (
                    <td className="col-actions">
                      <span className="row-actions">
                        <button
                          type="button"
                          className="btn btn-secondary btn-small"
                          aria-expanded={editing === 'rotate'}
                          onClick={() => setOpen(editing === 'rotate' ? null : { id: s.id, mode: 'rotate' })}
                        >
                          Rotate<span className="sr-only"> {s.name}</span>
                        </button>
                        <ConfirmButton
                          label="Delete"
                          confirmLabel="Yes, delete"
                          question="Delete?"
                          onConfirm={() =>
                            action.act(async () => {
                              await api.deleteSecret(org.slug, s.id);
                              if (open?.id === s.id) setOpen(null);
                              return `Secret ${s.name} deleted.`;
                            }, secrets.reload)
                          }
                        />
                      </span>
                    </td>
                  ) : null}
                </tr>,
                editing ? (
                  <FormRow key={`${s.id}-edit`} colSpan={columns}>
                    {editing === 'rotate' ? (
                      <RotateForm
                        slug={org.slug}
                        secret={s}
                        onDone={closeForm(
                          (r) => `Secret ${r.name} rotated to version ${r.version} (hint ${r.hint}).`,
                        )}
                      />
                    ) : editing === 'agents' ? (
                      <AgentsForm
                        slug={org.slug}
                        secret={s}
                        onDone={closeForm((r) => `Secret ${r.name} is now for ${agentsText(r.agentIds)}.`)}
                      />
                    ) : (
                      <EndpointForm
                        slug={org.slug}
                        secret={s}
                        onDone={closeForm(
                          (r) =>
                            `Secret ${r.name} now goes to ${r.baseUrl ?? 'its provider’s own endpoint'}.`,
                        )}
                      />
                    )}
                  </FormRow>
                ) : null,
              ];
            })}
          </DataTable>
        )}
      </Section>
    </>
  );
}

function personName(byId: Map<string, Person>, id: string | null): string {
  if (!id) return '—';
  const p = byId.get(id);
  return p ? p.name || p.email : id;
}

function agentsText(ids: string[] | null): string {
  if (ids === null) return 'all agents';
  return ids.length === 1 ? `agent ${ids[0]}` : `${ids.length} agents`;
}

function AddSecret({ slug, onAdded }: { slug: string; onAdded: (s: Secret) => Promise<void> }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState<SecretKind>('model_key');
  const [provider, setProvider] = useState('');
  const [baseUrl, setBaseUrl] = useState('');
  const [agents, setAgents] = useState('');
  const valueRef = useRef<HTMLInputElement>(null);
  const { busy, error, setError, run } = useAction();

  return (
    <AddForm
      title="Add a secret"
      busy={busy}
      error={error}
      submitLabel="Add secret"
      busyLabel="Saving…"
      submit={() => {
        const agentIds = parseAgents(agents);
        if (agentIds !== null && !Array.isArray(agentIds)) {
          setError(agentIds.error);
          return;
        }
        const value = takeCheckedValue(valueRef.current, setError);
        if (value === null) return;
        void run(async () => {
          const made = await api.createSecret(slug, {
            name: name.trim(),
            kind,
            provider:
              kind === 'model_key'
                ? KEY_PROVIDERS.includes(provider as never)
                  ? provider
                  : KEY_PROVIDERS[0]!
                : provider.trim() || null,
            agentIds,
            ...(kind === 'model_key' && baseUrl.trim() ? { baseUrl: baseUrl.trim() } : {}),
            value,
          });
          setName('');
          setProvider('');
          setBaseUrl('');
          setAgents('');
          await onAdded(made);
        });
      }}
    >
      <NameField value={name} onChange={setName} placeholder="e.g. openai-prod" autoComplete="off" />
      <SelectField label="Kind" value={kind} onChange={setKind} options={KIND_OPTIONS} />
      {kind === 'model_key' ? (
        // A model key is for a provider Paddock can call: picked, never typed (a typo would strand it).
        <SelectField
          label="Provider"
          value={KEY_PROVIDERS.includes(provider as never) ? provider : KEY_PROVIDERS[0]!}
          onChange={setProvider}
          options={KEY_PROVIDERS.map((p) => ({ value: p, label: p }))}
          hint="openai-compatible for Ollama, vLLM, LiteLLM or a proxy (give its endpoint below)."
        />
      ) : (
        <TextField
          label="Vendor"
          value={provider}
          maxLength={50}
          onChange={setProvider}
          placeholder="e.g. github"
          autoComplete="off"
          hint="Optional: whose credential it is (the compliance center lists it as a vendor)."
        />
      )}
      {kind === 'model_key' ? (
        <TextField
          label="Endpoint (baseUrl)"
          type="url"
          value={baseUrl}
          maxLength={2000}
          onChange={setBaseUrl}
          placeholder="e.g. http://127.0.0.1:11434/v1"
          autoComplete="off"
          spellCheck={false}
          hint={ENDPOINT_HINT}
        />
      ) : null}
      <SecretValueField
        label="Value"
        inputRef={valueRef}
        required
        minLength={MIN_VALUE}
        maxLength={MAX_VALUE}
        hint="Write-only: cleared from this form as soon as you submit, never shown again."
      />
      <TextField
        label="Agents (optional)"
        value={agents}
        onChange={setAgents}
        placeholder="agt_…, agt_…"
        autoComplete="off"
        spellCheck={false}
        hint="Agent ids, comma-separated. Blank: every agent of the organization may use it."
      />
    </AddForm>
  );
}

function RotateForm({
  slug,
  secret,
  onDone,
}: {
  slug: string;
  secret: Secret;
  onDone: (rotated: Secret | null) => Promise<void>;
}) {
  const valueRef = useRef<HTMLInputElement>(null);
  const { busy, error, setError, run } = useAction();
  return (
    <RowForm
      label={`Rotate ${secret.name}`}
      autoComplete="off"
      busy={busy}
      error={error}
      submitLabel="Rotate"
      busyLabel="Rotating…"
      onCancel={() => onDone(null)}
      submit={() => {
        const value = takeCheckedValue(valueRef.current, setError);
        if (value === null) return;
        void run(async () => {
          const r = await api.rotateSecret(slug, secret.id, value);
          await onDone(r);
        });
      }}
    >
      <SecretValueField
        label={`New value for ${secret.name}`}
        inputRef={valueRef}
        required
        minLength={MIN_VALUE}
        maxLength={MAX_VALUE}
        autoFocus
        hint={`Replaces version ${secret.version} at once; the old value is gone.`}
      />
    </RowForm>
  );
}

function AgentsForm({
  slug,
  secret,
  onDone,
}: {
  slug: string;
  secret: Secret;
  onDone: (changed: Secret | null) => Promise<void>;
}) {
  const [agents, setAgents] = useState((secret.agentIds ?? []).join(', '));
  const { busy, error, setError, run } = useAction();
  return (
    <RowForm
      label={`Agents of ${secret.name}`}
      busy={busy}
      error={error}
      submitLabel="Save"
      busyLabel="Saving…"
      onCancel={() => onDone(null)}
      submit={() => {
        const agentIds = parseAgents(agents);
        if (agentIds !== null && !Array.isArray(agentIds)) {
          setError(agentIds.error);
          return;
        }
        void run(async () => {
          await onDone(await api.scopeSecret(slug, secret.id, agentIds as string[] | null));
        });
      }}
    >
      <TextField
        label={`Agents that may use ${secret.name}`}
        value={agents}
        onChange={setAgents}
        placeholder="agt_…, agt_…"
        autoComplete="off"
        spellCheck={false}
        autoFocus
        hint="Agent ids, comma-separated. Blank: every agent."
      />
    </RowForm>
  );
}

function EndpointForm({
  slug,
  secret,
  onDone,
}: {
  slug: string;
  secret: Secret;
  onDone: (changed: Secret | null) => Promise<void>;
}) {
  const [baseUrl, setBaseUrl] = useState(secret.baseUrl ?? '');
  const { busy, error, run } = useAction();
  return (
    <RowForm
      label={`Endpoint of ${secret.name}`}
      busy={busy}
      error={error}
      submitLabel="Save"
      busyLabel="Saving…"
      onCancel={() => onDone(null)}
      submit={() => {
        void run(async () => {
          await onDone(await api.setSecretEndpoint(slug, secret.id, baseUrl.trim() || null));
        });
      }}
    >
      <TextField
        label={`Endpoint (baseUrl) of ${secret.name}`}
        type="url"
        value={baseUrl}
        maxLength={2000}
        onChange={setBaseUrl}
        placeholder="e.g. http://127.0.0.1:11434/v1"
        autoComplete="off"
        spellCheck={false}
        autoFocus
        hint={ENDPOINT_HINT}
      />
    </RowForm>
  );
}
