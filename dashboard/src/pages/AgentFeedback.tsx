/**
 * An agent's feedback, on its page: its flagged rate per day (the runs that ended, the flags
 * given), and the flags themselves — who said the answer was wrong, the correction and why, the
 * audit entry of the answer — open ones with Resolve (and a note) for owners and admins. Members
 * see their own flags; flagging is on a run's page (RunFlag in RunDetail.tsx).
 */
import { useState } from 'react';
import { type Agent, api, type Feedback, type OrgWithRole } from '../api/index.ts';
import { useAction, useLoad } from '../data/index.ts';
import { Link } from '../router.tsx';
import { Alert, formatTime, Loading, onSubmit, Section, TextField, TimeChart } from '../ui/index.ts';
import { runPath } from './paths.ts';

/** `resolve`: whether the viewer may resolve flags (owners and admins). */
export function AgentFeedback({ org, agent, resolve }: { org: OrgWithRole; agent: Agent; resolve: boolean }) {
  const list = useLoad(() => api.feedback(org.slug, agent.id), `${org.slug}/${agent.id}/feedback`);
  const data = list.data;
  const flagged = data?.days.reduce((n, d) => n + d.flagged, 0) ?? 0;
  const ended = data?.days.reduce((n, d) => n + d.runs, 0) ?? 0;
  return (
    <Section title="Feedback">
      <p className="hint">
        Answers people flagged as wrong, with the correction and why; each names the audit entry that recorded
        the answer. Flag an answer from its run’s page.
      </p>
      <Alert message={list.error} />
      {!data ? (
        <Loading what="feedback" />
      ) : (
        <>
          <p data-testid="flagged-rate">
            Last {data.days.length} days: {flagged} flagged of {ended} answer{ended === 1 ? '' : 's'}
            {ended ? ` (${Math.round((flagged / ended) * 100)}%)` : ''}.
          </p>
          <TimeChart
            title="Flagged answers per day"
            times={data.days.map((d) => `${d.day}T00:00:00.000Z`)}
            series={[
              { label: 'Answers', values: data.days.map((d) => d.runs), color: '#8a94a6' },
              { label: 'Flagged', values: data.days.map((d) => d.flagged), color: '#c0392b' },
            ]}
            bars
          />
          {data.feedback.length === 0 ? (
            <p className="empty">No feedback on this agent.</p>
          ) : (
            <ul className="feedback-list">
              {data.feedback.map((f) => (
                <FeedbackItem key={f.id} org={org} item={f} resolve={resolve} onResolved={list.reload} />
              ))}
            </ul>
          )}
        </>
      )}
    </Section>
  );
}

function FeedbackItem({
  org,
  item: f,
  resolve: mayResolve,
  onResolved,
}: {
  org: OrgWithRole;
  item: Feedback;
  resolve: boolean;
  onResolved: () => Promise<void>;
}) {
  const [note, setNote] = useState('');
  const resolve = useAction();
  return (
    <li className="feedback-item" data-testid="feedback-item">
      <p className="feedback-line">
        <strong>{f.status === 'open' ? 'Open' : 'Resolved'}</strong> · {formatTime(f.createdAt)} ·{' '}
        <Link to={runPath(org.slug, f.runId)}>run {f.runId}</Link> · audit entry #{f.entry.index}
      </p>
      <p className="feedback-line">
        <span className="muted">Correction:</span> {f.correction}
      </p>
      <p className="feedback-line">
        <span className="muted">Why:</span> {f.reason}
      </p>
      {f.status === 'resolved' ? (
        <p className="feedback-line">
          <span className="muted">Resolved {f.resolvedAt ? formatTime(f.resolvedAt) : ''}:</span>{' '}
          {f.resolution}
        </p>
      ) : mayResolve ? (
        <form
          className="form-inline"
          aria-label={`Resolve feedback ${f.id}`}
          onSubmit={onSubmit(() => {
            void resolve.run(async () => {
              await api.resolveFeedback(org.slug, f.id, note.trim());
              setNote('');
              await onResolved();
            });
          })}
        >
          <Alert message={resolve.error} />
          <TextField label="Resolution note" value={note} required maxLength={4000} onChange={setNote} />
          <div className="form-actions">
            <button type="submit" className="btn btn-secondary btn-small" disabled={resolve.busy}>
              {resolve.busy ? 'Resolving…' : 'Resolve'}
            </button>
          </div>
        </form>
      ) : null}
    </li>
  );
}
