/**
 * `/orgs/{slug}/runs/{id}`: one run — who asked which agent what, its status, steps and token
 * usage, its answer, the calls it waits for, and its audit entries (the message, each model call,
 * each gate decision and result, the output) with their proofs. Read again until it ends: a
 * waiting run resumes in the background.
 */
import { useEffect, useState } from 'react';
import { type Agent, api, canStartRuns, type Run, runEnded } from '../api/index.ts';
import { useAction, useLive, useLiveReload, useLoad } from '../data/index.ts';
import type { PageProps } from '../page.ts';
import { Link } from '../router.tsx';
import {
  Alert,
  ConfirmButton,
  formatTime,
  Loading,
  Notice,
  onSubmit,
  RunStatusBadge,
  Section,
  TextAreaField,
} from '../ui/index.ts';
import { AuditEntries, entryNamer } from './Audit.tsx';
import { agentPath, chatPath, runPath } from './paths.ts';

/** How often a run that has not ended is read again while live updates are away. */
const WHILE_LIVE_MS = 2000;
/** …and while they flow (a backstop: each change of the run, or of its trail, reads it at once). */
const WHILE_LIVE_CONNECTED_MS = 15_000;

export function RunDetail({ org, me, id }: PageProps & { id: string }) {
  const detail = useLoad(() => api.run(org.slug, id), `${org.slug}/${id}`);
  const agents = useLoad(() => api.agents(org.slug), org.slug);
  // Tool entries name their connection by id: by its name, as the Audit page does.
  const connections = useLoad(() => api.connections(org.slug), org.slug);
  const people = useLoad(() => api.people(org.slug), org.slug);
  // Members do not read the audit trail (the run comes without its entries for them).
  const oversight = org.role !== 'member';
  const key = useLoad(
    async () => (oversight ? (await api.auditCheckpoint(org.slug)).verifierKey : null),
    org.slug,
  );
  const stop = useAction();
  const run = detail.data?.run;
  const live = run !== undefined && !runEnded(run.status);
  const { reload } = detail;
  const { connected } = useLive();
  // The run's status and its trail (model and tool calls, as they happen) read again when they change.
  useLiveReload(oversight ? ['runs', 'activity'] : ['runs'], () => (live ? reload() : undefined), 500);
  // biome-ignore lint/correctness/useExhaustiveDependencies: each new read of the run schedules the next.
  useEffect(() => {
    if (!live) return;
    const timer = setTimeout(() => void reload(), connected ? WHILE_LIVE_CONNECTED_MS : WHILE_LIVE_MS);
    return () => clearTimeout(timer);
  }, [live, reload, detail.data, connected]);

  const back = (
    <p className="back-link">
      <Link to={runPath(org.slug)}>← All runs</Link>
    </p>
  );
  if (!detail.data || !run) {
    return (
      <>
        {back}
        {detail.error ? <Alert message={detail.error} /> : <Loading what="the run" />}
      </>
    );
  }
  const agent = agents.data?.find((a) => a.id === run.agentId);
  const name = entryNamer(people.data ?? [], agents.data, connections.data ?? []);
  const audit = detail.data.audit;

  return (
    <>
      {back}
      <header className="page-header agent-header">
        <div className="agent-title">
          <h1>
            Run <code>{run.id}</code>
          </h1>
          <RunStatusBadge status={run.status} testId="run-status" />
          {live && canStartRuns(org.role) ? (
            <span className="agent-title-actions">
              <ConfirmButton
                label="Stop run"
                confirmLabel="Yes, stop it"
                question="Stop this run?"
                onConfirm={() =>
                  stop
                    .run(async () => {
                      await api.stopRun(org.slug, run.id);
                      await reload();
                    })
                    .then(() => undefined)
                }
              />
            </span>
          ) : null}
        </div>
      </header>
      <Alert message={stop.error ?? detail.error ?? agents.error} />
      <Section title="Run">
        <RunFacts
          run={run}
          agent={agent}
          slug={org.slug}
          meId={me.id}
          personName={(p) => name({ type: 'person', id: p })}
        />
      </Section>
      <Section title="Message and answer">
        <h3 className="subheading">Message</h3>
        <pre className="code-block prose-block" data-testid="run-input">
          {run.input}
        </pre>
        <h3 className="subheading">Answer</h3>
        {run.output ? (
          <pre className="code-block prose-block" data-testid="run-output">
            {run.output}
          </pre>
        ) : (
          <p className="muted">{live ? 'Not yet: the run has not ended.' : 'None.'}</p>
        )}
        {run.waitingFor.length > 0 ? (
          <>
            <h3 className="subheading">Waiting for a person</h3>
            <ul className="plain-list">
              {run.waitingFor.map((w) => (
                <li key={w.approvalId}>
                  <code>{w.tool}</code> — request <code>{w.approvalId}</code>, expires{' '}
                  {formatTime(w.expiresAt)}.{' '}
                  {oversight ? (
                    <Link to={`/orgs/${encodeURIComponent(org.slug)}/approvals`}>Approvals</Link>
                  ) : null}
                </li>
              ))}
            </ul>
          </>
        ) : null}
        {!live && canStartRuns(org.role) ? <RunFlag slug={org.slug} run={run} /> : null}
      </Section>
      <Section title="Audit entries">
        {oversight ? (
          <>
            <p className="hint">
              Every step of this run on record, oldest first: each entry carries the run’s id in its hashed
              header. Open one for its inclusion proof.
            </p>
            {audit.length === 0 ? (
              <p className="empty">
                No entries yet: the run’s model and tool calls appear here as it makes them.
              </p>
            ) : (
              <AuditEntries
                slug={org.slug}
                events={audit}
                name={name}
                verifierKey={key.data ?? null}
                label="Audit entries of this run"
              />
            )}
          </>
        ) : (
          <p className="muted">
            Members see their runs, not the audit trail: an owner, admin or auditor can read this run’s
            entries.
          </p>
        )}
      </Section>
    </>
  );
}

