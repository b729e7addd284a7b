/**
 * `/orgs/{slug}/approvals`: the approvals inbox. A call whose grant requires approval waits here
 * with its exact arguments; an owner or admin approves it (the agent may then make exactly that
 * call, once, until it expires) or denies it. Auditors read. Newest first, filtered by status.
 */
import { useState } from 'react';
import { APPROVAL_STATUSES, type Approval, type ApprovalStatus, api, canManage } from '../api/index.ts';
import { markDecidedHere, useAction, useLiveReload, useLoad, usePeopleNames } from '../data/index.ts';
import type { PageProps } from '../page.ts';
import { Link } from '../router.tsx';
import {
  Alert,
  DataTable,
  FormRow,
  formatTime,
  Loading,
  Notice,
  PageHeader,
  RowForm,
  Section,
  SelectField,
  TextField,
  TimeLeft,
} from '../ui/index.ts';
import { agentPath, runPath } from './paths.ts';

type Filter = ApprovalStatus | 'all';
type Decision = 'approve' | 'deny';

const STATUS_LABEL: Record<ApprovalStatus, string> = {
  pending: 'Pending',
  approved: 'Approved',
  denied: 'Denied',
  used: 'Used',
  expired: 'Expired',
};
/** What closed a request before its time, as the inbox says it. */
const ENDED_BECAUSE: Record<NonNullable<Approval['endedBecause']>, string> = {
  'run-ended': 'the run that asked ended',
  'agent-stopped': 'its agent was stopped',
  'all-agents-stopped': 'every agent was stopped',
  'person-removed': 'its person was removed',
};
const FILTER_OPTIONS: { value: Filter; label: string }[] = [
  ...APPROVAL_STATUSES.map((s) => ({ value: s, label: STATUS_LABEL[s] })),
  { value: 'all', label: 'All' },
];
const EMPTY: Record<Filter, string> = {
  pending: 'No calls are waiting for approval.',
  approved: 'No approved calls waiting to be made.',
  denied: 'No denied requests.',
  used: 'No approved calls made yet.',
  expired: 'No expired requests.',
  all: 'No approval requests yet.',
};

