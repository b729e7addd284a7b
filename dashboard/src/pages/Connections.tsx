/**
 * `/orgs/{slug}/connections`: the app connections (MCP servers) of the org's agents. Owners and
 * admins add one (an installed server package or a command, run over stdio inside the org's
 * sandbox, environment variables from vault secrets; or a remote server over Streamable HTTP,
 * reached through the org's egress proxy, request headers from vault secrets), list its tools now
 * (changed definitions suspend the grants pinned to them), switch a package's version and remove
 * it; everyone else reads. The tools shown are the ones stored when last listed. Below, the
 * server packages installed (ServerPackages.tsx).
 */
import { useEffect, useId, useRef, useState } from 'react';
import {
  ApiError,
  api,
  type Connection,
  type ConnectionTransport,
  canManage,
  type EgressRule,
  type Secret,
  type ServerPackage,
  type ToolRefresh,
} from '../api/index.ts';
import { toast, useAction, useListAction, useLoad, usePeopleNames } from '../data/index.ts';
import type { PageProps } from '../page.ts';
import { Link } from '../router.tsx';
import {
  AddForm,
  Alert,
  CheckboxField,
  ConfirmButton,
  DataTable,
  Digest,
  FormRow,
  formatDate,
  formatTime,
  Loading,
  NameField,
  Notice,
  PageHeader,
  Section,
  SelectField,
  TextAreaField,
  TextField,
} from '../ui/index.ts';
import { CatalogCards } from './CatalogCards.tsx';
import { ConnectionOAuth, oauthOutcome } from './ConnectionOAuth.tsx';
import { ServerPackages } from './ServerPackages.tsx';

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

