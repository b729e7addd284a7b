/**
 * An agent's "Test call" panel (owners and admins): pick any tool of the org's connections,
 * granted or not, fill its arguments from its input schema, and make one call as the agent
 * through the gateway — decided and recorded exactly like the agent's own. The answer says
 * allowed (with the tool's result), denied (why, in words), or waiting for a person (with the
 * time left; once approved the call is made again by itself), and links to its audit entries.
 * Below it, the agent's recent activity, live.
 */
import type { TextContent } from '@modelcontextprotocol/sdk/types.js';
import { type ReactNode, useEffect, useState } from 'react';
import {
  type Agent,
  ApiError,
  type AuditEvent,
  api,
  errorMessage,
  type ToolCall,
  type ToolCallResult,
} from '../api/index.ts';
import { useLive, useLiveReload, useLoad } from '../data/index.ts';
import { Link } from '../router.tsx';
import {
  Alert,
  argsFrom,
  initialValues,
  Loading,
  onSubmit,
  SchemaFields,
  Section,
  SelectField,
  TimeLeft,
  When,
} from '../ui/index.ts';
import { auditPath } from './paths.ts';

type Outcome =
  | { kind: 'allowed'; result: ToolCallResult }
  | { kind: 'denied'; message: string }
  | { kind: 'waiting'; approvalId: string; expiresAt: string; call: ToolCall }
  | { kind: 'stopped'; message: string }
  | { kind: 'failed'; message: string };

const ACCESS_LABEL = {
  allowed: 'granted',
  conditional: 'granted with conditions',
  denied: 'not granted',
} as const;

const newRequestId = () => `tc-${crypto.randomUUID()}`;

/** What the tool answered, as text where it gave text. */
function resultText(r: ToolCallResult): string {
  const parts = Array.isArray(r.content) ? (r.content as Partial<TextContent>[]) : [];
  const texts = parts.filter((p) => p.type === 'text' && typeof p.text === 'string').map((p) => p.text);
  return texts.length === parts.length && texts.length > 0
    ? texts.join('\n')
    : JSON.stringify(r.structuredContent ?? r.content, null, 2);
}

/** A refusal of the gateway as the outcome it means. */
function outcomeOf(err: unknown, call: ToolCall): Outcome {
  if (err instanceof ApiError) {
    if (err.code === 'approval_required' && typeof err.details?.approvalId === 'string')
      return {
        kind: 'waiting',
        approvalId: err.details.approvalId,
        expiresAt: String(err.details.expiresAt ?? ''),
        call,
      };
    if (err.code === 'tool_denied' || err.code === 'approval_denied')
      return { kind: 'denied', message: err.message };
    if (err.code === 'agent_stopped') return { kind: 'stopped', message: err.message };
  }
  return { kind: 'failed', message: errorMessage(err) };
}

