/**
 * Access reviews: agents' grants against the tools they used in the period (granted and never
 * used stands out), people's roles against their sign-ins. Owners and admins open a review and
 * keep, revoke (the real revocation) or defer each line, then sign it off; the sign-off is
 * evidence. Auditors read and comment, and change nothing else.
 */
import { useState } from 'react';
import { api, type Review, type ReviewLine } from '../api/index.ts';
import { useAction, useLoad } from '../data/index.ts';
import {
  Alert,
  DataTable,
  FormRow,
  formatDate,
  formatTime,
  Loading,
  Notice,
  onSubmit,
  Section,
  TextField,
} from '../ui/index.ts';

type Decision = NonNullable<ReviewLine['decision']>;
const DECISIONS: { value: Decision; label: string }[] = [
  { value: 'keep', label: 'Sign off' },
  { value: 'revoke', label: 'Revoke' },
  { value: 'defer', label: 'Defer' },
];
const DECIDED: Record<Decision, string> = { keep: 'Kept', revoke: 'Revoked', defer: 'Deferred' };

/** What a line is about, from its facts: the agent's tool, or the person's role. */
function lineSubject(l: ReviewLine): { who: string; what: string; use: string } {
  const f = l.facts as Record<string, string | number | boolean | null>;
  if (l.subject.type === 'agent')
    return {
      who: String(f.agent ?? l.subject.id),
      what: `${f.connectionName ?? f.connection}/${f.tool}${f.requiresApproval ? ' (approval)' : ''}`,
      use: `${f.calls ?? 0} calls`,
    };
  return {
    who: String(f.name || f.email || l.subject.id),
    what: String(f.role),
    use: f.lastSignInAt ? `signed in ${formatDate(String(f.lastSignInAt))}` : 'no sign-in',
  };
}

export function AccessReviews({ slug, manage }: { slug: string; manage: boolean }) {
  const reviews = useLoad(() => api.reviews(slug), slug);
  const [open, setOpen] = useState<string | null>(null);
  const { busy, error, run } = useAction();
  const start = (kind: 'agents' | 'people') =>
    run(async () => {
      const r = await api.openReview(slug, { kind });
      await reviews.reload();
      setOpen(r.id);
    });
  return (
    <Section
      title="Access reviews"
      actions={
        manage ? (
          <span className="form-inline">
            <button
              type="button"
              className="btn btn-secondary btn-small"
              disabled={busy}
              onClick={() => start('agents')}
            >
              Review agents
            </button>
            <button
              type="button"
              className="btn btn-secondary btn-small"
              disabled={busy}
              onClick={() => start('people')}
            >
              Review people
            </button>
          </span>
        ) : null
      }
    >
      <Alert message={error ?? reviews.error} />
      {!reviews.data ? (
        <Loading what="access reviews" />
      ) : reviews.data.length === 0 ? (
        <p className="empty">
          No access reviews yet. A review lists who and what may act (people, tokens, agents’ grants) for
          someone to confirm, revoke or defer each line
          {manage ? ': start one with a Review button above.' : '.'}
        </p>
      ) : (
        <DataTable
          headers={['Review', 'Period', 'Status', 'Opened', 'Signed off']}
          actions
          label="Access reviews"
        >
          {reviews.data.map((r) => [
            <tr key={r.id} data-testid="review-row" className={open === r.id ? 'row-editing' : undefined}>
              <td>{r.kind === 'agents' ? 'Agents: grants against use' : 'People: roles against sign-ins'}</td>
              <td className="nowrap">
                {formatDate(r.period.from)} – {formatDate(r.period.to)}
              </td>
              <td>{r.status === 'open' ? 'Open' : 'Signed off'}</td>
              <td className="nowrap">{formatTime(r.createdAt)}</td>
              <td className="nowrap">{formatTime(r.signedOffAt)}</td>
              <td className="col-actions">
                <button
                  type="button"
                  className="btn btn-ghost btn-small"
                  onClick={() => setOpen(open === r.id ? null : r.id)}
                >
                  {open === r.id ? 'Close' : 'Open'}
                </button>
              </td>
            </tr>,
            open === r.id ? (
              <FormRow key={`${r.id}-open`} colSpan={6}>
                <ReviewDetail slug={slug} id={r.id} manage={manage} onChange={reviews.reload} />
              </FormRow>
            ) : null,
          ])}
        </DataTable>
      )}
    </Section>
  );
}