/** "Flag as wrong": the correction and why, linked to the audit entry that recorded the answer. */
function RunFlag({ slug, run }: { slug: string; run: Run }) {
  const [open, setOpen] = useState(false);
  const [correction, setCorrection] = useState('');
  const [reason, setReason] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const flag = useAction();
  if (!open) {
    return (
      <>
        <Notice message={done} />
        <button type="button" className="btn btn-secondary btn-small" onClick={() => setOpen(true)}>
          Flag as wrong
        </button>
      </>
    );
  }
  return (
    <form
      className="agent-form"
      aria-label="Flag this answer as wrong"
      onSubmit={onSubmit(() => {
        void flag.run(async () => {
          const f = await api.flagRun(slug, run.id, { correction: correction.trim(), reason: reason.trim() });
          setDone(
            `Flagged: linked to audit entry #${f.entry.index}. The agent’s owner and admins see it on its page.`,
          );
          setOpen(false);
          setCorrection('');
          setReason('');
        });
      })}
    >
      <Alert message={flag.error} />
      <TextAreaField label="Correction" value={correction} onChange={setCorrection} rows={3} required />
      <TextAreaField label="Why it is wrong" value={reason} onChange={setReason} rows={2} required />
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={flag.busy}>
          {flag.busy ? 'Flagging…' : 'Flag as wrong'}
        </button>
        <button type="button" className="btn btn-ghost" disabled={flag.busy} onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function RunFacts({
  run,
  agent,
  slug,
  meId,
  personName,
}: {
  run: Run;
  agent: Agent | undefined;
  slug: string;
  meId: string;
  personName: (id: string) => string;
}) {
  return (
    <dl className="facts">
      <dt>Agent</dt>
      <dd>
        <Link to={agentPath(slug, run.agentId)}>{agent?.name ?? run.agentId}</Link>
      </dd>
      <dt>Asked by</dt>
      <dd>
        {run.personId === null ? '—' : run.personId === meId ? 'You' : personName(run.personId)} (via{' '}
        {run.via})
      </dd>
      <dt>Conversation</dt>
      <dd>
        {run.personId === meId ? (
          <Link to={chatPath(slug, run.agentId, { conversation: run.conversationId })}>
            Continue <code>{run.conversationId}</code> in the chat
          </Link>
        ) : (
          <code>{run.conversationId}</code>
        )}
      </dd>
      <dt>Started</dt>
      <dd>{formatTime(run.createdAt)}</dd>
      <dt>Ended</dt>
      <dd>{formatTime(run.endedAt, 'Not yet')}</dd>
      <dt>Steps</dt>
      <dd data-testid="run-steps">{run.steps}</dd>
      <dt>Tokens</dt>
      <dd>
        {run.usage.inputTokens} in · {run.usage.outputTokens} out
      </dd>
      {run.error ? (
        <>
          <dt>{run.status === 'waiting_approval' ? 'Note' : 'Error'}</dt>
          <dd>
            <code>{run.error.code}</code> {run.error.message}
          </dd>
        </>
      ) : null}
    </dl>
  );
}
