/**
 * One answer of an agent in the chat: its text and tool calls as they streamed, a call waiting
 * for a person as a card (approve or deny it if you may), the run's continuation once decided
 * here (streamed as it goes; decided elsewhere, read again until it ends), and the run one click
 * away.
 */
import { type ReactNode, useEffect, useState } from 'react';
import {
  type AnswerPart,
  api,
  messageRun,
  type Run,
  type RunApproval,
  type RunMessage,
  readAnswer,
  readContinuation,
  runEnded,
} from '../api/index.ts';
import { markDecidedHere, useAction, useRunContinuation, useRunFollow } from '../data/index.ts';
import { Link } from '../router.tsx';
import { Alert, formatTime, RunStatusBadge, TextField, ToolCall } from '../ui/index.ts';
import { runPath } from './paths.ts';

type Decision = 'approve' | 'deny';
/** Where a waiting call stands: open, decided here, or no longer waiting (decided elsewhere, expired). */
type Standing = 'open' | Decision | 'closed';

const STANDING: Record<Standing, { label: string; tone: 'waiting' | 'done' | 'refused' | 'closed' }> = {
  open: { label: 'Waiting for approval', tone: 'waiting' },
  approve: { label: 'Approved', tone: 'done' },
  deny: { label: 'Denied', tone: 'refused' },
  closed: { label: 'No longer waiting', tone: 'closed' },
};

function standing(run: Run | null, approvalId: string, decided: Decision | undefined): Standing {
  if (decided) return decided;
  const open = run?.status === 'waiting_approval' && run.waitingFor.some((w) => w.approvalId === approvalId);
  return open ? 'open' : 'closed';
}

/** Read the run again this often: soon after your decision, now and then while others decide. */
const AFTER_DECISION_MS = 1000;
const WHILE_WAITING_MS = 5000;

export function ChatAnswer({
  slug,
  message,
  streaming,
  canDecide,
  onRunEnd,
}: {
  slug: string;
  message: RunMessage;
  /** Its run is streaming now. */
  streaming: boolean;
  canDecide: boolean;
  /** The run ended after it streamed (its continuation): lists of runs are out of date. */
  onRunEnd: () => void;
}) {
  const [decided, setDecided] = useState<Record<string, Decision>>({});
  const anyDecided = Object.keys(decided).length > 0;
  const streamed = messageRun(message);
  const waiting = streamed?.status === 'waiting_approval';
  const everyMs = streaming || !streamed ? null : anyDecided ? AFTER_DECISION_MS : WHILE_WAITING_MS;
  const follow = useRunFollow(slug, streamed, everyMs);
  const continuation = useRunContinuation(slug, streamed?.id, Object.keys(decided).length);
  // The continuation's own end, once streamed, is the newest word on the run.
  const continued = continuation.message ? messageRun(continuation.message) : null;
  const run = continued && runEnded(continued.status) ? continued : follow.run;
  const answer = readAnswer(message);
  // A decided call's outcome, which the continuation streams before its first step, shows on
  // that call's own card (its result, error or denial); its steps below it. (A provider may
  // number calls afresh: a later step's `call_0` is another call.)
  const { outcome, rest } = readContinuation(continuation.message);
  const parts = answer.parts.map((p): AnswerPart => {
    const settled = p.kind === 'tool' && p.call.approval ? outcome.get(p.call.id) : undefined;
    if (!settled || p.kind !== 'tool') return p;
    // It ran, so a person approved it; a denial reads as one already.
    const decided =
      settled.decided ?? (settled.state === 'done' || settled.state === 'failed' ? 'approved' : undefined);
    // Its card stays (saying you decided it); the call says how it went.
    return { kind: 'tool', call: { ...settled, approval: p.call.approval, ...(decided ? { decided } : {}) } };
  });
  const unpaired = answer.unpaired;
  const endedLater = waiting && run !== null && runEnded(run.status);
  // biome-ignore lint/correctness/useExhaustiveDependencies: once, when the continuation ends.
  useEffect(() => {
    if (endedLater) onRunEnd();
  }, [endedLater]);

  const card = (approval: RunApproval) => (
    <ApprovalCard
      key={approval.approvalId}
      slug={slug}
      approval={approval}
      run={run}
      canDecide={canDecide}
      standing={standing(run, approval.approvalId, decided[approval.approvalId])}
      onDecided={(d) => setDecided((x) => ({ ...x, [approval.approvalId]: d }))}
    />
  );

  return (
    <article className="chat-message chat-answer" aria-label="Answer" data-testid="chat-answer">
      {parts.length === 0 && streaming ? <p className="muted chat-thinking">Thinking…</p> : null}
      <AnswerParts
        parts={parts}
        standingOf={(a) => STANDING[standing(run, a.approvalId, decided[a.approvalId])]}
        card={card}
      />
      {unpaired.map((a) => (
        <section
          key={a.approvalId}
          className="tool-call tool-call-waiting"
          aria-label={`Tool call ${a.tool}`}
        >
          <div className="tool-call-header">
            <code>{a.tool}</code>
          </div>
          {card(a)}
        </section>
      ))}
      {waiting && run ? (
        <Continuation
          streamed={streamed}
          run={run}
          decided={anyDecided}
          parts={rest}
          streaming={continuation.message !== null}
        />
      ) : null}
      <Alert message={follow.error ?? continuation.error} />
      {run ? <RunFooter slug={slug} run={run} /> : null}
    </article>
  );
}

