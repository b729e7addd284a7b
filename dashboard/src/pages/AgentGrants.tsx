/**
 * An agent's grants, on its page: the only tools it may call, prompts it may get and resources it
 * may read (default deny). The grants with their status and a revoke step, a form for a new one (a
 * connection's tool or all of its tools, a prompt or all of them, resources by URI or prefix, or
 * what its server may ask of the agent — sampling, elicitation; allow or deny, argument
 * constraints, approval, a time window), and what the grants add up to,
 * tool by tool and prompt by prompt. Owners and admins change grants; everyone who sees the agent
 * reads them.
 */
import { useState } from 'react';
import {
  type Access,
  type Agent,
  type AskPermission,
  api,
  type Connection,
  type Constraint,
  type Grant,
  type GrantStatus,
  type OrgWithRole,
  type PromptPermission,
  type ResourcePermission,
  type Tool,
  type ToolPermission,
} from '../api/index.ts';
import { useAction, useListAction, useLoad } from '../data/index.ts';
import { Link } from '../router.tsx';
import {
  Alert,
  CheckboxField,
  ConfirmButton,
  DataTable,
  Digest,
  formatDate,
  formatUnix,
  Loading,
  Notice,
  onSubmit,
  Section,
  SelectField,
  TextField,
} from '../ui/index.ts';
import { describe } from './constraint-words.ts';
import { GrantSuggestions } from './GrantSuggestions.tsx';

const STATUS_LABEL: Record<GrantStatus, string> = {
  active: 'Active',
  suspended: 'Suspended',
  revoked: 'Revoked',
};

const ACCESS_LABEL: Record<Access, string> = {
  allowed: 'Allowed',
  conditional: 'Conditional',
  denied: 'Denied',
};

/** What a server may ask of the agent, each its own grant kind: what it is, in words a person can act on. */
const SERVER_ASKS = {
  sampling: {
    option: 'Sampling (its server asks the model)',
    subject: 'Its server may ask the agent’s model (sampling)',
    hint: 'The connection’s server may ask the agent’s model for a completion (sampling/createMessage) while one of the agent’s calls to it runs. The request goes to the agent’s MCP client, which answers with its model; each is decided and recorded (sizes, never the text). Without this grant it is refused.',
  },
  elicitation: {
    option: 'Elicitation (its server asks the person)',
    subject: 'Its server may ask the agent’s person (elicitation)',
    hint: 'The connection’s server may ask the person using the agent a question (elicitation/create) while one of the agent’s calls to it runs; the agent’s MCP client shows it, and the person answers or declines. Each is decided and recorded (sizes, never the text). Without this grant it is refused.',
  },
} as const;
type ServerAsk = keyof typeof SERVER_ASKS;
const isServerAsk = (k: string): k is ServerAsk => k === 'sampling' || k === 'elicitation';

/** What a grant is of, in words. */
function GrantSubject({ g }: { g: Grant }) {
  if (g.kind === 'sampling' || g.kind === 'elicitation') return <span>{SERVER_ASKS[g.kind].subject}</span>;
  if (g.kind === 'prompt')
    return g.prompt === '*' ? (
      <span>All prompts</span>
    ) : (
      <span>
        Prompt <code>{g.prompt}</code>
      </span>
    );
  if (g.kind === 'resource')
    return g.match === 'prefix' ? (
      <span>
        Resources under <code>{g.resource || '(any URI)'}</code>
      </span>
    ) : (
      <span>
        Resource <code>{g.resource}</code>
      </span>
    );
  return g.tool === '*' ? <span>All tools</span> : <code>{g.tool}</code>;
}

function grantConditions(g: Grant): string[] {
  const out = g.constraints.map(describe);
  if (g.notBefore !== undefined) out.push(`from ${formatUnix(g.notBefore)}`);
  if (g.notAfter !== undefined) out.push(`until ${formatUnix(g.notAfter)}`);
  if (g.requiresApproval) out.push('with a person’s approval');
  return out;
}

