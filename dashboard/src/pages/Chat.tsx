/**
 * `/orgs/{slug}/agents/{id}/chat`: talk to an agent. Each message is a run in the org's cell,
 * streamed (its text, its tool calls, a call waiting for a person); the conversation goes on
 * until "New conversation", and your earlier conversations with the agent are listed beside it
 * (`?conversation=` opens one, `?message=` fills the input). Auditors read runs but start none.
 */
import { type KeyboardEvent, useEffect, useState } from 'react';
import {
  type Agent,
  ApiError,
  api,
  type Conversation as ConversationRead,
  type ConversationSummary,
  canManage,
  canStartRuns,
  messageText,
  type OrgWithRole,
  type RunMessage,
} from '../api/index.ts';
import { useAction, useLoad, useRunChat } from '../data/index.ts';
import type { PageProps } from '../page.ts';
import { Link, navigate } from '../router.tsx';
import { Alert, formatTime, Loading, onSubmit, RunStatusBadge, TextAreaField } from '../ui/index.ts';
import { ChatAnswer } from './ChatAnswer.tsx';
import { agentPath, chatPath, runPath } from './paths.ts';

/**
 * A conversation read back as the chat showed it (each message, its answer's text and tool calls
 * with their results, its run). The server writes the AI SDK's own UI message parts.
 */
const messagesOf = (conversation: ConversationRead | null | undefined): RunMessage[] =>
  (conversation?.messages ?? []) as RunMessage[];