/** A call waiting for a person: decide it here, or see that it waits for someone who may. */
function ApprovalCard({
  slug,
  approval,
  run,
  canDecide,
  standing,
  onDecided,
}: {
  slug: string;
  approval: RunApproval;
  run: Run | null;
  canDecide: boolean;
  standing: Standing;
  onDecided: (d: Decision) => void;
}) {
  const [reason, setReason] = useState('');
  const { busy, error, run: act } = useAction();
  const wait = run?.waitingFor.find((w) => w.approvalId === approval.approvalId);
  const decide = (d: Decision) =>
    act(async () => {
      markDecidedHere(approval.approvalId);
      await api.decideApproval(slug, approval.approvalId, d, reason.trim() || undefined);
      onDecided(d);
    });

  if (standing === 'approve' || standing === 'deny') {
    return (
      <p className={`approval-card approval-card-${standing}`} data-testid="approval-card">
        {standing === 'approve' ? 'You approved this call.' : 'You denied this call.'}
      </p>
    );
  }
  if (standing === 'closed' || !wait) {
    return (
      <p className="approval-card approval-card-closed" data-testid="approval-card">
        No longer waiting: decided, expired or stopped (see the run).
      </p>
    );
  }
  const expires = `It expires ${formatTime(wait.expiresAt)}.`;
  if (!canDecide) {
    return (
      <p className="approval-card" data-testid="approval-card">
        Waiting for an approver: an owner or admin of the organization decides this call. {expires}
      </p>
    );
  }
  return (
    <div className="approval-card approval-card-open" data-testid="approval-card">
      <p className="approval-card-question">
        This call waits for your approval. Approving lets the agent make exactly this call, once. {expires}
      </p>
      <Alert message={error} />
      <div className="approval-card-actions">
        <TextField
          label="Reason (optional)"
          value={reason}
          maxLength={1000}
          onChange={setReason}
          autoComplete="off"
        />
        <button
          type="button"
          className="btn btn-primary btn-small"
          disabled={busy}
          onClick={() => decide('approve')}
        >
          Approve
        </button>
        <button
          type="button"
          className="btn btn-danger-ghost btn-small"
          disabled={busy}
          onClick={() => decide('deny')}
        >
          Deny
        </button>
      </div>
    </div>
  );
}

/** An answer's text and tool calls in order; a call waiting for a person with its standing and card. */
function AnswerParts({
  parts,
  standingOf,
  card,
}: {
  parts: AnswerPart[];
  standingOf?: (approval: RunApproval) => (typeof STANDING)[Standing];
  card?: (approval: RunApproval) => ReactNode;
}) {
  return parts.map((p, i) =>
    p.kind === 'text' ? (
      // Parts have no id of their own; their order is what they are.
      // biome-ignore lint/suspicious/noArrayIndexKey: an answer's parts only grow at the end.
      <p key={i} className="chat-text">
        {p.text}
      </p>
    ) : (
      <ToolCall
        key={p.call.id}
        call={p.call}
        standing={
          p.call.approval && p.call.state === 'waiting' && standingOf
            ? standingOf(p.call.approval)
            : undefined
        }
      >
        {p.call.approval && card ? card(p.call.approval) : null}
      </ToolCall>
    ),
  );
}

/**
 * What the run did after the decision: streamed as it goes when decided here (`parts`, less the
 * decided calls' outcomes, shown on their cards), else read again until it ends and shown with
 * its answer.
 */
function Continuation({
  streamed,
  run,
  decided,
  parts: live,
  streaming,
}: {
  streamed: Run | null;
  run: Run;
  decided: boolean;
  parts: AnswerPart[];
  /** The continuation is followed here (it was decided here). */
  streaming: boolean;
}) {
  const unchanged =
    run.status === 'waiting_approval' && run.waitingFor.length === (streamed?.waitingFor.length ?? 0);
  if (unchanged && !decided) return null;
  if (live.length === 0 && !runEnded(run.status)) {
    return (
      <p className="muted chat-resumed" aria-live="polite">
        Resumed… its answer shows here as it comes.
      </p>
    );
  }
  return (
    <div
      className="chat-continuation"
      aria-live="polite"
      data-testid="chat-continuation"
      data-streamed={streaming ? 'true' : 'false'}
    >
      <p className="muted chat-resumed">Resumed after the decision:</p>
      {live.length > 0 ? (
        <AnswerParts parts={live} />
      ) : run.output ? (
        <p className="chat-text">{run.output}</p>
      ) : null}
      {run.error && runEnded(run.status) ? <Alert message={run.error.message} /> : null}
    </div>
  );
}

function RunFooter({ slug, run }: { slug: string; run: Run }) {
  const tokens = run.usage.inputTokens + run.usage.outputTokens;
  return (
    <footer className="chat-run">
      <RunStatusBadge status={run.status} testId="chat-run-status" />
      <span className="muted">
        {run.steps} {run.steps === 1 ? 'step' : 'steps'} · {tokens} tokens
      </span>
      {run.error && run.status !== 'waiting_approval' ? (
        <span className="muted">{run.error.message}</span>
      ) : null}
      <Link to={runPath(slug, run.id)} className="chat-run-link">
        Run {run.id}
      </Link>
    </footer>
  );
}