function ReviewDetail({
  slug,
  id,
  manage,
  onChange,
}: {
  slug: string;
  id: string;
  manage: boolean;
  onChange: () => Promise<void>;
}) {
  const review = useLoad(() => api.review(slug, id), `${slug}/${id}`);
  const { busy, error, run } = useAction();
  const [comment, setComment] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const act = (fn: () => Promise<string>) =>
    run(async () => {
      setNotice(await fn());
      await review.reload();
      await onChange();
    });
  if (!review.data) return review.error ? <Alert message={review.error} /> : <Loading what="the review" />;
  const r: Review = review.data;
  const lines = r.lines ?? [];
  const undecided = lines.filter((l) => l.decision === null).length;
  return (
    <div className="review-detail" data-testid="review-detail">
      <p className="muted">
        Read at log size {r.treeSize.toLocaleString()}. {lines.length} lines, {undecided} undecided.
      </p>
      <Alert message={error} />
      <Notice message={notice} />
      <DataTable
        headers={['Subject', 'Access', 'Use in the period', 'Finding', 'Decision']}
        label="Review lines"
      >
        {lines.map((l) => {
          const s = lineSubject(l);
          return (
            <tr
              key={l.id}
              data-testid="review-line"
              className={l.finding === 'unused' || l.finding === 'dormant' ? 'row-flag' : undefined}
            >
              <td>{s.who}</td>
              <td>
                <code>{s.what}</code>
              </td>
              <td className="nowrap">{s.use}</td>
              <td>{l.finding}</td>
              <td>
                {l.decision ? (
                  <span>
                    {DECIDED[l.decision]}
                    {l.note ? <span className="sub"> {l.note}</span> : null}
                  </span>
                ) : manage && r.status === 'open' ? (
                  <span className="row-actions">
                    {DECISIONS.map((d) => (
                      <button
                        key={d.value}
                        type="button"
                        className={
                          d.value === 'revoke'
                            ? 'btn btn-danger-ghost btn-small'
                            : 'btn btn-secondary btn-small'
                        }
                        disabled={busy}
                        onClick={() =>
                          act(async () => {
                            await api.decideLine(slug, r.id, l.id, { decision: d.value });
                            return `${s.who}: ${DECIDED[d.value].toLowerCase()}.`;
                          })
                        }
                      >
                        {d.label}
                      </button>
                    ))}
                  </span>
                ) : (
                  <span className="muted">Undecided</span>
                )}
              </td>
            </tr>
          );
        })}
      </DataTable>
      {manage && r.status === 'open' ? (
        <button
          type="button"
          className="btn btn-primary btn-small"
          disabled={busy || undecided > 0}
          title={undecided > 0 ? 'Decide every line first' : undefined}
          onClick={() =>
            act(async () => {
              await api.signOffReview(slug, r.id);
              return 'Review signed off; the sign-off is stored as evidence.';
            })
          }
        >
          Sign off the review
        </button>
      ) : null}
      <h5>Comments</h5>
      {(r.comments ?? []).length === 0 ? (
        <p className="empty">No comments.</p>
      ) : (
        <ul className="comments">
          {(r.comments ?? []).map((c) => (
            <li key={c.id}>
              <span className="muted">
                {c.authorRole}, {formatTime(c.createdAt)}:
              </span>{' '}
              {c.body}
            </li>
          ))}
        </ul>
      )}
      <form
        className="form-inline"
        aria-label="Comment on the review"
        onSubmit={onSubmit(() =>
          act(async () => {
            await api.commentOnReview(slug, r.id, { body: comment.trim() });
            setComment('');
            return 'Comment added.';
          }),
        )}
      >
        <TextField label="Comment" value={comment} onChange={setComment} required maxLength={4000} />
        <div className="form-actions">
          <button type="submit" className="btn btn-secondary btn-small" disabled={busy || !comment.trim()}>
            Add comment
          </button>
        </div>
      </form>
    </div>
  );
}
