/**
 * `/orgs/{slug}/agents/{id}`: one agent. Its settings (and the form to change them), the kill
 * switch, its grants and effective permissions (AgentGrants.tsx), its tokens for the MCP endpoint
 * (shown once), its feedback and memory (AgentMemory.tsx), its version history with a
 * field-by-field diff of each change, and deletion.
 * Read-only for auditors and for members who do not own it; only owners and admins change grants.
 */
import { type ReactNode, useState } from 'react';
import { type Agent, type AgentVersion, api, canManage, type OrgWithRole } from '../api/index.ts';
import { useAction, useLiveReload, useLoad } from '../data/index.ts';
import type { PageProps } from '../page.ts';
import { Link, navigate } from '../router.tsx';
import {
  Alert,
  ConfirmButton,
  CopyButton,
  formatDate,
  formatTime,
  KillSwitchPanel,
  Loading,
  Notice,
  onSubmit,
  Section,
  TextField,
  TokenStateBadge,
  tokenState,
} from '../ui/index.ts';
import { AgentFeedback } from './AgentFeedback.tsx';
import {
  AgentForm,
  type AgentRefs,
  AgentStateBadge,
  canChangeAgent,
  personName,
  SCOPE_LABEL,
  scopeText,
  secretName,
  teamName,
  useAgentRefs,
} from './AgentForm.tsx';
import { AgentGrants } from './AgentGrants.tsx';
import { AgentMemory } from './AgentMemory.tsx';
import { McpClientSetup } from './McpClients.tsx';
import { agentPath, chatPath, runsOfAgent } from './paths.ts';
import { TestCall } from './TestCall.tsx';

export function AgentDetail({ org, me, id }: PageProps & { id: string }) {
  const agent = useLoad(() => api.agent(org.slug, id), `${org.slug}/${id}`);
  const versions = useLoad(() => api.agentVersions(org.slug, id), `${org.slug}/${id}`);
  const refs = useAgentRefs(org);
  const [editing, setEditing] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  // Stopped or resumed elsewhere (another tab, another person): shown without a reload.
  useLiveReload(['agents'], agent.reload);

  const back = (
    <p className="back-link">
      <Link to={agentPath(org.slug)}>← All agents</Link>
    </p>
  );
  if (!agent.data) {
    return (
      <>
        {back}
        {agent.error ? <Alert message={agent.error} /> : <Loading what="the agent" />}
      </>
    );
  }

  const a = agent.data;
  const write = canChangeAgent(org.role, me.id, a);
  const changed = async (message: string | null) => {
    setNotice(message);
    await Promise.all([agent.reload(), versions.reload()]);
  };

  return (
    <>
      {back}
      <header className="page-header agent-header">
        <div className="agent-title">
          <h1>{a.name}</h1>
          <AgentStateBadge state={a.state} testId="agent-state" />
          <span className="tag tag-flush" data-testid="agent-current-version">
            Version {a.version}
          </span>
          <span className="agent-title-actions">
            <Link to={chatPath(org.slug, a.id)} className="btn btn-primary btn-small">
              Chat<span className="sr-only"> with {a.name}</span>
            </Link>
            <Link to={runsOfAgent(org.slug, a.id)} className="btn btn-secondary btn-small">
              Runs<span className="sr-only"> of {a.name}</span>
            </Link>
          </span>
        </div>
        {a.description ? <p className="page-lead">{a.description}</p> : null}
      </header>
      <Alert message={refs.error} />
      {write ? null : (
        <p className="alert alert-info">
          Read-only: only the agent’s owner or an organization owner or admin can change it.
        </p>
      )}
      {org.agentsStoppedAt ? (
        <p className="alert alert-error" data-testid="org-stopped-note">
          Every agent of {org.name} is stopped (the organization-wide kill switch, since{' '}
          {formatTime(org.agentsStoppedAt)}): no tool call of {a.name} runs until an owner or admin resumes
          all agents on the <Link to={agentPath(org.slug)}>Agents</Link> page.
        </p>
      ) : null}
      <KillSwitch slug={org.slug} agent={a} write={write} onChange={changed} />

      <Section
        title="Settings"
        actions={
          write && !editing ? (
            <button
              type="button"
              className="btn btn-secondary btn-small"
              onClick={() => {
                setNotice(null);
                setEditing(true);
              }}
            >
              Edit<span className="sr-only"> {a.name}</span>
            </button>
          ) : null
        }
      >
        <Notice message={notice} />
        {editing ? (
          <AgentForm
            key={a.version}
            org={org}
            meId={me.id}
            refs={refs}
            agent={a}
            onSaved={async (saved) => {
              setEditing(false);
              await changed(`Saved as version ${saved.version}.`);
            }}
            onCancel={() => setEditing(false)}
          />
        ) : (
          <AgentFacts agent={a} refs={refs} meId={me.id} />
        )}
      </Section>

      <AgentGrants org={org} agent={a} manage={canManage(org.role)} />

      {canManage(org.role) ? <TestCall slug={org.slug} agent={a} /> : null}
      <AgentFeedback org={org} agent={a} resolve={canManage(org.role)} />
      <AgentMemory org={org} agent={a} meId={me.id} write={write} />

      <AgentTokens org={org} agent={a} write={write} refs={refs} meId={me.id} />

      <Section title="Versions">
        <p className="hint">Every change of the settings is a new version; newest first.</p>
        <Alert message={versions.error} />
        {!versions.data ? (
          <Loading what="versions" />
        ) : (
          <VersionList versions={versions.data} refs={refs} meId={me.id} />
        )}
      </Section>

      {write ? <DeleteAgent slug={org.slug} agent={a} /> : null}
    </>
  );
}

