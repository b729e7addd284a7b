/**
 * `/orgs/{slug}/agents`: the agents you can see (by scope; owners, admins and auditors see all),
 * a form for a new one, and the org-wide kill switch (owners and admins; everyone sees the banner
 * while it is on). `/orgs/{slug}/agents/{id}` is one agent (AgentDetail.tsx), `…/chat` the chat with it (Chat.tsx).
 */
import { lazy, Suspense, useState } from 'react';
import { type Agent, api, canManage, type OrgWithRole } from '../api/index.ts';
import { useLiveReload, useLoad } from '../data/index.ts';
import type { PageProps } from '../page.ts';
import { Link, navigate } from '../router.tsx';
import { Alert, formatTime, KillSwitchPanel, Loading, PageHeader, Section } from '../ui/index.ts';
import { AgentDetail } from './AgentDetail.tsx';
import {
  AgentForm,
  type AgentRefs,
  AgentStateBadge,
  canCreateAgents,
  personName,
  SCOPE_LABEL,
  teamName,
  useAgentRefs,
} from './AgentForm.tsx';
import { agentPath } from './paths.ts';

// The chat brings the AI SDK: loaded when a chat opens, not with every page.
const ChatPage = lazy(() => import('./Chat.tsx').then((m) => ({ default: m.ChatPage })));

export function AgentsPage(props: PageProps) {
  if (!props.detail) return <AgentList {...props} />;
  if (props.view !== 'chat') return <AgentDetail {...props} id={props.detail} />;
  return (
    <Suspense fallback={<Loading what="the chat" />}>
      <ChatPage {...props} />
    </Suspense>
  );
}

/**
 * Stop every agent of the org at once (confirm first), and resume them. The state is read fresh
 * (`GET /orgs/{slug}`): someone else may have pulled the switch since the page opened.
 */
function OrgKillSwitch({
  org,
  current,
  onChange,
}: {
  org: OrgWithRole;
  current: ReturnType<typeof useLoad<OrgWithRole>>;
  onChange: () => Promise<void>;
}) {
  const stoppedAt = (current.data ?? org).agentsStoppedAt;
  return (
    <>
      <Alert message={current.error} />
      <KillSwitchPanel
        stopped={stoppedAt !== null}
        title={stoppedAt ? 'All agents are stopped' : 'Organization-wide kill switch'}
        write={canManage(org.role)}
        testId="org-killswitch"
        labels={{
          stop: 'Stop all agents',
          question: `Stop every agent of ${org.name} now?`,
          confirm: 'Yes, stop all agents',
          stopping: 'Stopping…',
          resume: 'Resume all agents',
          resuming: 'Resuming…',
        }}
        onAct={async (action) => {
          await api.setOrgAgentsStopped(org.slug, action);
          await Promise.all([current.reload(), onChange()]);
        }}
      >
        {stoppedAt
          ? `The organization-wide kill switch is on since ${formatTime(stoppedAt)}: no tool call of any agent of ${org.name} runs. Agents stopped one by one stay stopped after a resume.`
          : `Stopping all agents refuses every tool call of every agent of ${org.name} from that moment on, until someone resumes them.`}
      </KillSwitchPanel>
    </>
  );
}

function AgentList({ org, me, refreshOrgs }: PageProps) {
  const agents = useLoad(() => api.agents(org.slug), org.slug);
  // An agent stopped, resumed or changed elsewhere shows here without a reload.
  useLiveReload(['agents'], agents.reload);
  // So does the org's stop: the switch and each agent's state read it.
  const current = useLoad(() => api.org(org.slug), org.slug);
  useLiveReload(['agents'], current.reload);
  const orgStopped = (current.data ?? org).agentsStoppedAt !== null;
  const refs = useAgentRefs(org);
  const create = canCreateAgents(org.role);
  const [creating, setCreating] = useState(false);

  return (
    <>
      <PageHeader title="Agents">
        {org.role === 'member'
          ? `The agents of ${org.name} you can see: yours, your teams’ and the organization’s.`
          : `Every agent of ${org.name}. Each acts as itself, never with the rights of the person who made it.`}
      </PageHeader>
      <OrgKillSwitch org={org} current={current} onChange={refreshOrgs} />
      {creating ? (
        <Section title="New agent">
          <AgentForm
            org={org}
            meId={me.id}
            refs={refs}
            onSaved={(a) => navigate(agentPath(org.slug, a.id))}
            onCancel={() => setCreating(false)}
          />
        </Section>
      ) : null}
      <Section
        title="Agents"
        actions={
          create && !creating ? (
            <button type="button" className="btn btn-primary btn-small" onClick={() => setCreating(true)}>
              New agent
            </button>
          ) : null
        }
      >
        <Alert message={agents.error ?? refs.error} />
        {!agents.data ? (
          <Loading what="agents" />
        ) : agents.data.length === 0 ? (
          <p className="empty">
            No agents yet. An agent is an AI assistant whose every tool call passes Paddock’s gate: it may
            call only the tools granted to it, and each call is recorded.{' '}
            {create
              ? 'Create one with New agent, or try the demo agent from the Overview.'
              : 'An owner or admin creates them.'}
          </p>
        ) : (
          <AgentTable slug={org.slug} agents={agents.data} refs={refs} meId={me.id} orgStopped={orgStopped} />
        )}
      </Section>
    </>
  );
}

function AgentTable({
  slug,
  agents,
  refs,
  meId,
  orgStopped,
}: {
  slug: string;
  agents: Agent[];
  refs: AgentRefs;
  meId: string;
  /** The org's kill switch is on: no agent runs, whatever its own state. */
  orgStopped: boolean;
}) {
  return (
    <div className="table-wrap">
      <table aria-label="Agents">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Scope</th>
            <th scope="col">Model</th>
            <th scope="col">State</th>
            <th scope="col">Version</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {agents.map((a) => (
            <tr
              key={a.id}
              data-testid="agent-row"
              className={a.state === 'stopped' || orgStopped ? 'row-stopped' : undefined}
            >
              <td>
                <Link to={agentPath(slug, a.id)} className="agent-link">
                  {a.name}
                </Link>
                {a.description ? <div className="sub agent-description">{a.description}</div> : null}
              </td>
              <td className="nowrap">
                {SCOPE_LABEL[a.scope] ?? a.scope}
                {a.scope === 'team' ? <div className="sub">{teamName(refs, a.teamId)}</div> : null}
                {a.scope === 'private' ? (
                  <div className="sub">{personName(refs, a.ownerId, meId)}</div>
                ) : null}
              </td>
              <td>
                <code>
                  {a.model.provider}/{a.model.model}
                </code>
              </td>
              <td>
                <AgentStateBadge state={orgStopped ? 'stopped' : a.state} testId="agent-state" />
                {orgStopped ? <div className="sub">all agents (kill switch)</div> : null}
              </td>
              <td data-testid="agent-version">{a.version}</td>
              <td className="nowrap">{formatTime(a.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