export function ConnectionsPage({ org, me, query }: PageProps) {
  const manage = canManage(org.role);
  const connections = useLoad(() => api.connections(org.slug), org.slug);
  const secrets = useSecrets(org.slug, org.role);
  const people = usePeopleNames(org.slug, me.id);
  const packages = useLoad(() => api.serverPackages(org.slug), org.slug);
  const action = useListAction();
  const { notice, setNotice } = action;
  const refresh = useAction();
  const [open, setOpen] = useState<string | null>(null);
  /** The connection last listed, and what listing it found (kept for its tools panel). */
  const [listed, setListed] = useState<string | null>(null);
  const [refreshed, setRefreshed] = useState<ToolRefresh | null>(null);
  /** Bumped after a listing, so an open tools panel loads the new tools. */
  const [generation, setGeneration] = useState(0);
  const secretName = (id: string) => secrets.data?.find((s) => s.id === id)?.name ?? id;
  // Back from a remote server's authorization server: say how it went.
  const came = oauthOutcome(query, (id) => connections.data?.find((c) => c.id === id)?.name);

  // Listing can take a while (the server starts in the sandbox): one who left the page hears the end as a toast.
  const shown = useRef(true);
  useEffect(
    () => () => {
      shown.current = false;
    },
    [],
  );
  const listTools = async (c: Connection, asAgent?: string) => {
    setNotice(null);
    setOpen(c.id);
    setListed(c.id);
    setRefreshed(null);
    const ok = await refresh.run(async () => {
      const r = await api.refreshTools(org.slug, c.id, asAgent);
      if (!shown.current) toast(`Listed the tools of ${c.name}.`, 'success');
      setRefreshed(r);
      setGeneration((g) => g + 1);
    });
    if (!ok && !shown.current)
      toast(`Listing the tools of ${c.name} failed: open Connections to try again.`, 'error');
  };
  /** The agents some secret this connection names is scoped to (listing without one leaves it out). */
  const scopedAgents = (c: Connection) => [
    ...new Set(
      Object.values(c.transport === 'http' ? c.headers : c.env).flatMap(
        (id) => secrets.data?.find((s) => s.id === id)?.agentIds ?? [],
      ),
    ),
  ];

  return (
    <>
      <PageHeader title="Connections">
        The MCP servers {org.name}’s agents reach tools through. A local one runs inside the organization’s
        sandbox; a remote one is reached over HTTP through the organization’s egress proxy. An agent may call
        only the tools its grants allow.
      </PageHeader>
      {manage ? (
        <AddConnection
          slug={org.slug}
          secrets={secrets.data ?? []}
          allowlist={org.settings.egressAllowlist}
          packages={packages.data?.packages ?? []}
          onAdded={async (c) => {
            setNotice(`Connection ${c.name} added. List its tools to grant them to agents.`);
            await Promise.all([connections.reload(), packages.reload()]);
          }}
        />
      ) : null}
      <Section title="Connections">
        <Alert message={action.error ?? connections.error ?? secrets.error ?? people.error} />
        <Notice message={notice ?? came.ok} />
        <Alert message={came.error} />
        {!connections.data ? (
          <Loading what="connections" />
        ) : connections.data.length === 0 ? (
          <p className="empty">
            No connections yet. A connection is an MCP server your agents reach tools through: a command run
            in the organization’s sandbox, or a remote URL.{' '}
            {manage
              ? 'Add one above, then List tools to see what it offers.'
              : 'An owner or admin adds them; you can then grant their tools.'}
          </p>
        ) : (
          <DataTable
            headers={['Name', 'Transport', 'Command or URL', 'Secrets', 'Created']}
            actions
            className="connections-table"
            label="Connections"
          >
            {connections.data.map((c) => [
              <tr
                key={c.id}
                data-testid="connection-row"
                data-item-id={c.id}
                className={open === c.id ? 'row-editing' : undefined}
              >
                <td className="nowrap">
                  <strong>{c.name}</strong>
                  {c.ownerId ? <span className="tag">Private</span> : null}
                </td>
                <td className="nowrap" data-testid="connection-transport">
                  {TRANSPORT_LABELS[c.transport]}
                </td>
                <td>
                  {c.transport === 'http' ? (
                    <>
                      <code className="command-line connection-url" data-testid="connection-url">
                        {c.url}
                      </code>
                      <div className="sub">
                        <ConnectionOAuth
                          slug={org.slug}
                          connection={c}
                          manage={manage}
                          own={org.role !== 'auditor'}
                        />
                      </div>
                    </>
                  ) : c.transport === 'builtin' ? (
                    <span>Each agent’s own {c.command}, inside Paddock</span>
                  ) : c.package ? (
                    <code className="command-line" data-testid="connection-package">
                      {[
                        `package ${c.package}`,
                        ...(c.bin ? [`(${c.bin})`] : []),
                        ...c.args.map(shellWord),
                      ].join(' ')}
                    </code>
                  ) : (
                    <code className="command-line">
                      {[c.command ?? '', ...c.args].map(shellWord).join(' ')}
                    </code>
                  )}
                </td>
                <td>
                  <SecretList
                    kind={c.transport === 'http' ? 'header' : 'variable'}
                    named={c.transport === 'http' ? c.headers : c.env}
                    secretName={secretName}
                  />
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
                          onConfirm={() =>
                            action.act(async () => {
                              await api.deleteConnection(org.slug, c.id);
                              if (open === c.id) setOpen(null);
                              return `Connection ${c.name} deleted.`;
                            }, connections.reload)
                          }
                        />
                      </>
                    ) : null}
                  </span>
                </td>
              </tr>,
              open === c.id ? (
                <FormRow key={`${c.id}-tools`} colSpan={6}>
                  <ToolsPanel
                    slug={org.slug}
                    connection={c}
                    generation={generation}
                    listing={listed === c.id && refresh.busy}
                    listError={listed === c.id ? refresh.error : null}
                    refreshed={listed === c.id ? refreshed : null}
                    scopedAgents={manage ? scopedAgents(c) : []}
                    onListAs={(agent) => void listTools(c, agent)}
                  />
                  {manage && c.package ? (
                    <PackageVersion
                      slug={org.slug}
                      connection={c}
                      packages={packages.data?.packages ?? []}
                      onChanged={async (r) => {
                        setListed(c.id);
                        setRefreshed(r);
                        setGeneration((g) => g + 1);
                        await Promise.all([connections.reload(), packages.reload()]);
                      }}
                    />
                  ) : null}
                </FormRow>
              ) : null,
            ])}
          </DataTable>
        )}
      </Section>
      <CatalogCards
        slug={org.slug}
        manage={manage}
        onAdded={() => Promise.all([connections.reload(), packages.reload()])}
      />
      <ServerPackages
        slug={org.slug}
        manage={manage}
        list={packages.data}
        error={packages.error}
        reload={packages.reload}
      />
    </>
  );
}