/** Stop (with a confirm step) and resume. Everyone sees that a stopped agent is stopped. */
function KillSwitch({
  slug,
  agent,
  write,
  onChange,
}: {
  slug: string;
  agent: Agent;
  write: boolean;
  onChange: (notice: string | null) => Promise<void>;
}) {
  const stopped = agent.state === 'stopped';
  return (
    <KillSwitchPanel
      stopped={stopped}
      title={stopped ? 'This agent is stopped' : 'Kill switch'}
      write={write}
      labels={{
        stop: 'Stop agent',
        question: `Stop ${agent.name} now?`,
        confirm: 'Yes, stop agent',
        stopping: 'Stopping…',
        resume: 'Resume agent',
        resuming: 'Resuming…',
      }}
      onAct={async (action) => {
        await api.setAgentState(slug, agent.id, action);
        await onChange(null);
      }}
    >
      {stopped
        ? `Since ${formatTime(agent.updatedAt)}, every tool call of ${agent.name} is refused. Its settings and tokens are kept.`
        : `Stopping ${agent.name} refuses every tool call it makes from that moment on, until someone resumes it.`}
    </KillSwitchPanel>
  );
}

function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </>
  );
}

const None = ({ text = 'None' }: { text?: string }) => <span className="muted">{text}</span>;