export function ChatPage({ org, detail, query }: PageProps) {
  const agentId = detail ?? '';
  const agent = useLoad(() => api.agent(org.slug, agentId), `${org.slug}/${agentId}`);
  const mine = useLoad(() => api.conversations(org.slug, agentId), `${org.slug}/${agentId}`);
  // "New conversation" starts afresh even when the address does not change.
  const [fresh, setFresh] = useState(0);
  const asked = query.get('conversation');
  // The conversation begun on this page: its address names it (a reload reopens it), and the
  // chat it streams in stays as it is — it is not read back while it goes on.
  const [begunHere, setBegunHere] = useState<string | null>(null);
  const reading = asked && asked !== begunHere ? asked : null;
  // Read on its own (an older one than the list shows opens too); another's, or another agent's, is none.
  const read = useLoad(async () => {
    if (!reading) return null;
    const found = await api.conversation(org.slug, reading).catch((err: unknown) => {
      // Not one (a mistyped id) or not yours: the same to you.
      if (err instanceof ApiError && (err.status === 404 || err.status === 400)) return null;
      throw err;
    });
    return found?.agentId === agentId ? found : null;
  }, `${org.slug}/${agentId}/${reading}`);
  const opened = read.data ?? undefined;

  const back = (
    <p className="back-link">
      <Link to={agentPath(org.slug, agentId)}>← {agent.data?.name ?? 'The agent'}</Link>
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
  const talks = canStartRuns(org.role);
  const newConversation = () => {
    if (asked) navigate(chatPath(org.slug, a.id));
    setBegunHere(null);
    setFresh((n) => n + 1);
  };

  return (
    <>
      {back}
      <header className="page-header chat-header">
        <div className="agent-title">
          <h1>Chat with {a.name}</h1>
          {talks ? (
            <button type="button" className="btn btn-secondary btn-small" onClick={newConversation}>
              New conversation
            </button>
          ) : null}
        </div>
        <p className="page-lead">
          Each message runs {a.name} in {org.name}’s cell, with only the tools it is granted; every step is in
          the audit trail.
          {a.model.provider === 'demo'
            ? ' This agent is a replay (provider demo): it plays the same conversation whatever you send.'
            : ''}
        </p>
      </header>
      <div className={talks ? 'chat-layout' : undefined}>
        <div className="chat-main">
          {reading && read.data === undefined && !read.error ? (
            <Loading what="the conversation" />
          ) : (
            <>
              {reading && read.data === null ? (
                <Alert message="That conversation is not one of yours with this agent: this is a new one." />
              ) : null}
              <Alert message={read.error} />
              <ChatConversation
                key={`${opened?.id ?? 'new'}/${fresh}`}
                onConversation={(id) => {
                  setBegunHere(id);
                  navigate(chatPath(org.slug, a.id, { conversation: id }), { replace: true });
                }}
                org={org}
                agent={a}
                start={{ conversationId: opened?.id ?? null, messages: messagesOf(opened) }}
                prefill={opened ? '' : (query.get('message') ?? '')}
                onRunEnd={() => void mine.reload()}
              />
            </>
          )}
        </div>
        {talks ? (
          <ConversationList
            slug={org.slug}
            agentId={a.id}
            conversations={mine.data ?? []}
            current={asked}
            error={mine.error}
          />
        ) : null}
      </div>
    </>
  );
}

function ChatConversation({
  org,
  agent,
  start,
  prefill,
  onRunEnd,
  onConversation,
}: {
  org: OrgWithRole;
  agent: Agent;
  start: { conversationId: string | null; messages: RunMessage[] };
  prefill: string;
  onRunEnd: () => void;
  /** The conversation a first message here began, once the server named it. */
  onConversation: (id: string) => void;
}) {
  const chat = useRunChat(org.slug, agent.id, start, onRunEnd);
  // biome-ignore lint/correctness/useExhaustiveDependencies: once, when the server names a new conversation.
  useEffect(() => {
    if (chat.conversationId && chat.conversationId !== start.conversationId)
      onConversation(chat.conversationId);
  }, [chat.conversationId]);
  const stop = useAction();
  const stopped = agent.state === 'stopped' || org.agentsStoppedAt !== null;
  const last = chat.messages.length - 1;
  return (
    <section className="chat" aria-label="Conversation">
      <div className="chat-log" role="log" aria-label="Messages">
        {chat.messages.length === 0 && canStartRuns(org.role) ? (
          <p className="empty">
            Nothing said yet. A message starts a run of {agent.name}; its answer streams here.
          </p>
        ) : null}
        {chat.messages.map((m, i) =>
          m.role === 'user' ? (
            <article key={m.id} className="chat-message chat-mine" aria-label="Your message">
              <p className="chat-text">{messageText(m)}</p>
            </article>
          ) : (
            <ChatAnswer
              key={m.id}
              slug={org.slug}
              message={m}
              streaming={chat.streaming && i === last}
              canDecide={canManage(org.role)}
              onRunEnd={onRunEnd}
            />
          ),
        )}
      </div>
      <Alert message={chat.error ?? stop.error} />
      {!canStartRuns(org.role) ? (
        <p className="alert alert-info" data-testid="chat-read-only">
          Auditors read runs and their audit trail but do not start them, so there is no message input for you
          here. <Link to={runPath(org.slug)}>See the runs</Link>.
        </p>
      ) : stopped ? (
        <p className="alert alert-error">
          {agent.name} is stopped{org.agentsStoppedAt ? ' (all agents of the organization are)' : ''}: no run
          starts until it is resumed.
        </p>
      ) : (
        <Composer
          initial={prefill}
          streaming={chat.streaming}
          stopping={stop.busy}
          onSend={chat.send}
          onStop={() => void stop.run(chat.stop)}
        />
      )}
    </section>
  );
}

/** The message input: Enter sends (Shift+Enter for a new line); Stop while a run streams. */
function Composer({
  initial,
  streaming,
  stopping,
  onSend,
  onStop,
}: {
  initial: string;
  streaming: boolean;
  stopping: boolean;
  onSend: (text: string) => void;
  onStop: () => void;
}) {
  const [text, setText] = useState(initial);
  const submit = () => {
    const message = text.trim();
    if (!message || streaming) return;
    onSend(message);
    setText('');
  };
  const enter = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key !== 'Enter' || e.shiftKey || e.nativeEvent.isComposing) return;
    e.preventDefault();
    submit();
  };
  return (
    <form className="chat-composer" aria-label="Send a message" onSubmit={onSubmit(submit)}>
      <TextAreaField
        label="Message"
        value={text}
        onChange={setText}
        onKeyDown={enter}
        rows={3}
        maxLength={32_000}
      />
      <div className="form-actions">
        {streaming ? (
          <button type="button" className="btn btn-danger-ghost" disabled={stopping} onClick={onStop}>
            {stopping ? 'Stopping…' : 'Stop'}
          </button>
        ) : (
          <button type="submit" className="btn btn-primary" disabled={!text.trim()}>
            Send
          </button>
        )}
      </div>
    </form>
  );
}

function ConversationList({
  slug,
  agentId,
  conversations,
  current,
  error,
}: {
  slug: string;
  agentId: string;
  conversations: ConversationSummary[];
  current: string | null;
  error: string | null;
}) {
  return (
    <nav className="chat-history card" aria-label="Your conversations">
      <h2 className="chat-history-title">Your conversations</h2>
      <Alert message={error} />
      {conversations.length === 0 ? (
        <p className="muted">None yet.</p>
      ) : (
        <ul className="plain-list chat-history-list">
          {conversations.map((c) => (
            <li key={c.id}>
              <Link
                to={chatPath(slug, agentId, { conversation: c.id })}
                aria-current={c.id === current ? 'page' : undefined}
                className={c.id === current ? 'chat-history-item active' : 'chat-history-item'}
              >
                <span className="chat-history-text">{c.title}</span>
                <span className="sub">
                  {formatTime(c.latestRun?.createdAt ?? c.updatedAt)} · {c.runs}{' '}
                  {c.runs === 1 ? 'message' : 'messages'}
                </span>
              </Link>
              {c.latestRun && c.latestRun.status !== 'completed' ? (
                <RunStatusBadge status={c.latestRun.status} />
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </nav>
  );
}