/** The name part of `<name>@<version>`. */
const packageName = (id: string) => id.slice(0, id.lastIndexOf('@'));

/**
 * Switches a package connection to another installed version of its package: the server starts
 * and lists its tools first; definitions that changed suspend the grants pinned to them.
 */
function PackageVersion({
  slug,
  connection,
  packages,
  onChanged,
}: {
  slug: string;
  connection: Connection;
  packages: ServerPackage[];
  onChanged: (r: ToolRefresh) => Promise<void>;
}) {
  const current = connection.package ?? '';
  const others = packages.filter((p) => p.name === packageName(current) && p.id !== current);
  const [target, setTarget] = useState('');
  const { busy, error, run } = useAction();
  const chosen = target || others[0]?.id || '';
  if (others.length === 0) {
    return (
      <p className="muted" data-testid="package-version">
        Runs <code>{current}</code>. To move it to another version, install that version below first.
      </p>
    );
  }
  return (
    <div className="form-inline" data-testid="package-version">
      <SelectField
        label={`Version of ${packageName(current)} (now ${current.slice(current.lastIndexOf('@') + 1)})`}
        value={chosen}
        onChange={setTarget}
        options={others.map((p) => ({ value: p.id, label: p.version }))}
        hint="The new version starts and lists its tools first; grants on tools whose definition changed are suspended until granted again. Recorded in the audit trail."
      />
      <button
        type="button"
        className="btn btn-secondary btn-small"
        disabled={busy || !chosen}
        onClick={() =>
          void run(async () => {
            const r = await api.changeConnectionPackage(slug, connection.id, { package: chosen });
            setTarget('');
            await onChanged(r.tools);
          })
        }
      >
        {busy ? 'Switching…' : 'Switch version'}
      </button>
      <Alert message={error} />
    </div>
  );
}

const TRANSPORT_LABELS: Record<ConnectionTransport, string> = {
  stdio: 'Local (stdio)',
  http: 'Remote (HTTP)',
  builtin: 'Built into Paddock',
};

/** What a connection sets from vault secrets (variables or headers): names and secret names, never values. */
function SecretList({
  kind,
  named,
  secretName,
}: {
  kind: SecretRowKind;
  named: Record<string, string>;
  secretName: (id: string) => string;
}) {
  const entries = Object.entries(named);
  if (entries.length === 0) return <span className="muted">None</span>;
  return (
    <ul className="plain-list">
      {entries.map(([k, v]) => (
        <li key={k} data-testid={`connection-${kind}`}>
          <span className="muted">{kind}</span> <code>{k}</code> ← secret {secretName(v)}
        </li>
      ))}
    </ul>
  );
}