function AgentFacts({ agent: a, refs, meId }: { agent: Agent; refs: AgentRefs; meId: string }) {
  return (
    <dl className="facts agent-facts">
      <Fact term="Scope">{scopeText(refs, a.scope, a.teamId)}</Fact>
      <Fact term="Owner">{personName(refs, a.ownerId, meId)}</Fact>
      <Fact term="Model">
        <code data-testid="agent-model">
          {a.model.provider}/{a.model.model}
        </code>
      </Fact>
      <Fact term="Model key">
        {a.model.secretId ? secretName(refs, a.model.secretId) : <None text="None set" />}
      </Fact>
      {a.model.temperature !== undefined ? <Fact term="Temperature">{a.model.temperature}</Fact> : null}
      {a.model.maxOutputTokens !== undefined ? (
        <Fact term="Max output tokens">{a.model.maxOutputTokens}</Fact>
      ) : null}
      <Fact term="Instructions">
        {a.instructions ? (
          <pre className="code-block prose-block" data-testid="agent-instructions">
            {a.instructions}
          </pre>
        ) : (
          <None />
        )}
      </Fact>
      <Fact term="Output schema">
        {a.outputSchema ? (
          <pre className="code-block">{JSON.stringify(a.outputSchema, null, 2)}</pre>
        ) : (
          <None text="None: free-form answers" />
        )}
      </Fact>
      <Fact term="Checks">
        {a.checks?.rules.length ? (
          <div data-testid="agent-checks">
            <ul className="plain-list">
              {a.checks.rules.map((r) => (
                <li key={r.name}>
                  <code>{r.name}</code>: {r.action}{' '}
                  {r.match === 'pattern' ? <code>{r.pattern}</code> : r.match} in{' '}
                  {r.on.map((o) => (o === 'output' ? 'answers' : 'tool arguments')).join(' and ')}
                  {r.tools ? ` (${r.tools.join(', ')})` : ''}
                </li>
              ))}
            </ul>
            <p className="hint">
              {a.checks.streaming === 'final'
                ? 'Answers are not streamed: each is sent once checked.'
                : `Answers stream ${a.checks.holdBackChars} characters behind the model, once the checks cleared them.`}
            </p>
          </div>
        ) : (
          <None text="None" />
        )}
      </Fact>
      <Fact term="Created">{formatTime(a.createdAt)}</Fact>
      <Fact term="Updated">{formatTime(a.updatedAt)}</Fact>
      <Fact term="Agent id">
        <code>{a.id}</code>
      </Fact>
    </dl>
  );
}

// ---------- Tokens ----------