export function TestCall({ slug, agent }: { slug: string; agent: Agent }) {
  // Every tool of every connection, each with what the agent's grants say of it (none: denied).
  const tools = useLoad(async () => {
    const [connections, permissions] = await Promise.all([
      api.connections(slug),
      api.permissions(slug, agent.id),
    ]);
    const lists = await Promise.all(connections.map((c) => api.connectionTools(slug, c.id)));
    return connections.flatMap((c, i) =>
      (lists[i] ?? []).map((tool) => {
        const p = permissions.tools.find((x) => x.connectionId === c.id && x.tool.name === tool.name);
        return {
          connectionId: c.id,
          connectionName: c.name,
          tool,
          access: p?.access ?? ('denied' as const),
          needsApproval: p?.needsApproval ?? false,
        };
      }),
    );
  }, `${slug}/${agent.id}`);
  // A grant added or revoked on this page changes the agent's version: the list follows.
  useLiveReload(['agents'], tools.reload);
  const [picked, setPicked] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const [invalid, setInvalid] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [requestId, setRequestId] = useState<string | null>(null);
  const tool = tools.data?.find((t) => `${t.connectionId}/${t.tool.name}` === picked);

  const make = async (call: ToolCall) => {
    const id = newRequestId();
    setRequestId(id);
    setBusy(true);
    try {
      setOutcome({ kind: 'allowed', result: await api.callTool(slug, agent.id, call, id) });
    } catch (err) {
      setOutcome(outcomeOf(err, call));
    } finally {
      setBusy(false);
    }
  };

  const submit = () => {
    if (!tool) return;
    const parsed = argsFrom(tool.tool.inputSchema, values);
    if ('error' in parsed) {
      setInvalid(parsed.error);
      return;
    }
    setInvalid(null);
    setOutcome(null);
    void make({
      connectionId: tool.connectionId,
      tool: tool.tool.name,
      args: parsed.args,
      approval: 'return',
    });
  };

  return (
    <Section title="Test call">
      <p className="hint">
        Make one call as {agent.name} through the gateway, as its MCP client would: granted or not, it is
        decided by its grants and recorded in the audit trail like any of its calls.
      </p>
      <Alert message={tools.error} />
      {!tools.data ? (
        <Loading what="tools" />
      ) : tools.data.length === 0 ? (
        <p className="empty">
          No tools to call yet: connect an MCP server on the Connections page, and its tools are listed here.
        </p>
      ) : (
        <form className="form-grid test-call" aria-label="Test call" onSubmit={onSubmit(submit)}>
          <SelectField
            label="Tool"
            hint={tool?.tool.description || undefined}
            value={picked}
            onChange={(v) => {
              setPicked(v);
              const next = tools.data?.find((t) => `${t.connectionId}/${t.tool.name}` === v);
              setValues(next ? initialValues(next.tool.inputSchema) : {});
              setOutcome(null);
              setInvalid(null);
            }}
            options={[
              { value: '', label: 'Choose a tool…' },
              ...tools.data.map((t) => ({
                value: `${t.connectionId}/${t.tool.name}`,
                label: `${t.connectionName} · ${t.tool.name} — ${
                  t.access !== 'denied' && t.needsApproval ? 'needs approval' : ACCESS_LABEL[t.access]
                }`,
              })),
            ]}
          />
          {tool ? (
            <>
              <SchemaFields schema={tool.tool.inputSchema} values={values} onChange={setValues} />
              {invalid ? (
                <p className="field-error field-wide" role="alert">
                  {invalid}
                </p>
              ) : null}
              <div className="form-actions">
                <button type="submit" className="btn btn-primary" disabled={busy}>
                  {busy ? 'Calling…' : 'Make the call'}
                </button>
              </div>
            </>
          ) : null}
        </form>
      )}
      <div aria-live="polite">
        {outcome ? (
          <OutcomeView
            slug={slug}
            outcome={outcome}
            requestId={requestId}
            onDecided={(next) => {
              if (next.kind === 'again' && outcome.kind === 'waiting') void make(outcome.call);
              else if (next.kind !== 'again') setOutcome(next);
            }}
          />
        ) : null}
      </div>
      <RecentActivity slug={slug} agentId={agent.id} />
    </Section>
  );
}

type Decided = Outcome | { kind: 'again' };

function OutcomeView({
  slug,
  outcome,
  requestId,
  onDecided,
}: {
  slug: string;
  outcome: Outcome;
  requestId: string | null;
  onDecided: (next: Decided) => void;
}) {
  const trail = requestId ? (
    <Link to={auditPath(slug, { q: requestId })}>See it in the audit trail</Link>
  ) : null;
  switch (outcome.kind) {
    case 'allowed':
      return (
        <div className="call-outcome call-allowed" data-testid="call-outcome" data-outcome="allowed">
          <p className="call-line">
            <span className="status approval-approved">Allowed</span>{' '}
            {outcome.result.isError ? 'The tool ran and answered with an error' : 'The tool ran'} in{' '}
            {Math.round(outcome.result.durationMs)} ms.{' '}
            <Link to={auditPath(slug, { entry: outcome.result.auditEntryId })}>See its audit entry</Link>
          </p>
          <pre className="code-block">{resultText(outcome.result)}</pre>
        </div>
      );
    case 'denied':
      return (
        <div className="call-outcome call-denied" data-testid="call-outcome" data-outcome="denied">
          <p className="call-line">
            <span className="status approval-denied">Denied</span> {outcome.message}
          </p>
          <p className="call-line">{trail}</p>
        </div>
      );
    case 'stopped':
      return (
        <div className="call-outcome call-denied" data-testid="call-outcome" data-outcome="stopped">
          <p className="call-line">
            <span className="status approval-denied">Stopped</span> {outcome.message}
          </p>
          <p className="call-line">{trail}</p>
        </div>
      );
    case 'waiting':
      return (
        <Waiting
          slug={slug}
          approvalId={outcome.approvalId}
          expiresAt={outcome.expiresAt}
          trail={trail}
          onDecided={onDecided}
        />
      );
    default:
      return <Alert message={outcome.message} />;
  }
}