/** A word of a command line, quoted when it has spaces or quotes. */
function shellWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`;
}

/** What listing the tools found: changed definitions and suspended grants stand out. */
function RefreshResult({ result }: { result: ToolRefresh }) {
  const n = result.tools.length;
  const refused = result.refused.length ? (
    <div className="alert alert-warning" role="alert" data-testid="tools-refused">
      <strong>
        {result.refused.length} tool{result.refused.length === 1 ? ' was' : 's were'} refused: the name holds
        a secret the server was given
      </strong>{' '}
      ({result.refused.map((t, i) => [i ? ', ' : '', <code key={t}>{t}</code>])}). A server that puts its
      credentials into tool names is misbehaving or compromised; it is on record in the audit trail.
      {result.refusedOfferings.length ? (
        <p data-testid="offerings-refused">
          Also refused, for the same reason:{' '}
          {result.refusedOfferings.map((t, i) => [i ? ', ' : '', <code key={t}>{t}</code>])}.
        </p>
      ) : null}
    </div>
  ) : result.refusedOfferings.length ? (
    <div className="alert alert-warning" role="alert" data-testid="offerings-refused">
      <strong>Refused because the name or URI holds a secret the server was given:</strong>{' '}
      {result.refusedOfferings.map((t, i) => [i ? ', ' : '', <code key={t}>{t}</code>])}. It is on record in
      the audit trail.
    </div>
  ) : null;
  const offered = result.prompts + result.resources + result.resourceTemplates;
  const repinned = result.repinned.length
    ? ` ${result.repinned.length} grant${result.repinned.length === 1 ? ' was' : 's were'} re-pinned to the new digest format.`
    : '';
  if (result.changed.length === 0 && result.suspended.length === 0) {
    return (
      <>
        {refused}
        <Notice
          message={`Listed ${n} tool${n === 1 ? '' : 's'}${offered ? ` (and ${result.prompts} prompts, ${result.resources} resources, ${result.resourceTemplates} resource templates)` : ''}; no definition changed.${repinned}`}
        />
      </>
    );
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
      {refused}
    </div>
  );
}

/** Lists the tools for one agent, so the server also gets the secrets scoped to that agent. */
function ListAsAgent({
  slug,
  agentIds,
  onListAs,
}: {
  slug: string;
  agentIds: string[];
  onListAs: (agent: string) => void;
}) {
  const agents = useLoad(() => api.agents(slug), slug);
  const [agent, setAgent] = useState(agentIds[0] ?? '');
  const name = (id: string) => agents.data?.find((a) => a.id === id)?.name ?? id;
  return (
    <p className="muted" data-testid="list-as-agent">
      Listing gives the server only org-wide secrets. It also names secrets scoped to some agents; to list its
      tools with those, list on behalf of{' '}
      <select aria-label="Agent to list as" value={agent} onChange={(e) => setAgent(e.target.value)}>
        {agentIds.map((id) => (
          <option key={id} value={id}>
            {name(id)}
          </option>
        ))}
      </select>{' '}
      <button
        type="button"
        className="btn btn-secondary btn-small"
        disabled={!agent}
        onClick={() => onListAs(agent)}
      >
        List as this agent
      </button>{' '}
      (recorded in the audit trail).
    </p>
  );
}

function ToolsPanel({
  slug,
  connection,
  generation,
  listing,
  listError,
  refreshed,
  scopedAgents,
  onListAs,
}: {
  slug: string;
  connection: Connection;
  generation: number;
  listing: boolean;
  listError: string | null;
  refreshed: ToolRefresh | null;
  scopedAgents: string[];
  onListAs: (agent: string) => void;
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
          {connection.transport === 'http'
            ? `Reaching ${connection.name} through the egress proxy and listing its tools…`
            : connection.transport === 'builtin'
              ? `Listing the tools of ${connection.name}…`
              : `Starting ${connection.name} in the sandbox and listing its tools…`}
        </p>
      ) : null}
      <Alert message={listError ?? tools.error} />
      {refreshed ? <RefreshResult result={refreshed} /> : null}
      {scopedAgents.length ? <ListAsAgent slug={slug} agentIds={scopedAgents} onListAs={onListAs} /> : null}
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

/** One name set from a vault secret: an environment variable (stdio) or a request header (http). */
interface SecretRow {
  key: number;
  name: string;
  secretId: string;
}

type SecretRowKind = 'variable' | 'header';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** An HTTP field name (RFC 9110 token), as the server checks it. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;

/** The rows as the API takes them (name → secret id), or what is wrong with them. */
function secretMap(rows: readonly SecretRow[], kind: SecretRowKind): Record<string, string> | string {
  const named: Record<string, string> = {};
  const seen = new Set<string>();
  for (const r of rows) {
    const n = r.name.trim();
    if (kind === 'variable' && !ENV_NAME.test(n)) {
      return `“${n}” is not an environment variable name (letters, digits and _).`;
    }
    if (kind === 'header' && !HEADER_NAME.test(n)) {
      return `“${n}” is not a header name (letters, digits and - , no spaces or colons).`;
    }
    if (!r.secretId) return `Choose the secret for ${n}.`;
    // Header names are case-insensitive: Authorization and authorization are one header.
    const same = kind === 'header' ? n.toLowerCase() : n;
    if (seen.has(same)) return `${n} is set twice.`;
    seen.add(same);
    named[n] = r.secretId;
  }
  return named;
}

/**
 * Names set from vault secrets, one row each: the environment variables of a stdio server or the
 * request headers of a remote one. Only secret ids are picked here; values never show.
 */
function SecretRowsEditor({
  kind,
  legend,
  hint,
  placeholder,
  rows,
  onChange,
  secrets,
}: {
  kind: SecretRowKind;
  legend: string;
  hint: string;
  placeholder: string;
  rows: SecretRow[];
  onChange: (rows: SecretRow[]) => void;
  secrets: Secret[];
}) {
  const nextKey = useRef(1);
  const Kind = kind === 'variable' ? 'Variable' : 'Header';
  const secretOptions = [
    { value: '', label: 'Choose a secret' },
    ...secrets.map((s) => ({ value: s.id, label: `${s.name} (${s.hint})` })),
  ];
  const change = (key: number, patch: Partial<SecretRow>) =>
    onChange(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  return (
    <fieldset className="named-secrets">
      <legend>{legend}</legend>
      <p className="hint">
        {hint}
        {secrets.length === 0 ? ' Add secrets on the Secrets page first.' : ''}
      </p>
      {rows.map((r, i) => (
        <div key={r.key} className="named-secret" data-testid={`${kind}-row`}>
          <TextField
            label={`${Kind} ${i + 1}`}
            value={r.name}
            required
            maxLength={64}
            onChange={(v) => change(r.key, { name: v })}
            placeholder={placeholder}
            autoComplete="off"
            spellCheck={false}
          />
          <SelectField
            label={`Secret for ${kind} ${i + 1}`}
            value={r.secretId}
            onChange={(v) => change(r.key, { secretId: v })}
            options={secretOptions}
          />
          <button
            type="button"
            className="btn btn-ghost btn-small"
            onClick={() => onChange(rows.filter((x) => x.key !== r.key))}
          >
            Remove
            <span className="sr-only">
              {' '}
              {kind} {i + 1}
            </span>
          </button>
        </div>
      ))}
      <button
        type="button"
        className="btn btn-secondary btn-small"
        disabled={rows.length >= 50}
        onClick={() => {
          onChange([...rows, { key: nextKey.current, name: '', secretId: '' }]);
          nextKey.current += 1;
        }}
      >
        Add {kind}
      </button>
    </fieldset>
  );
}

/** What the secret rows editor says for each transport. */
const HEADER_ROWS = {
  kind: 'header',
  legend: 'Secret headers',
  hint: 'Each request to the server carries these headers, each set from a vault secret (e.g. Authorization ← a secret “Bearer …”); the value never shows here.',
  placeholder: 'e.g. Authorization',
} as const;
const VARIABLE_ROWS = {
  kind: 'variable',
  legend: 'Environment variables',
  hint: 'Each is set from a vault secret when the server starts; the value never shows here.',
  placeholder: 'e.g. GITHUB_TOKEN',
} as const;

/** An http(s) URL as the server takes it (no credentials in it), or null. */
function parseServerUrl(text: string): URL | null {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.username || url.password) return null;
  return url;
}

/** The host:port the egress proxy is asked for, compared as the proxy compares it. */
function egressTarget(url: URL): EgressRule {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { host, port };
}

function showTarget(r: EgressRule): string {
  return r.host.includes(':') ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`;
}