function AgentTokens({
  org,
  agent,
  write,
  refs,
  meId,
}: {
  org: OrgWithRole;
  agent: Agent;
  write: boolean;
  refs: AgentRefs;
  meId: string;
}) {
  const tokens = useLoad(() => api.agentTokens(org.slug, agent.id), `${org.slug}/${agent.id}`);
  const maxDays = org.settings.maxTokenDays;
  const [name, setName] = useState('');
  const [days, setDays] = useState(String(maxDays === null ? 90 : Math.min(90, maxDays)));
  const [created, setCreated] = useState<{ token: string; name: string } | null>(null);
  const create = useAction();
  const revoke = useAction();
  const now = Date.now();

  return (
    <Section title="Tokens">
      <p className="hint">
        An agent token lets an MCP client act as {agent.name} (never as you) at Paddock’s MCP endpoint.
      </p>
      <Alert message={create.error ?? revoke.error ?? tokens.error} />
      {created ? (
        <div className="secret-box">
          <p>
            Token <strong>{created.name}</strong> created. Copy it now: it is shown once, and never again.
          </p>
          <div className="secret-row">
            <code className="secret" data-testid="new-agent-token">
              {created.token}
            </code>
            <CopyButton text={created.token} what="agent token" />
          </div>
          <p className="hint">Paddock stores only a hash of it. Lost it? Revoke it and create another.</p>
          <McpClientSetup slug={org.slug} agentName={agent.name} token={created.token} />
          <button type="button" className="btn btn-secondary btn-small" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      ) : null}
      {write ? (
        <form
          className="form-inline"
          aria-label="Create an agent token"
          onSubmit={onSubmit(() => {
            const n = Number(days);
            const limit = maxDays ?? 3650;
            if (!Number.isInteger(n) || n < 1 || n > limit) {
              create.setError(`Expiry is a whole number of days from 1 to ${limit}.`);
              return;
            }
            void create.run(async () => {
              const r = await api.createAgentToken(org.slug, agent.id, {
                name: name.trim(),
                expiresInDays: n,
              });
              setCreated({ token: r.token, name: r.info.name });
              setName('');
              await tokens.reload();
            });
          })}
        >
          <TextField
            label="Token name"
            value={name}
            required
            maxLength={100}
            onChange={setName}
            placeholder="e.g. claude-code-laptop"
            autoComplete="off"
          />
          <TextField
            label="Expires in (days)"
            type="number"
            min={1}
            max={maxDays ?? 3650}
            value={days}
            required
            onChange={setDays}
            narrow
          />
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={create.busy}>
              {create.busy ? 'Creating…' : 'Create token'}
            </button>
          </div>
        </form>
      ) : null}
      {!tokens.data ? (
        <Loading what="tokens" />
      ) : tokens.data.length === 0 ? (
        <p className="empty">
          No tokens for this agent. An agent token lets an MCP client (Claude Desktop, Cursor, VS Code…) act
          as this agent through Paddock’s endpoint.
          {write ? ' Create one above; its client configurations show with it.' : ''}
        </p>
      ) : (
        <div className="table-wrap">
          <table aria-label="Agent tokens">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Status</th>
                {write ? (
                  <th scope="col" className="col-actions">
                    <span className="sr-only">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {tokens.data.map((token) => {
                // An MCP client's token renews itself hourly until its sign-in runs out.
                const t = token.client ? { ...token, expiresAt: token.client.renewableUntil } : token;
                const s = tokenState(t, now);
                return (
                  <tr
                    key={t.id}
                    data-testid="agent-token-row"
                    className={s === 'active' ? undefined : 'row-inactive'}
                  >
                    <td>
                      <strong>{t.name}</strong>
                      {t.client ? <div className="sub">MCP client, signed in with OAuth</div> : null}
                    </td>
                    <td className="nowrap">
                      {formatDate(t.createdAt)}
                      <div className="sub">by {personName(refs, t.createdBy, meId)}</div>
                    </td>
                    <td className="nowrap">{formatDate(t.expiresAt, 'Never')}</td>
                    <td>
                      <TokenStateBadge token={t} now={now} />
                    </td>
                    {write ? (
                      <td className="col-actions">
                        {s === 'active' ? (
                          <ConfirmButton
                            label="Revoke"
                            confirmLabel="Yes, revoke"
                            question="Revoke?"
                            onConfirm={async () => {
                              await revoke.run(async () => {
                                await api.revokeAgentToken(org.slug, agent.id, t.id);
                                await tokens.reload();
                              });
                            }}
                          />
                        ) : null}
                      </td>
                    ) : null}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}

// ---------- Versions ----------

/** The order fields are listed in; any other field follows, alphabetically. */
const FIELDS: readonly [string, string][] = [
  ['name', 'Name'],
  ['description', 'Description'],
  ['scope', 'Scope'],
  ['teamId', 'Team'],
  ['ownerId', 'Owner'],
  ['state', 'State'],
  ['instructions', 'Instructions'],
  ['model.provider', 'Provider'],
  ['model.model', 'Model'],
  ['model.secretId', 'Model key'],
  ['model.temperature', 'Temperature'],
  ['model.maxOutputTokens', 'Max output tokens'],
  ['outputSchema', 'Output schema'],
  ['checks', 'Checks'],
];
const FIELD_LABEL = new Map(FIELDS);
const FIELD_RANK = new Map(FIELDS.map(([f], i) => [f, i]));

/** A snapshot with the model's settings as fields of their own (`model.provider`, …). */
function flatten(snapshot: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(snapshot)) {
    if (k === 'model' && v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [mk, mv] of Object.entries(v)) out[`model.${mk}`] = mv;
    } else out[k] = v;
  }
  return out;
}

interface Change {
  field: string;
  before: unknown;
  after: unknown;
}

/** The fields whose value differs between two snapshots. */
export function snapshotDiff(before: Record<string, unknown>, after: Record<string, unknown>): Change[] {
  const b = flatten(before);
  const a = flatten(after);
  const fields = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter(
    (f) => f !== 'id' && JSON.stringify(b[f] ?? null) !== JSON.stringify(a[f] ?? null),
  );
  fields.sort((x, y) => {
    const rx = FIELD_RANK.get(x) ?? FIELDS.length;
    const ry = FIELD_RANK.get(y) ?? FIELDS.length;
    return rx - ry || x.localeCompare(y);
  });
  return fields.map((f) => ({ field: f, before: b[f], after: a[f] }));
}

function FieldValue({
  field,
  value,
  refs,
  meId,
}: {
  field: string;
  value: unknown;
  refs: AgentRefs;
  meId: string;
}) {
  if (value === null || value === undefined || value === '') return <None text="(none)" />;
  let text: string;
  if (field === 'teamId') text = teamName(refs, String(value));
  else if (field === 'ownerId') text = personName(refs, String(value), meId);
  else if (field === 'model.secretId') text = secretName(refs, String(value));
  else if (field === 'scope') text = SCOPE_LABEL[value as Agent['scope']] ?? String(value);
  else if (typeof value === 'string') text = value;
  else text = JSON.stringify(value, null, 2);
  return <span className="diff-text">{text}</span>;
}

function VersionList({ versions, refs, meId }: { versions: AgentVersion[]; refs: AgentRefs; meId: string }) {
  if (versions.length === 0) return <p className="empty">No versions recorded.</p>;
  return (
    <ol className="version-list">
      {versions.map((v, i) => {
        // Newest first: the previous version is the next entry.
        const previous = versions[i + 1];
        const changes = previous ? snapshotDiff(previous.snapshot, v.snapshot) : [];
        return (
          <li key={v.version} className="version" data-testid="agent-version-entry">
            <div className="version-header">
              <h3>Version {v.version}</h3>
              <span className="sub">
                {formatTime(v.changedAt)} by {personName(refs, v.changedBy, meId)}
              </span>
            </div>
            {!previous ? (
              <p className="version-note">{v.version === 1 ? 'Created.' : 'The oldest version kept.'}</p>
            ) : changes.length === 0 ? (
              <p className="version-note">No field changed.</p>
            ) : (
              <div className="table-wrap diff-wrap">
                <table className="diff-table" aria-label={`Changes in version ${v.version}`}>
                  <thead>
                    <tr>
                      <th scope="col">Field</th>
                      <th scope="col">Version {previous.version}</th>
                      <th scope="col">Version {v.version}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {changes.map((c) => (
                      <tr key={c.field} data-testid="diff-row" data-field={c.field}>
                        <th scope="row">{FIELD_LABEL.get(c.field) ?? c.field}</th>
                        <td className="diff-before">
                          <del>
                            <span className="sr-only">Before: </span>
                            <FieldValue field={c.field} value={c.before} refs={refs} meId={meId} />
                          </del>
                        </td>
                        <td className="diff-after">
                          <ins>
                            <span className="sr-only">After: </span>
                            <FieldValue field={c.field} value={c.after} refs={refs} meId={meId} />
                          </ins>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            <details className="version-snapshot">
              <summary>Snapshot of version {v.version}</summary>
              <pre>{JSON.stringify(v.snapshot, null, 2)}</pre>
            </details>
          </li>
        );
      })}
    </ol>
  );
}

// ---------- Delete ----------

function DeleteAgent({ slug, agent }: { slug: string; agent: Agent }) {
  const { error, run } = useAction();
  return (
    <section className="card card-danger" aria-labelledby="delete-agent-title">
      <div className="card-header">
        <h2 id="delete-agent-title">Delete this agent</h2>
      </div>
      <Alert message={error} />
      <div className="danger-row">
        <p className="hint">
          Deletes {agent.name}, its version history and its tokens (which stop working at once). The audit
          trail keeps the record. This cannot be undone.
        </p>
        <ConfirmButton
          label="Delete agent"
          confirmLabel="Yes, delete"
          question={`Delete ${agent.name}?`}
          className="btn btn-danger-ghost"
          onConfirm={async () => {
            await run(async () => {
              await api.deleteAgent(slug, agent.id);
              navigate(agentPath(slug), { replace: true });
            });
          }}
        />
      </div>
    </section>
  );
}
