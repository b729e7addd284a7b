/**
 * The Overview's getting-started checklist for owners and admins of a new org: seven steps from
 * the demo to an auditor's access, each linking to where it is done and ticked from what the org
 * holds (its agents, connections, grants and calls on record, its people and invitations), live.
 * Gone once every step is done, or when hidden.
 */
import { useState } from 'react';
import { api, type OrgWithRole } from '../api/index.ts';
import { trailSeen, useLiveReload, useLoad } from '../data/index.ts';
import { Link } from '../router.tsx';
import { Section } from '../ui/index.ts';
import { agentPath, auditPath } from './paths.ts';

interface Step {
  title: string;
  done: boolean;
  to: string;
  action: string;
  why: string;
}

const hiddenKey = (slug: string) => `paddock:checklist-hidden:${slug}`;

/** Whether the org's log holds an entry of this action (or action prefix ending in `*`). */
async function onRecord(slug: string, action: string): Promise<boolean> {
  return (await api.audit(slug, { action }, null, 1)).events.length > 0;
}

export function GettingStarted({ org }: { org: OrgWithRole }) {
  const slug = org.slug;
  const base = `/orgs/${encodeURIComponent(slug)}`;
  const [hidden, setHidden] = useState(() => localStorage.getItem(hiddenKey(slug)) === '1');
  const state = useLoad(async () => {
    const [agents, connections, granted, called, people, invitations, tokens] = await Promise.all([
      api.agents(slug),
      api.connections(slug),
      onRecord(slug, 'grant.created'),
      onRecord(slug, 'tool.call.*'),
      api.people(slug),
      api.invitations(slug),
      api.tokens(slug),
    ]);
    const live = (t: { expiresAt: string | null }) =>
      t.expiresAt === null || Date.parse(t.expiresAt) > Date.now();
    return {
      demo: agents.some((a) => a.model.provider === 'demo'),
      agent: agents.find((a) => a.model.provider !== 'demo') ?? null,
      connected: connections.some((c) => c.name !== 'demo'),
      granted,
      called,
      auditor:
        people.some((p) => p.role === 'auditor') ||
        invitations.some((i) => i.role === 'auditor' && !i.usedAt && live(i)) ||
        // The README's way: an auditor token for the audit's scripts.
        tokens.some((t) => t.role === 'auditor' && t.revokedAt === null && live(t)),
    };
  }, slug);
  useLiveReload(['activity', 'agents'], state.reload, 2000);
  if (hidden || !state.data) return null;
  const s = state.data;
  const agentPage = s.agent ? agentPath(slug, s.agent.id) : agentPath(slug);
  const steps: Step[] = [
    {
      title: 'Try the demo agent',
      done: s.demo,
      to: `${base}#demo`,
      action: 'Try the demo',
      why: 'One conversation replayed on a demo order desk: a call allowed, one refused, one waiting for you.',
    },
    {
      // The demo's own connection and agent do not count: these steps are for yours.
      title: 'Connect your own MCP server',
      done: s.connected,
      to: `${base}/connections`,
      action: 'Add a server',
      why: 'The tools your agents may be granted come from the MCP servers you connect.',
    },
    {
      title: 'Create your own agent',
      done: s.agent !== null,
      to: agentPath(slug),
      action: 'New agent',
      why: 'An identity of its own, with a scope, a model, and no tools until you grant them.',
    },
    {
      title: 'Grant it a tool',
      done: s.granted,
      to: agentPage,
      action: 'Add a grant',
      why: 'Every tool is denied until granted: with conditions on its arguments, or a person’s approval.',
    },
    {
      title: 'Make a test call',
      done: s.called,
      to: agentPage,
      action: 'Make a call',
      why: 'Call a tool as the agent, granted or not, and see it allowed, denied or waiting for approval.',
    },
    {
      title: 'See it in the audit trail',
      done: trailSeen(slug),
      to: auditPath(slug),
      action: 'Open the trail',
      why: 'Every decision is an entry of a signed, tamper-evident log; open one to see its proof.',
    },
    {
      title: 'Give your auditor access',
      done: s.auditor,
      to: `${base}/people`,
      action: 'Give access',
      why: 'Auditors read everything an admin reads, compliance included, and change nothing.',
    },
  ];
  const done = steps.filter((x) => x.done).length;
  if (done === steps.length) return null;
  return (
    <Section
      title="Getting started"
      actions={
        <button
          type="button"
          className="btn btn-ghost btn-small"
          onClick={() => {
            localStorage.setItem(hiddenKey(slug), '1');
            setHidden(true);
          }}
        >
          Hide
        </button>
      }
    >
      <p className="hint">
        {done} of {steps.length} done. Each step ticks itself once it is done.
      </p>
      <ol className="checklist" data-testid="getting-started">
        {steps.map((x) => (
          <li key={x.title} className={x.done ? 'check-step check-done' : 'check-step'} data-done={x.done}>
            <span className="check-mark" aria-hidden="true">
              {x.done ? '✓' : ''}
            </span>
            <span className="check-text">
              <strong>{x.title}</strong>
              <span className="sr-only">{x.done ? ' (done)' : ' (to do)'}</span>
              <span className="sub">{x.why}</span>
            </span>
            {x.done ? null : (
              <Link to={x.to} className="btn btn-secondary btn-small">
                {x.action}
              </Link>
            )}
          </li>
        ))}
      </ol>
    </Section>
  );
}