/** Remote servers are reached only through the org's egress proxy: their host:port must be allowed. */
function EgressNote({
  slug,
  url,
  allowlist,
}: {
  slug: string;
  url: string;
  allowlist: readonly EgressRule[];
}) {
  const parsed = parseServerUrl(url);
  const target = parsed ? egressTarget(parsed) : null;
  const listed = target ? allowlist.some((r) => r.host === target.host && r.port === target.port) : false;
  return (
    <div
      className={`alert ${target && !listed ? 'alert-warning' : 'alert-info'} form-wide`}
      data-testid="egress-note"
    >
      Remote servers are reached only through the organization’s egress proxy, so the URL’s host:port must be
      on its egress allowlist (Org settings → <code>egressAllowlist</code>, edited on the{' '}
      <Link to={`/orgs/${encodeURIComponent(slug)}/cell`}>Cell</Link> page).
      {target ? (
        listed ? (
          <>
            {' '}
            <code>{showTarget(target)}</code> is on it.
          </>
        ) : (
          <>
            {' '}
            <strong>
              <code>{showTarget(target)}</code> is not on it yet
            </strong>
            : add it there, or listing this server’s tools fails.
          </>
        )
      ) : null}
    </div>
  );
}

function TransportChoice({
  value,
  onChange,
}: {
  value: ConnectionTransport;
  onChange: (v: ConnectionTransport) => void;
}) {
  const id = useId();
  const choices: ConnectionTransport[] = ['stdio', 'http', 'builtin'];
  return (
    <fieldset className="field transport-toggle" aria-describedby={`${id}-hint`}>
      <legend>Transport</legend>
      <div className="segmented">
        {choices.map((t) => (
          <span key={t}>
            <input
              type="radio"
              id={`${id}-${t}`}
              name={`${id}-transport`}
              value={t}
              checked={value === t}
              onChange={() => onChange(t)}
            />
            <label htmlFor={`${id}-${t}`}>{TRANSPORT_LABELS[t]}</label>
          </span>
        ))}
      </div>
      <p className="hint" id={`${id}-hint`}>
        {value === 'stdio'
          ? 'A server package or a command Paddock runs inside the organization’s sandbox.'
          : value === 'http'
            ? 'An MCP server elsewhere, over Streamable HTTP.'
            : 'Memory: each agent keeps notes across runs (remember, recall, forget), granted like any tool.'}
      </p>
    </fieldset>
  );
}

