/**
 * `/orgs/{slug}/connections`: the app connections (MCP servers) of the org's agents. Owners and
 * admins add one (run over stdio inside the org's sandbox, environment variables from vault
 * secrets), list its tools now (changed definitions suspend the grants pinned to them) and
 * remove it; everyone else reads. The tools shown are the ones stored when last listed.
 */
import { useState } from 'react';
import { ApiError, api, type Connection, canManage, type Secret, type ToolRefresh } from '../api.ts';
import {
  Alert,
  CheckboxField,
  ConfirmButton,
  DataTable,
  Digest,
  formatDate,
  formatTime,
  Loading,
  Notice,
  onSubmit,
  PageHeader,
  Section,
  SelectField,
  TextAreaField,
  TextField,
  useAction,
  useLoad,
  usePeopleNames,
} from '../components.tsx';
import type { PageProps } from '../Layout.tsx';

/** Owners, admins and auditors may list secrets (for their names); members get ids only. */
function useSecrets(slug: string, role: PageProps['org']['role']) {
  return useLoad(async (): Promise<Secret[] | null> => {
    if (role === 'member') return null;
    try {
      return await api.secrets(slug);
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) return null;
      throw err;
    }
  }, `${slug}/${role}`);
}

export function ConnectionsPage({ org, me }: PageProps) {
  const manage = canManage(org.role);
  const connections = useLoad(() => api.connections(org.slug), org.slug);
  const secrets = useSecrets(org.slug, org.role);
  const people = usePeopleNames(org.slug, me.id);
  const action = useAction();
  const refresh = useAction();
  const [notice, setNotice] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  /** The connection last listed, and what listing it found (kept for its tools panel). */
  const [listed, setListed] = useState<string | null>(null);
  const [refreshed, setRefreshed] = useState<ToolRefresh | null>(null);
  /** Bumped after a listing, so an open tools panel loads the new tools. */
  const [generation, setGeneration] = useState(0);
  const secretName = (id: string) => secrets.data?.find((s) => s.id === id)?.name ?? id;

  const listTools = async (c: Connection) => {
    setNotice(null);
    setOpen(c.id);
    setListed(c.id);
    setRefreshed(null);
    await refresh.run(async () => {
      setRefreshed(await api.refreshTools(org.slug, c.id));
      setGeneration((g) => g + 1);
    });
  };

  return (
    <>
      <PageHeader title="Connections">
        The MCP servers {org.name}’s agents reach tools through. Each runs inside the organization’s sandbox;
        an agent may call only the tools its grants allow.
      </PageHeader>
      {manage ? (
        <AddConnection
          slug={org.slug}
          secrets={secrets.data ?? []}
          onAdded={async (c) => {
            setNotice(`Connection ${c.name} added. List its tools to grant them to agents.`);
            await connections.reload();
          }}
        />
      ) : null}
      <Section title="Connections">
        <Alert message={action.error ?? connections.error ?? secrets.error ?? people.error} />
        <Notice message={notice} />
        {!connections.data ? (
          <Loading what="connections" />
        ) : connections.data.length === 0 ? (
          <p className="empty">No connections yet.{manage ? ' Add one above.' : ''}</p>
        ) : (
          <DataTable
            headers={['Name', 'Command', 'Environment', 'Created']}
            actions
            className="connections-table"
            label="Connections"
          >
            {connections.data.map((c) => [
              <tr
                key={c.id}
                data-testid="connection-row"
                className={open === c.id ? 'row-editing' : undefined}
              >
                <td className="nowrap">
                  <strong>{c.name}</strong>
                  {c.ownerId ? <span className="tag">Private</span> : null}
                </td>
                <td>
                  <code className="command-line">
                    {[c.command ?? c.url ?? '', ...c.args].map(shellWord).join(' ')}
                  </code>
                </td>
                <td>
                  {Object.keys(c.env).length === 0 ? (
                    <span className="muted">None</span>
                  ) : (
                    <ul className="plain-list">
                      {Object.entries(c.env).map(([k, v]) => (
                        <li key={k}>
                          <code>{k}</code> ← secret {secretName(v)}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td className="nowrap">
                  <span title={formatTime(c.createdAt)}>{formatDate(c.createdAt)}</span>
                  <div className="sub">by {people.name(c.createdBy)}</div>
                </td>
                <td className="col-actions">
                  <span className="row-actions">
                    <button
                      type="button"
                      className="btn btn-secondary btn-small"
                      aria-expanded={open === c.id}
                      onClick={() => setOpen(open === c.id ? null : c.id)}
                    >
                      {open === c.id ? 'Hide tools' : 'Show tools'}
                      <span className="sr-only"> of {c.name}</span>
                    </button>
                    {manage ? (
                      <>
                        <button
                          type="button"
                          className="btn btn-primary btn-small"
                          disabled={refresh.busy}
                          onClick={() => void listTools(c)}
                        >
                          List tools<span className="sr-only"> of {c.name}</span>
                        </button>
                        <ConfirmButton
                          label="Delete"
                          confirmLabel="Yes, delete"
                          question={`Delete ${c.name}?`}
                          onConfirm={async () => {
                            setNotice(null);
                            await action.run(async () => {
                              await api.deleteConnection(org.slug, c.id);
                              if (open === c.id) setOpen(null);
                              setNotice(`Connection ${c.name} deleted.`);
                              await connections.reload();
                            });
                          }}
                        />
                      </>
                    ) : null}
                  </span>
                </td>
              </tr>,
              open === c.id ? (
                <tr key={`${c.id}-tools`} className="row-form">
                  <td colSpan={5}>
                    <ToolsPanel
                      slug={org.slug}
                      connection={c}
                      generation={generation}
                      listing={listed === c.id && refresh.busy}
                      listError={listed === c.id ? refresh.error : null}
                      refreshed={listed === c.id ? refreshed : null}
                    />
                  </td>
                </tr>
              ) : null,
            ])}
          </DataTable>
        )}
      </Section>
    </>
  );
}

/** A word of a command line, quoted when it has spaces or quotes. */
function shellWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`;
}

/** What listing the tools found: changed definitions and suspended grants stand out. */
function RefreshResult({ result }: { result: ToolRefresh }) {
  const n = result.tools.length;
  if (result.changed.length === 0 && result.suspended.length === 0) {
    return <Notice message={`Listed ${n} tool${n === 1 ? '' : 's'}; no definition changed.`} />;
  }
  return (
    <div className="alert alert-warning" role="alert" data-testid="tools-changed">
      <strong>
        {result.changed.length} tool definition{result.changed.length === 1 ? '' : 's'} changed since last
        listed
      </strong>
      {result.changed.length ? (
        <>: {result.changed.map((t, i) => [i ? ', ' : '', <code key={t}>{t}</code>])}</>
      ) : null}
      .
      {result.suspended.length ? (
        <p>
          {result.suspended.length} grant{result.suspended.length === 1 ? ' was' : 's were'} suspended because
          the tool changed under {result.suspended.length === 1 ? 'it' : 'them'}: review the tool and grant it
          again. Suspended: {result.suspended.map((g, i) => [i ? ', ' : '', <code key={g}>{g}</code>])}
        </p>
      ) : (
        <p>No grant was pinned to the old definitions.</p>
      )}
    </div>
  );
}

function ToolsPanel({
  slug,
  connection,
  generation,
  listing,
  listError,
  refreshed,
}: {
  slug: string;
  connection: Connection;
  generation: number;
  listing: boolean;
  listError: string | null;
  refreshed: ToolRefresh | null;
}) {
  const tools = useLoad(
    () => api.connectionTools(slug, connection.id),
    `${slug}/${connection.id}/${generation}`,
  );
  return (
    <div className="tools-panel" data-testid="tools-panel">
      <h3>Tools of {connection.name}</h3>
      {listing ? (
        <p className="muted" aria-busy="true">
          Starting {connection.name} in the sandbox and listing its tools…
        </p>
      ) : null}
      <Alert message={listError ?? tools.error} />
      {refreshed ? <RefreshResult result={refreshed} /> : null}
      {!tools.data ? (
        <Loading what="tools" />
      ) : tools.data.length === 0 ? (
        <p className="empty">No tools stored yet: List tools asks the server for them.</p>
      ) : (
        <DataTable headers={['Tool', 'Description', 'Digest', 'Seen']} label={`Tools of ${connection.name}`}>
          {tools.data.map((t) => (
            <tr key={t.name} data-testid="tool-row">
              <td className="nowrap">
                <code>{t.name}</code>
              </td>
              <td>{t.description || <span className="muted">—</span>}</td>
              <td>
                <Digest value={t.digest} />
              </td>
              <td className="nowrap">{formatTime(t.seenAt)}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </div>
  );
}

interface EnvRow {
  key: number;
  name: string;
  secretId: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function AddConnection({
  slug,
  secrets,
  onAdded,
}: {
  slug: string;
  secrets: Secret[];
  onAdded: (c: Connection) => Promise<void>;
}) {
  const [name, setName] = useState('');
  const [command, setCommand] = useState('');
  const [args, setArgs] = useState('');
  const [env, setEnv] = useState<EnvRow[]>([]);
  const [nextKey, setNextKey] = useState(1);
  const [isPrivate, setPrivate] = useState(false);
  const { busy, error, setError, run } = useAction();
  const secretOptions = [
    { value: '', label: 'Choose a secret' },
    ...secrets.map((s) => ({ value: s.id, label: `${s.name} (${s.hint})` })),
  ];
  const change = (key: number, patch: Partial<EnvRow>) =>
    setEnv((rows) => rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));

  return (
    <Section title="Add a connection">
      <Alert message={error} />
      <form
        className="form-grid"
        aria-label="Add a connection"
        autoComplete="off"
        onSubmit={onSubmit(() => {
          const vars: Record<string, string> = {};
          for (const r of env) {
            const n = r.name.trim();
            if (!ENV_NAME.test(n)) {
              setError(`“${n}” is not an environment variable name (letters, digits and _).`);
              return;
            }
            if (!r.secretId) {
              setError(`Choose the secret for ${n}.`);
              return;
            }
            if (n in vars) {
              setError(`${n} is set twice.`);
              return;
            }
            vars[n] = r.secretId;
          }
          void run(async () => {
            const made = await api.createConnection(slug, {
              name: name.trim(),
              transport: 'stdio',
              command: command.trim(),
              args: args.split('\n').filter((a) => a.trim() !== ''),
              env: vars,
              ...(isPrivate ? { private: true } : {}),
            });
            setName('');
            setCommand('');
            setArgs('');
            setEnv([]);
            setPrivate(false);
            await onAdded(made);
          });
        })}
      >
        <TextField
          label="Name"
          value={name}
          required
          maxLength={100}
          onChange={setName}
          placeholder="e.g. GitHub"
          autoComplete="off"
        />
        <TextField
          label="Command"
          value={command}
          required
          maxLength={500}
          onChange={setCommand}
          placeholder="node"
          autoComplete="off"
          spellCheck={false}
          hint="“node” (Paddock’s own Node.js) or an absolute path inside the sandbox."
        />
        <TextAreaField
          label="Arguments"
          value={args}
          onChange={setArgs}
          code
          rows={3}
          spellCheck={false}
          placeholder={'/opt/mcp/server.js\n--read-only'}
          hint="One argument per line, passed as is (no shell)."
        />
        <fieldset className="field-wide env-rows">
          <legend>Environment variables</legend>
          <p className="hint">
            Each is set from a vault secret when the server starts; the value never shows here.
            {secrets.length === 0 ? ' Add secrets on the Secrets page first.' : ''}
          </p>
          {env.map((r, i) => (
            <div key={r.key} className="env-row" data-testid="env-row">
              <TextField
                label={`Variable ${i + 1}`}
                value={r.name}
                required
                maxLength={64}
                onChange={(v) => change(r.key, { name: v })}
                placeholder="e.g. GITHUB_TOKEN"
                autoComplete="off"
                spellCheck={false}
              />
              <SelectField
                label={`Secret for variable ${i + 1}`}
                value={r.secretId}
                onChange={(v) => change(r.key, { secretId: v })}
                options={secretOptions}
              />
              <button
                type="button"
                className="btn btn-ghost btn-small"
                onClick={() => setEnv((rows) => rows.filter((x) => x.key !== r.key))}
              >
                Remove<span className="sr-only"> variable {i + 1}</span>
              </button>
            </div>
          ))}
          <button
            type="button"
            className="btn btn-secondary btn-small"
            disabled={env.length >= 50}
            onClick={() => {
              setEnv((rows) => [...rows, { key: nextKey, name: '', secretId: '' }]);
              setNextKey((k) => k + 1);
            }}
          >
            Add variable
          </button>
        </fieldset>
        <CheckboxField
          label="Private"
          checked={isPrivate}
          onChange={setPrivate}
          hint="Only for you (and the organization’s owners, admins and auditors), not everyone."
        />
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Adding…' : 'Add connection'}
          </button>
        </div>
      </form>
    </Section>
  );
}
