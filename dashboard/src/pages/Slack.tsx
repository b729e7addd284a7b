/**
 * `/orgs/{slug}/slack`: the org's Slack app as installed (workspace, the events URL to give
 * Slack, which agent answers in which channel), and the signed-in person's own link to their
 * Slack account: a one-time code, shown once, that they send the app. Installing and binding
 * are done with `paddock slack` or the API (docs/slack.md).
 */
import { useState } from 'react';
import { api, canStartRuns, type SlackLinkCode } from '../api/index.ts';
import { useAction, useLoad } from '../data/index.ts';
import type { PageProps } from '../page.ts';
import {
  Alert,
  ConfirmButton,
  CopyButton,
  DataTable,
  formatTime,
  Loading,
  PageHeader,
  Section,
} from '../ui/index.ts';

export function SlackPage({ org }: PageProps) {
  const slack = useLoad(() => api.slack(org.slug), org.slug);
  const link = useLoad(() => api.slackLink(org.slug), org.slug);
  const agents = useLoad(() => api.agents(org.slug), org.slug);
  const { busy, error, run } = useAction();
  const [code, setCode] = useState<SlackLinkCode | null>(null);
  const installed = slack.data?.slack ?? null;
  const agentName = (id: string) => agents.data?.find((a) => a.id === id)?.name ?? id;

  return (
    <>
      <PageHeader title="Slack">
        Agents of {org.name} answer mentions and direct messages in your Slack workspace, as the person who
        wrote them.
      </PageHeader>
      <Alert message={slack.error ?? link.error ?? error} />
      {!slack.data ? (
        <Loading what="the Slack app" />
      ) : (
        <>
          <Section title="App">
            {installed ? (
              <dl className="facts">
                <dt>Workspace</dt>
                <dd>
                  <code>{installed.teamId}</code>
                </dd>
                {installed.socketMode ? (
                  <>
                    <dt>Events</dt>
                    <dd data-testid="slack-socket-mode">
                      Over Socket Mode (a connection Paddock opens to Slack)
                    </dd>
                  </>
                ) : (
                  <>
                    <dt>Events URL</dt>
                    <dd className="secret-row">
                      <code data-testid="slack-events-url">{installed.eventsUrl}</code>
                      <CopyButton text={installed.eventsUrl} />
                    </dd>
                  </>
                )}
                <dt>Approval cards</dt>
                <dd>
                  {installed.approvalsChannel ? <code>{installed.approvalsChannel}</code> : 'Not posted'}
                </dd>
                <dt>Installed</dt>
                <dd>{formatTime(installed.installedAt)}</dd>
              </dl>
            ) : (
              <p>
                Slack is not installed. An owner or admin installs it with <code>paddock slack install</code>{' '}
                (see the Slack guide in the documentation).
              </p>
            )}
          </Section>
          {installed ? (
            <Section title="Channels">
              {installed.bindings.length === 0 ? (
                <p>No channel is bound to an agent yet.</p>
              ) : (
                <DataTable label="Channels and the agents that answer in them" headers={['Channel', 'Agent']}>
                  {installed.bindings.map((b) => (
                    <tr key={b.channelId} data-testid="slack-binding">
                      <td>
                        <code>{b.channelId === 'dm' ? 'Direct messages' : b.channelId}</code>
                      </td>
                      <td>{agentName(b.agentId)}</td>
                    </tr>
                  ))}
                </DataTable>
              )}
            </Section>
          ) : null}
          {installed ? (
            <Section title="Your Slack account">
              {!link.data ? (
                <Loading what="your link" />
              ) : link.data.link ? (
                <>
                  <p data-testid="slack-linked">
                    Linked to Slack user <code>{link.data.link.slackUserId}</code> since{' '}
                    {formatTime(link.data.link.linkedAt)}. Only a linked account can decide approvals in
                    Slack.
                  </p>
                  <ConfirmButton
                    label="Unlink my Slack account"
                    confirmLabel="Unlink"
                    question="Unlink your Slack account? You can link it again with a new code."
                    disabled={busy}
                    onConfirm={async () => {
                      await run(async () => {
                        await api.slackUnlink(org.slug);
                        await link.reload();
                      });
                    }}
                  />
                </>
              ) : (
                <>
                  <p>
                    Not linked. Slack finds you by your email; link your account to decide approvals from
                    Slack.
                  </p>
                  {code ? (
                    <div className="secret-row">
                      <p>
                        Send the Paddock app this direct message in Slack before {formatTime(code.expiresAt)}:{' '}
                        <code data-testid="slack-link-code">link {code.code}</code>
                      </p>
                      <CopyButton text={`link ${code.code}`} what="link message" />
                    </div>
                  ) : canStartRuns(org.role) ? (
                    <button
                      type="button"
                      className="btn btn-primary"
                      disabled={busy}
                      onClick={() => {
                        void run(async () => setCode(await api.slackLinkCode(org.slug)));
                      }}
                    >
                      Link my Slack account
                    </button>
                  ) : null}
                </>
              )}
            </Section>
          ) : null}
        </>
      )}
    </>
  );
}