function AddConnection({
  slug,
  secrets,
  allowlist,
  packages,
  onAdded,
}: {
  slug: string;
  secrets: Secret[];
  allowlist: readonly EgressRule[];
  packages: ServerPackage[];
  onAdded: (c: Connection) => Promise<void>;
}) {
  const [name, setName] = useState('');
  const [transport, setTransport] = useState<ConnectionTransport>('stdio');
  const [runs, setRuns] = useState<'package' | 'command'>('package');
  const [pkg, setPkg] = useState('');
  const [bin, setBin] = useState('');
  const [command, setCommand] = useState('');
  const [args, setArgs] = useState('');
  const [env, setEnv] = useState<SecretRow[]>([]);
  const [url, setUrl] = useState('');
  const [headers, setHeaders] = useState<SecretRow[]>([]);
  const [isPrivate, setPrivate] = useState(false);
  const { busy, error, setError, run } = useAction();
  const http = transport === 'http';
  const builtin = transport === 'builtin';
  const byPackage = runs === 'package' && packages.length > 0;
  const chosenPackage = pkg || packages[0]?.id || '';

  return (
    <AddForm
      title="Add a connection"
      busy={busy}
      error={error}
      submitLabel="Add connection"
      busyLabel="Adding…"
      submit={() => {
        const named = http ? secretMap(headers, 'header') : secretMap(env, 'variable');
        if (typeof named === 'string') {
          setError(named);
          return;
        }
        if (http && !parseServerUrl(url)) {
          setError('The URL is an http(s) address of the server’s MCP endpoint, without credentials in it.');
          return;
        }
        const common = { name: name.trim(), ...(isPrivate ? { private: true } : {}) };
        void run(async () => {
          const made = await api.createConnection(
            slug,
            builtin
              ? { ...common, transport: 'builtin', server: 'memory' }
              : http
                ? { ...common, transport: 'http', url: url.trim(), headers: named }
                : {
                    ...common,
                    transport: 'stdio',
                    ...(byPackage
                      ? { package: chosenPackage, ...(bin.trim() ? { bin: bin.trim() } : {}) }
                      : { command: command.trim() }),
                    args: args.split('\n').filter((a) => a.trim() !== ''),
                    env: named,
                  },
          );
          setName('');
          setCommand('');
          setBin('');
          setArgs('');
          setEnv([]);
          setUrl('');
          setHeaders([]);
          setPrivate(false);
          await onAdded(made);
        });
      }}
    >
      <NameField value={name} onChange={setName} placeholder="e.g. GitHub" autoComplete="off" />
      <TransportChoice value={transport} onChange={setTransport} />
      {builtin ? null : http ? (
        <>
          <TextField
            label="URL"
            type="url"
            value={url}
            required
            maxLength={2000}
            onChange={setUrl}
            placeholder="https://mcp.example.com/mcp"
            autoComplete="off"
            spellCheck={false}
            hint="The server’s Streamable HTTP endpoint."
          />
          <EgressNote slug={slug} url={url} allowlist={allowlist} />
        </>
      ) : (
        <>
          <SelectField
            label="Runs"
            value={byPackage ? 'package' : 'command'}
            onChange={setRuns}
            options={[
              { value: 'package', label: 'An installed server package' },
              { value: 'command', label: 'A command' },
            ]}
            hint={
              packages.length === 0
                ? 'No server package is installed yet: install one under Server packages below, or run a command.'
                : undefined
            }
          />
          {byPackage ? (
            <>
              <SelectField
                label="Package"
                value={chosenPackage}
                onChange={setPkg}
                options={packages.map((p) => ({ value: p.id, label: p.id }))}
                hint="Pinned to this version; run another version later with Switch version."
              />
              <TextField
                label="Program"
                value={bin}
                maxLength={200}
                onChange={setBin}
                placeholder="(its only one)"
                autoComplete="off"
                spellCheck={false}
                hint="Which of the package’s programs (“bin”) to run, if it has several."
              />
            </>
          ) : (
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
          )}
          <TextAreaField
            label="Arguments"
            value={args}
            onChange={setArgs}
            code
            rows={3}
            spellCheck={false}
            placeholder={byPackage ? '--read-only' : '/opt/mcp/server.js\n--read-only'}
            hint="One argument per line, passed as is (no shell)."
          />
        </>
      )}
      {/* One editor for the transport's names: a remote server's headers, a local one's variables. */}
      {builtin ? null : (
        <SecretRowsEditor
          {...(http ? HEADER_ROWS : VARIABLE_ROWS)}
          rows={http ? headers : env}
          onChange={http ? setHeaders : setEnv}
          secrets={secrets}
        />
      )}
      <CheckboxField
        label="Private"
        checked={isPrivate}
        onChange={setPrivate}
        hint="Only for you (and the organization’s owners, admins and auditors), not everyone."
      />
    </AddForm>
  );
}