export function ApprovalsPage({ org, me }: PageProps) {
  const decide = canManage(org.role);
  const [filter, setFilter] = useState<Filter>('pending');
  const approvals = useLoad(
    () => api.approvals(org.slug, filter === 'all' ? null : filter),
    `${org.slug}/${filter}`,
  );
  const agents = useLoad(() => api.agents(org.slug), org.slug);
  const connections = useLoad(() => api.connections(org.slug), org.slug);
  const people = usePeopleNames(org.slug, me.id);
  // A call asked for or decided anywhere shows here without a reload.
  useLiveReload(['approvals'], approvals.reload);
  const [open, setOpen] = useState<{ id: string; decision: Decision } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const agentName = (id: string) => agents.data?.find((a) => a.id === id)?.name ?? id;
  const connectionName = (id: string) => connections.data?.find((c) => c.id === id)?.name ?? id;
  const now = Date.now();

  return (
    <>
      <PageHeader title="Approvals">
        Calls of {org.name}’s agents that wait for a person. An approval lets the agent make exactly that
        call, with exactly those arguments, once, before it expires.
      </PageHeader>
      <Section
        title="Requests"
        actions={
          <div className="form-inline approvals-filter">
            <SelectField
              label="Status"
              value={filter}
              onChange={(v) => {
                setOpen(null);
                setNotice(null);
                setFilter(v);
              }}
              options={FILTER_OPTIONS}
            />
          </div>
        }
      >
        <Alert message={approvals.error ?? agents.error ?? connections.error ?? people.error} />
        <div id="approvals-notice" tabIndex={-1}>
          <Notice message={notice} />
        </div>
        {decide ? (
          <NotifyOffer />
        ) : (
          <p className="alert alert-info">Read-only: only owners and admins approve or deny calls.</p>
        )}
        {!approvals.data ? (
          <Loading what="approval requests" />
        ) : approvals.data.length === 0 ? (
          <p className="empty" data-testid="approvals-empty">
            {EMPTY[filter]}
          </p>
        ) : (
          <DataTable
            headers={['Agent', 'Tool', 'Arguments', 'Requested', 'Expires', 'Status']}
            actions={decide}
            className="approvals-table"
            label="Approval requests"
          >
            {approvals.data.map((r) => {
              const expired =
                r.status === 'expired' ||
                ((r.status === 'pending' || r.status === 'approved') && Date.parse(r.expiresAt) <= now);
              const deciding = open?.id === r.id ? open.decision : null;
              return [
                <tr
                  key={r.id}
                  data-testid="approval-row"
                  className={deciding ? 'row-editing' : r.status === 'pending' ? undefined : 'row-inactive'}
                >
                  <td className="nowrap">
                    <Link to={agentPath(org.slug, r.agentId)}>{agentName(r.agentId)}</Link>
                    {r.runId ? (
                      <div className="sub">
                        <Link to={runPath(org.slug, r.runId)} data-testid="approval-run">
                          its run
                        </Link>
                      </div>
                    ) : null}
                  </td>
                  <td className="nowrap">
                    {r.kind === 'prompt' ? 'Get prompt ' : r.kind === 'resource' ? 'Read ' : null}
                    <code>{r.tool}</code>
                    <div className="sub">{connectionName(r.connectionId)}</div>
                  </td>
                  <td>
                    <pre className="code-block args-block" data-testid="approval-args">
                      {JSON.stringify(r.args, null, 2)}
                    </pre>
                  </td>
                  <td>
                    {formatTime(r.requestedAt)}
                    {r.requestedBy ? <div className="sub">by {people.name(r.requestedBy)}</div> : null}
                  </td>
                  <td>
                    {formatTime(r.expiresAt)}
                    {r.status === 'pending' && !expired ? (
                      <div className="sub">
                        <TimeLeft until={r.expiresAt} />
                      </div>
                    ) : null}
                  </td>
                  <td>
                    <span className={`status approval-${expired ? 'expired' : r.status}`}>
                      {expired ? STATUS_LABEL.expired : (STATUS_LABEL[r.status] ?? r.status)}
                    </span>
                    {r.decidedAt ? (
                      <div className="sub">
                        {/* An expired request that was decided was approved, and never used. */}
                        {expired ? 'Approved ' : null}
                        {formatTime(r.decidedAt)} by {people.name(r.decidedBy)}
                      </div>
                    ) : null}
                    {r.reason ? <div className="sub">“{r.reason}”</div> : null}
                    {r.endedBecause ? (
                      <div className="sub" data-testid="approval-ended">
                        {r.decidedAt ? 'Never used: ' : 'Closed: '}
                        {ENDED_BECAUSE[r.endedBecause]}
                      </div>
                    ) : null}
                  </td>
                  {decide ? (
                    <td className="col-actions">
                      {r.status === 'pending' && !expired ? (
                        <span className="row-actions">
                          <button
                            type="button"
                            id={`approve-${r.id}`}
                            className="btn btn-primary btn-small"
                            aria-expanded={deciding === 'approve'}
                            onClick={() =>
                              setOpen(deciding === 'approve' ? null : { id: r.id, decision: 'approve' })
                            }
                          >
                            Approve
                          </button>
                          <button
                            type="button"
                            id={`deny-${r.id}`}
                            className="btn btn-danger-ghost btn-small"
                            aria-expanded={deciding === 'deny'}
                            onClick={() =>
                              setOpen(deciding === 'deny' ? null : { id: r.id, decision: 'deny' })
                            }
                          >
                            Deny
                          </button>
                        </span>
                      ) : null}
                    </td>
                  ) : null}
                </tr>,
                deciding ? (
                  <FormRow key={`${r.id}-decide`} colSpan={7}>
                    <DecisionForm
                      slug={org.slug}
                      request={r}
                      what={`${agentName(r.agentId)} → ${r.tool}`}
                      decision={deciding}
                      onDone={async (message) => {
                        // Also after a refusal (decided or expired meanwhile): show the status now.
                        setOpen(null);
                        setNotice(message);
                        await approvals.reload();
                        // Focus goes where the keyboard left off: back to the button (cancelled), or to what was decided.
                        const back = message ? null : document.getElementById(`${deciding}-${r.id}`);
                        (back ?? document.getElementById('approvals-notice'))?.focus();
                      }}
                    />
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

/** Offers browser notifications of calls that wait for you, until they are allowed or refused. */
function NotifyOffer() {
  const [permission, setPermission] = useState(() =>
    typeof Notification === 'undefined' ? 'denied' : Notification.permission,
  );
  if (permission !== 'default') return null;
  return (
    <p className="notify-offer">
      New calls appear here as they are asked for.{' '}
      <button
        type="button"
        className="btn btn-ghost btn-small"
        onClick={() => void Notification.requestPermission().then(setPermission)}
      >
        Notify me when a call waits for me
      </button>
    </p>
  );
}

/** The confirm step of a decision, with an optional reason; the API's refusal shows here. */
function DecisionForm({
  slug,
  request,
  what,
  decision,
  onDone,
}: {
  slug: string;
  request: Approval;
  what: string;
  decision: Decision;
  onDone: (message: string | null) => Promise<void>;
}) {
  const [reason, setReason] = useState('');
  const { busy, error, run } = useAction();
  const approve = decision === 'approve';
  return (
    <RowForm
      label={approve ? 'Approve the call' : 'Deny the call'}
      busy={busy}
      error={error}
      submitLabel={approve ? 'Yes, approve' : 'Yes, deny'}
      busyLabel="Saving…"
      submitClassName={approve ? 'btn btn-primary btn-small' : 'btn btn-danger btn-small'}
      onCancel={() => onDone(null)}
      submit={() => {
        void run(async () => {
          markDecidedHere(request.id);
          const r = await api.decideApproval(slug, request.id, decision, reason.trim() || undefined);
          await onDone(
            approve
              ? `Approved: ${what} may run once with these arguments, until ${formatTime(r.expiresAt)}.`
              : `Denied: ${what}.`,
          );
        });
      }}
    >
      <p className="confirm-question decision-question">
        {approve ? `Approve this exact call of ${what}?` : `Deny this call of ${what}?`}
      </p>
      <TextField
        label="Reason (optional)"
        value={reason}
        maxLength={1000}
        onChange={setReason}
        autoComplete="off"
        autoFocus
      />
    </RowForm>
  );
}