export function AgentGrants({
  org,
  agent,
  manage,
}: {
  org: OrgWithRole;
  agent: Agent;
  /** Owners and admins: add and revoke grants. */
  manage: boolean;
}) {
  const key = `${org.slug}/${agent.id}`;
  const grants = useLoad(() => api.grants(org.slug, agent.id), key);
  const permissions = useLoad(() => api.permissions(org.slug, agent.id), key);
  const connections = useLoad(() => api.connections(org.slug), org.slug);
  const revoke = useListAction();
  const reload = () => Promise.all([grants.reload(), permissions.reload()]);
  const changed = async (message: string) => {
    revoke.setNotice(message);
    await reload();
  };
  const connectionName = (id: string) => connections.data?.find((c) => c.id === id)?.name ?? id;

  return (
    <>
      <Section title="Grants">
        <p className="hint">
          {agent.name} may call only the tools its grants allow, get only those prompts and read only those
          resources, and a connection’s server may ask its model or its person only where a sampling or
          elicitation grant allows it; everything else is denied. A deny grant wins over any allow.
        </p>
        <Alert message={revoke.error ?? grants.error ?? connections.error} />
        <Notice message={revoke.notice} />
        {!grants.data ? (
          <Loading what="grants" />
        ) : grants.data.length === 0 ? (
          <p className="empty">No grants: {agent.name} may call no tool.</p>
        ) : (
          <DataTable
            headers={['Connection', 'Grant of', 'Effect', 'Conditions', 'Status', 'Created']}
            actions={manage}
            label="Grants"
          >
            {grants.data.map((g) => {
              const conditions = grantConditions(g);
              return (
                <tr
                  key={g.id}
                  data-testid="grant-row"
                  className={g.status === 'active' ? undefined : 'row-inactive'}
                >
                  <td className="nowrap">{connectionName(g.connectionId)}</td>
                  <td>
                    <GrantSubject g={g} />
                    {g.toolDigest ? (
                      <div className="sub">
                        pinned to <Digest value={g.toolDigest} />
                      </div>
                    ) : null}
                  </td>
                  <td>
                    <span className={`status effect-${g.effect}`}>
                      {g.effect === 'allow' ? 'Allow' : 'Deny'}
                    </span>
                  </td>
                  <td>
                    {conditions.length === 0 ? (
                      <span className="muted">None</span>
                    ) : (
                      <ul className="plain-list">
                        {conditions.map((c) => (
                          <li key={c}>{c}</li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td>
                    <span className={`status status-${g.status}`} data-testid="grant-status">
                      {STATUS_LABEL[g.status] ?? g.status}
                    </span>
                    {g.status === 'suspended' ? (
                      <div className="sub">
                        the {g.kind === 'prompt' ? 'prompt' : 'tool'} changed; grant it again
                      </div>
                    ) : null}
                    {g.revokedAt ? <div className="sub">{formatDate(g.revokedAt)}</div> : null}
                  </td>
                  <td className="nowrap">{formatDate(g.createdAt)}</td>
                  {manage ? (
                    <td className="col-actions">
                      {g.status === 'revoked' ? null : (
                        <ConfirmButton
                          label="Revoke"
                          confirmLabel="Yes, revoke"
                          question="Revoke this grant?"
                          onConfirm={() =>
                            revoke.act(async () => {
                              await api.revokeGrant(org.slug, agent.id, g.id);
                              return 'Grant revoked.';
                            }, reload)
                          }
                        />
                      )}
                    </td>
                  ) : null}
                </tr>
              );
            })}
          </DataTable>
        )}
        {manage ? (
          <GrantSuggestions
            slug={org.slug}
            agent={agent}
            connectionName={connectionName}
            onAccepted={reload}
          />
        ) : null}
        {manage && connections.data ? (
          <AddGrant
            slug={org.slug}
            agent={agent}
            connections={connections.data}
            onAdded={() => changed('Grant added.')}
          />
        ) : null}
      </Section>
      <Section title="Effective permissions">
        <p className="hint" data-testid="default-deny">
          What the active grants add up to, tool by tool. Every tool not listed here is denied: Paddock denies
          by default.
        </p>
        <Alert message={permissions.error} />
        {!permissions.data ? (
          <Loading what="permissions" />
        ) : permissions.data.tools.length === 0 ? (
          <p className="empty">No tool is granted: {agent.name} may call nothing.</p>
        ) : (
          <PermissionTable tools={permissions.data.tools} />
        )}
        {permissions.data?.prompts.length ? <PromptTable prompts={permissions.data.prompts} /> : null}
        {permissions.data?.resources.length ? <ResourceTable resources={permissions.data.resources} /> : null}
        {permissions.data?.asks.length ? <AskTable asks={permissions.data.asks} /> : null}
      </Section>
    </>
  );
}

function PermissionTable({ tools }: { tools: ToolPermission[] }) {
  return (
    <DataTable
      headers={['Tool', 'Connection', 'Access', 'Approval', 'Conditions']}
      label="Effective permissions"
    >
      {tools.map((t) => (
        <tr
          key={`${t.connectionId}/${t.tool.name}`}
          data-testid="permission-row"
          className={t.access === 'denied' ? 'row-inactive' : undefined}
        >
          <td>
            <code>{t.tool.name}</code>
            <div className="sub">
              as <code>{`${t.namespace}__${t.tool.name}`}</code>
            </div>
          </td>
          <td className="nowrap">{t.connectionName}</td>
          <td>
            <span className={`status access-${t.access}`}>{ACCESS_LABEL[t.access] ?? t.access}</span>
          </td>
          <td className="nowrap">{t.needsApproval ? 'Every call' : <span className="muted">No</span>}</td>
          <td>
            {t.conditions.length === 0 ? (
              <span className="muted">None</span>
            ) : (
              <ul className="plain-list">
                {t.conditions.map((c) => (
                  <li key={c}>{c}</li>
                ))}
              </ul>
            )}
            {t.suspended.length ? (
              <div className="sub warning-text">
                {t.suspended.length} grant{t.suspended.length === 1 ? '' : 's'} suspended: the tool changed
              </div>
            ) : null}
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

function Conditions({ p }: { p: Pick<ToolPermission, 'conditions'> }) {
  return p.conditions.length === 0 ? (
    <span className="muted">None</span>
  ) : (
    <ul className="plain-list">
      {p.conditions.map((c) => (
        <li key={c}>{c}</li>
      ))}
    </ul>
  );
}

function PromptTable({ prompts }: { prompts: PromptPermission[] }) {
  return (
    <DataTable headers={['Prompt', 'Connection', 'Access', 'Approval', 'Conditions']} label="Prompts">
      {prompts.map((p) => (
        <tr
          key={`${p.connectionId}/${p.prompt.name}`}
          data-testid="prompt-permission-row"
          className={p.access === 'denied' ? 'row-inactive' : undefined}
        >
          <td>
            <code>{p.prompt.name}</code>
            <div className="sub">
              as <code>{`${p.namespace}__${p.prompt.name}`}</code>
            </div>
          </td>
          <td className="nowrap">{p.connectionName}</td>
          <td>
            <span className={`status access-${p.access}`}>{ACCESS_LABEL[p.access] ?? p.access}</span>
          </td>
          <td className="nowrap">{p.needsApproval ? 'Every get' : <span className="muted">No</span>}</td>
          <td>
            <Conditions p={p} />
            {p.suspended.length ? (
              <div className="sub warning-text">grant suspended: the prompt changed</div>
            ) : null}
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

function ResourceTable({ resources }: { resources: ResourcePermission[] }) {
  return (
    <DataTable headers={['Resources', 'Connection', 'Access', 'Approval', 'Conditions']} label="Resources">
      {resources.map((r) => (
        <tr
          key={r.grants[0]}
          data-testid="resource-permission-row"
          className={r.access === 'denied' ? 'row-inactive' : undefined}
        >
          <td>
            {r.match === 'prefix' ? 'URIs starting with ' : 'The URI '}
            <code>{r.uri || '(any)'}</code>
            <div className="sub">
              as <code>{`${r.namespace}+${r.uri}${r.match === 'prefix' ? '…' : ''}`}</code>
            </div>
          </td>
          <td className="nowrap">{r.connectionName}</td>
          <td>
            <span className={`status access-${r.access}`}>
              {r.effect === 'deny' ? 'Denied (deny grant)' : (ACCESS_LABEL[r.access] ?? r.access)}
            </span>
          </td>
          <td className="nowrap">{r.needsApproval ? 'Every read' : <span className="muted">No</span>}</td>
          <td>
            <Conditions p={r} />
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

/** What each connection's server may ask of the agent, as the active sampling and elicitation grants add up. */
function AskTable({ asks }: { asks: AskPermission[] }) {
  return (
    <DataTable
      headers={['Its server may ask', 'Connection', 'Access', 'Conditions']}
      label="What servers may ask"
    >
      {asks.map((a) => (
        <tr
          key={`${a.connectionId}/${a.ask}`}
          data-testid="ask-permission-row"
          className={a.access === 'denied' ? 'row-inactive' : undefined}
        >
          <td>
            {a.ask === 'sampling' ? 'The agent’s model (sampling)' : 'The agent’s person (elicitation)'}
          </td>
          <td className="nowrap">{a.connectionName}</td>
          <td>
            <span className={`status access-${a.access}`}>{ACCESS_LABEL[a.access] ?? a.access}</span>
          </td>
          <td>
            <Conditions p={a} />
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

// ---------- A new grant ----------

/** What a constraint checks: the key beside `arg` in each constraint shape the server takes. */
type Kind = Constraint extends infer C ? (C extends unknown ? Exclude<keyof C, 'arg'> : never) : never;
const KIND_OPTIONS: { value: Kind; label: string }[] = [
  { value: 'prefix', label: 'starts with' },
  { value: 'oneOf', label: 'is one of (comma-separated)' },
  { value: 'max', label: 'at most' },
  { value: 'min', label: 'at least' },
];

interface ConstraintRow {
  key: number;
  arg: string;
  kind: Kind;
  value: string;
}

/** A prompt's arguments as a tool's input schema (they are all text), for the constraint rows. */
function promptAsTool(name: string, definition: Record<string, unknown>): ToolArgs {
  const declared = (definition.arguments ?? []) as Array<{ name: string }>;
  return {
    name,
    inputSchema: {
      type: 'object',
      properties: Object.fromEntries(declared.map((a) => [a.name, { type: 'string' }])),
    },
  };
}

/** What the constraint rows need of a tool (or a prompt). */
type ToolArgs = Pick<Tool, 'name' | 'inputSchema'>;

/** A tool's arguments and their JSON Schema types, from its inputSchema. */
function argumentsOf(tool: ToolArgs | undefined): { name: string; type: string }[] {
  const props = tool?.inputSchema.properties;
  if (!props || typeof props !== 'object') return [];
  return Object.entries(props as Record<string, { type?: unknown }>).map(([name, p]) => ({
    name,
    type: typeof p?.type === 'string' ? p.type : 'any',
  }));
}

function toConstraint(r: ConstraintRow): Constraint | string {
  if (!r.arg) return 'Choose the argument of each constraint.';
  if (r.kind === 'prefix') return { arg: r.arg, prefix: r.value };
  if (r.kind === 'oneOf') {
    const oneOf = r.value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
    return oneOf.length ? { arg: r.arg, oneOf } : `List at least one value for ${r.arg}.`;
  }
  const n = Number(r.value);
  if (r.value.trim() === '' || !Number.isFinite(n)) return `${r.arg}: a number.`;
  return r.kind === 'max' ? { arg: r.arg, max: n } : { arg: r.arg, min: n };
}

/** A datetime-local value as Unix seconds; blank is undefined. */
function unixSeconds(local: string): number | undefined | null {
  if (!local) return undefined;
  const ms = Date.parse(local);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}

function AddGrant({
  slug,
  agent,
  connections,
  onAdded,
}: {
  slug: string;
  agent: Agent;
  connections: Connection[];
  onAdded: () => Promise<void>;
}) {
  const [connectionId, setConnectionId] = useState(connections[0]?.id ?? '');
  const [kind, setKind] = useState<'tool' | 'prompt' | 'resource' | ServerAsk>('tool');
  const [tool, setTool] = useState('');
  const [uri, setUri] = useState('');
  const [match, setMatch] = useState<'exact' | 'prefix'>('prefix');
  const [effect, setEffect] = useState<'allow' | 'deny'>('allow');
  const [rows, setRows] = useState<ConstraintRow[]>([]);
  const [nextKey, setNextKey] = useState(1);
  const [approval, setApproval] = useState(false);
  const [notBefore, setNotBefore] = useState('');
  const [notAfter, setNotAfter] = useState('');
  const { busy, error, setError, run } = useAction();
  const tools = useLoad(
    async () => (connectionId ? api.connectionTools(slug, connectionId) : []),
    `${slug}/${connectionId}`,
  );
  const offerings = useLoad(
    async () => (connectionId && kind === 'prompt' ? api.connectionOfferings(slug, connectionId) : []),
    `${slug}/${connectionId}/${kind}`,
  );
  const prompts = (offerings.data ?? []).filter((o) => o.kind === 'prompt');
  const chosenPrompt = prompts.find((p) => p.key === tool);
  const chosen: ToolArgs | undefined =
    kind === 'tool'
      ? tools.data?.find((t) => t.name === tool)
      : chosenPrompt
        ? promptAsTool(chosenPrompt.key, chosenPrompt.definition)
        : undefined;
  const args = argumentsOf(chosen);

  if (connections.length === 0) {
    return (
      <p className="empty">
        No connections to grant tools of yet: add one on the{' '}
        <Link to={`/orgs/${encodeURIComponent(slug)}/connections`}>Connections</Link> page.
      </p>
    );
  }

  const toolOptions = [
    { value: '', label: tools.data ? 'Choose a tool' : 'Loading tools…' },
    { value: '*', label: 'All tools of the connection (*)' },
    ...(tools.data ?? []).map((t) => ({ value: t.name, label: t.name })),
  ];
  const promptOptions = [
    { value: '', label: offerings.data ? 'Choose a prompt' : 'Loading prompts…' },
    { value: '*', label: 'All prompts of the connection (*)' },
    ...prompts.map((p) => ({ value: p.key, label: p.key })),
  ];
  const changeRow = (key: number, patch: Partial<ConstraintRow>) =>
    setRows((rs) => rs.map((r) => (r.key === key ? { ...r, ...patch } : r)));

  return (
    <form
      className="grant-form"
      aria-label="Add a grant"
      onSubmit={onSubmit(() => {
        if ((kind === 'tool' || kind === 'prompt') && !tool) {
          setError(`Choose a ${kind}, or all ${kind}s of the connection.`);
          return;
        }
        if (kind === 'resource' && !uri && match === 'exact') {
          setError('Enter the resource’s URI (or, as a prefix, the start of the URIs).');
          return;
        }
        const constraints: Constraint[] = [];
        for (const r of tool === '*' || (kind !== 'tool' && kind !== 'prompt') ? [] : rows) {
          const c = toConstraint(r);
          if (typeof c === 'string') {
            setError(c);
            return;
          }
          constraints.push(c);
        }
        const from = unixSeconds(notBefore);
        const until = unixSeconds(notAfter);
        if (from === null || until === null) {
          setError('Enter the times as a date and a time.');
          return;
        }
        void run(async () => {
          await api.createGrant(slug, agent.id, {
            connectionId,
            ...(kind === 'tool'
              ? { tool }
              : kind === 'prompt'
                ? { prompt: tool }
                : kind === 'resource'
                  ? { resource: uri, match }
                  : { [kind]: true as const }),
            effect,
            constraints,
            // What a server asks is allowed or denied, never held for approval (the server waits on it).
            requiresApproval: isServerAsk(kind) ? false : approval,
            ...(from === undefined ? {} : { notBefore: from }),
            ...(until === undefined ? {} : { notAfter: until }),
          });
          setTool('');
          setUri('');
          setRows([]);
          setApproval(false);
          setNotBefore('');
          setNotAfter('');
          await onAdded();
        });
      })}
    >
      <h3>Add a grant</h3>
      <Alert message={error ?? tools.error ?? offerings.error} />
      <div className="form-grid">
        <SelectField
          label="Connection"
          value={connectionId}
          onChange={(v) => {
            setConnectionId(v);
            setTool('');
            setRows([]);
          }}
          options={connections.map((c) => ({ value: c.id, label: c.name }))}
        />
        <SelectField
          label="Grant of"
          value={kind}
          onChange={(v) => {
            setKind(v);
            setTool('');
            setRows([]);
          }}
          options={[
            { value: 'tool', label: 'A tool' },
            { value: 'prompt', label: 'A prompt' },
            { value: 'resource', label: 'Resources (by URI)' },
            { value: 'sampling', label: SERVER_ASKS.sampling.option },
            { value: 'elicitation', label: SERVER_ASKS.elicitation.option },
          ]}
        />
        {kind === 'tool' ? (
          <SelectField
            label="Tool"
            value={tool}
            onChange={(v) => {
              setTool(v);
              setRows([]);
            }}
            options={toolOptions}
            hint={
              tool === '*'
                ? 'Every tool of the connection, also ones it adds later; no argument constraints.'
                : tools.data && tools.data.length === 0
                  ? 'No tools stored for this connection: list its tools on the Connections page to grant one.'
                  : undefined
            }
          />
        ) : kind === 'prompt' ? (
          <SelectField
            label="Prompt"
            value={tool}
            onChange={(v) => {
              setTool(v);
              setRows([]);
            }}
            options={promptOptions}
            hint={
              tool === '*'
                ? 'Every prompt of the connection, also ones it adds later; no argument constraints.'
                : offerings.data && prompts.length === 0
                  ? 'No prompts stored for this connection: list its tools on the Connections page first.'
                  : 'Getting it, and completing its arguments.'
            }
          />
        ) : kind === 'resource' ? (
          <>
            <TextField
              label="Resource URI"
              value={uri}
              onChange={setUri}
              autoComplete="off"
              spellCheck={false}
              hint="As the server names it (without the connection's prefix), e.g. file:///srv/docs/."
            />
            <SelectField
              label="Match"
              value={match}
              onChange={setMatch}
              options={[
                { value: 'prefix', label: 'Every URI starting with it (no "..")' },
                { value: 'exact', label: 'This URI exactly' },
              ]}
              hint="Reading them, and completing the templates under the prefix."
            />
          </>
        ) : (
          <p className="hint form-wide" data-testid="grant-ask-hint">
            {SERVER_ASKS[kind].hint}
          </p>
        )}
        <SelectField
          label="Effect"
          value={effect}
          onChange={setEffect}
          options={[
            { value: 'allow', label: 'Allow' },
            { value: 'deny', label: 'Deny (never, whatever else allows it)' },
          ]}
        />
        <TextField
          label="Not before (optional)"
          type="datetime-local"
          value={notBefore}
          onChange={setNotBefore}
        />
        <TextField
          label="Not after (optional)"
          type="datetime-local"
          value={notAfter}
          onChange={setNotAfter}
        />
        {isServerAsk(kind) ? null : (
          <CheckboxField
            label="Requires approval"
            checked={approval}
            onChange={setApproval}
            hint="Each call waits for an owner or admin to approve it, once, in Approvals."
          />
        )}
      </div>
      {chosen && (kind === 'tool' || kind === 'prompt') ? (
        <fieldset className="constraint-rows">
          <legend>Argument constraints</legend>
          {args.length === 0 ? (
            <p className="hint">{chosen.name} takes no arguments to constrain.</p>
          ) : (
            <p className="hint">
              The call is granted only when every constraint holds. Text: starts with, is one of; whole
              numbers: at most, at least.
            </p>
          )}
          {rows.map((r, i) => (
            <div key={r.key} className="constraint-row" data-testid="constraint-row">
              <SelectField
                label={`Argument ${i + 1}`}
                value={r.arg}
                onChange={(v) => changeRow(r.key, { arg: v })}
                options={[
                  { value: '', label: 'Choose an argument' },
                  ...args.map((a) => ({ value: a.name, label: `${a.name} (${a.type})` })),
                ]}
              />
              <SelectField
                label={`Check ${i + 1}`}
                value={r.kind}
                onChange={(v) => changeRow(r.key, { kind: v })}
                options={KIND_OPTIONS}
              />
              <TextField
                label={`Value ${i + 1}`}
                value={r.value}
                onChange={(v) => changeRow(r.key, { value: v })}
                type={r.kind === 'max' || r.kind === 'min' ? 'number' : 'text'}
                step={1}
                autoComplete="off"
                spellCheck={false}
              />
              <button
                type="button"
                className="btn btn-ghost btn-small"
                onClick={() => setRows((rs) => rs.filter((x) => x.key !== r.key))}
              >
                Remove<span className="sr-only"> constraint {i + 1}</span>
              </button>
            </div>
          ))}
          {args.length ? (
            <button
              type="button"
              className="btn btn-secondary btn-small"
              disabled={rows.length >= 20}
              onClick={() => {
                const first = args[0];
                setRows((rs) => [
                  ...rs,
                  {
                    key: nextKey,
                    arg: first?.name ?? '',
                    kind: first?.type === 'integer' ? 'max' : 'prefix',
                    value: '',
                  },
                ]);
                setNextKey((k) => k + 1);
              }}
            >
              Add constraint
            </button>
          ) : null}
        </fieldset>
      ) : null}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy || !connectionId}>
          {busy ? 'Adding…' : 'Add grant'}
        </button>
      </div>
    </form>
  );
}
