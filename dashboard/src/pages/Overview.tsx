/**
 * `/orgs/{slug}`: the org's home. Those who oversee it (owners, admins, auditors) see it at a
 * glance (approvals waiting, stops, the cell, the log, controls, activity over time); owners and
 * admins edit its name and settings, and its retention (RetentionSettings.tsx).
 * While it has no agents, owners and admins are offered the demo agent, which opens in the chat.
 */
import { useState } from 'react';
import { api, canManage } from '../api/index.ts';
import { useAction, useLoad } from '../data/index.ts';
import type { PageProps } from '../page.ts';
import { Link, navigate } from '../router.tsx';
import {
  Alert,
  formatDate,
  NameField,
  Notice,
  onSubmit,
  PageHeader,
  RoleBadge,
  Section,
  TextField,
} from '../ui/index.ts';
import { GettingStarted } from './GettingStarted.tsx';
import { OverviewGlance } from './OverviewGlance.tsx';
import { chatPath } from './paths.ts';
import { RetentionSettings } from './RetentionSettings.tsx';

export function OverviewPage({ org, me, refreshOrgs }: PageProps) {
  const manage = canManage(org.role);
  const [name, setName] = useState(org.name);
  const [sessionHours, setSessionHours] = useState(String(org.settings.sessionHours));
  const [maxTokenDays, setMaxTokenDays] = useState(
    org.settings.maxTokenDays === null ? '' : String(org.settings.maxTokenDays),
  );
  const [saved, setSaved] = useState<string | null>(null);
  const { busy, error, setError, run } = useAction();

  const save = () => {
    setSaved(null);
    const hours = Number(sessionHours);
    if (!Number.isInteger(hours) || hours < 1 || hours > 720) {
      setError('Session length is a whole number of hours from 1 to 720.');
      return;
    }
    const days = maxTokenDays.trim() === '' ? null : Number(maxTokenDays);
    if (days !== null && (!Number.isInteger(days) || days < 1 || days > 3650)) {
      setError('Maximum token lifetime is a whole number of days from 1 to 3650, or blank for no limit.');
      return;
    }
    void run(async () => {
      await api.updateOrg(org.slug, {
        name: name.trim(),
        settings: { sessionHours: hours, maxTokenDays: days },
      });
      await refreshOrgs();
      setSaved('Settings saved.');
    });
  };

  return (
    <>
      <PageHeader title={org.name}>Welcome, {me.name || me.email}.</PageHeader>
      {manage ? <GettingStarted org={org} /> : null}
      {manage ? <DemoOffer slug={org.slug} /> : null}
      {org.role === 'member' ? null : <OverviewGlance org={org} />}
      <Section title="Organization">
        <dl className="facts">
          <dt>Name</dt>
          <dd>{org.name}</dd>
          <dt>Slug</dt>
          <dd>
            <code>{org.slug}</code>
          </dd>
          <dt>Your role</dt>
          <dd>
            <RoleBadge role={org.role} />
          </dd>
          <dt>Created</dt>
          <dd>{formatDate(org.createdAt)}</dd>
          <dt>Session length</dt>
          <dd>{org.settings.sessionHours} hours</dd>
          <dt>Maximum token lifetime</dt>
          <dd>{org.settings.maxTokenDays === null ? 'No limit' : `${org.settings.maxTokenDays} days`}</dd>
        </dl>
      </Section>
      {manage ? (
        <Section title="Edit settings">
          <Alert message={error} />
          <Notice message={saved} />
          <form className="form-grid" onSubmit={onSubmit(save)}>
            <NameField value={name} onChange={setName} />
            <TextField
              label="Session length (hours)"
              type="number"
              min={1}
              max={720}
              value={sessionHours}
              required
              onChange={setSessionHours}
              hint="How long a dashboard sign-in lasts."
            />
            <TextField
              label="Maximum token lifetime (days)"
              type="number"
              min={1}
              max={3650}
              value={maxTokenDays}
              onChange={setMaxTokenDays}
              hint="Blank for no limit."
            />
            <div className="form-actions">
              <button type="submit" className="btn btn-primary" disabled={busy}>
                {busy ? 'Saving…' : 'Save changes'}
              </button>
            </div>
          </form>
        </Section>
      ) : null}
      {org.role === 'member' ? null : <RetentionSettings org={org} manage={manage} onSaved={refreshOrgs} />}
    </>
  );
}

/**
 * While the org has no agents: the demo agent (a replay, no model key) on the demo order desk,
 * added in one click and opened in the chat with its message ready to send.
 */
function DemoOffer({ slug }: { slug: string }) {
  const agents = useLoad(() => api.agents(slug), slug);
  const { busy, error, run } = useAction();
  const [problem, setProblem] = useState<{ text: string; chat: string } | null>(null);
  if (!agents.data || agents.data.length > 0) return null;
  const add = () =>
    run(async () => {
      const demo = await api.addDemo(slug);
      const chat = chatPath(slug, demo.agentId, { message: demo.message });
      if (demo.listed) navigate(chat);
      else setProblem({ text: demo.problem ?? 'The demo order desk could not be reached.', chat });
    });
  return (
    <div id="demo">
      <Section title="See an agent at work">
        <p>
          No agents yet. The demo agent shows what Paddock does in a minute, with no model key: it replays a
          conversation on a demo order desk, governed by two grants. You watch one tool call allowed, one
          refused, one waiting for your approval, the answer, and every step in the audit trail.
        </p>
        <Alert message={error} />
        {problem ? (
          <div className="alert alert-error" role="alert">
            The demo agent was added, but its tools could not be listed: {problem.text}{' '}
            <Link to={problem.chat}>Open its chat anyway</Link>.
          </div>
        ) : (
          <button type="button" className="btn btn-primary" disabled={busy} onClick={() => void add()}>
            {busy ? 'Adding the demo…' : 'Try the demo agent'}
          </button>
        )}
      </Section>
    </div>
  );
}