/** A call waiting for a person: once its request leaves the inbox, what became of it. */
function Waiting({
  slug,
  approvalId,
  expiresAt,
  trail,
  onDecided,
}: {
  slug: string;
  approvalId: string;
  expiresAt: string;
  trail: ReactNode;
  onDecided: (next: Decided) => void;
}) {
  const { pending } = useLive();
  const gone = pending !== null && !pending.some((a) => a.id === approvalId);
  useEffect(() => {
    if (!gone) return;
    let live = true;
    void (async () => {
      try {
        const all = await api.approvals(slug, null);
        const r = all.find((a) => a.id === approvalId);
        if (!live || !r) return;
        if (r.status === 'approved') onDecided({ kind: 'again' });
        else if (r.status === 'denied')
          onDecided({
            kind: 'denied',
            message: `A person denied the call${r.reason ? `: “${r.reason}”` : '.'}`,
          });
        else if (r.status === 'expired')
          onDecided({ kind: 'denied', message: 'No one decided before the request expired.' });
      } catch (err) {
        if (live) onDecided({ kind: 'failed', message: errorMessage(err) });
      }
    })();
    return () => {
      live = false;
    };
  }, [gone, slug, approvalId, onDecided]);
  return (
    <div className="call-outcome call-waiting" data-testid="call-outcome" data-outcome="waiting">
      <p className="call-line">
        <span className="status approval-pending">Waiting for approval</span> An owner or admin decides it in{' '}
        <Link to={`/orgs/${encodeURIComponent(slug)}/approvals`}>Approvals</Link>
        {expiresAt ? (
          <>
            {' '}
            (<TimeLeft until={expiresAt} />)
          </>
        ) : null}
        . Once approved, the call is made here again by itself.
      </p>
      <p className="call-line">{trail}</p>
    </div>
  );
}

const OUTCOME_LABEL: Record<string, string> = { success: 'ok', failure: 'failed', denied: 'denied' };

/** What the agent did and had done to it lately, newest first, each opening its audit entry. */
function RecentActivity({ slug, agentId }: { slug: string; agentId: string }) {
  const recent = useLoad(() => api.audit(slug, { agent: agentId }, null, 8), `${slug}/${agentId}`);
  useLiveReload(['activity'], recent.reload, 2000);
  return (
    <div className="recent-activity">
      <h3 className="recent-title">Recent activity</h3>
      <Alert message={recent.error} />
      {!recent.data ? (
        <Loading what="recent activity" />
      ) : recent.data.events.length === 0 ? (
        <p className="empty">Nothing yet: a call made above appears here.</p>
      ) : (
        <ul className="activity-list" data-testid="recent-activity">
          {recent.data.events.map((e: AuditEvent) => (
            <li key={e.index} className="activity-item">
              <When iso={e.time} />{' '}
              <Link to={auditPath(slug, { entry: e.index })}>
                <code>{e.action}</code>
              </Link>{' '}
              {typeof e.details?.tool === 'string' ? <span className="muted">{e.details.tool}</span> : null}{' '}
              <span className={`outcome outcome-${e.outcome}`}>{OUTCOME_LABEL[e.outcome] ?? e.outcome}</span>
            </li>
          ))}
        </ul>
      )}
      <p>
        <Link to={auditPath(slug, { agent: agentId })}>All of this agent’s activity in the audit trail</Link>
      </p>
    </div>
  );
}
