/**
 * `/orgs/{slug}/slack`: the org's Slack app as installed (workspace, the events URL to give
 * Slack, which agent answers in which channel), and the signed-in person's own link to their
 * Slack account: a one-time code, shown once, that they send the app. An owner or admin installs
 * the app (credentials write-only), replaces its credentials, uninstalls it, and binds and unbinds
 * channels here, as with `paddock slack` or the API (docs/slack.md); each change is audited.
 */
import { useState } from 'react';
import { api, canManage, canStartRuns, type SlackLinkCode } from '../api/index.ts';
import { useAction, useListAction, useLoad } from '../data/index.ts';
import type { PageProps } from '../page.ts';
import {
  Alert,
  ConfirmButton,
  CopyButton,
  DataTable,
  formatTime,
  Loading,
  Notice,
  PageHeader,
  Section,
} from '../ui/index.ts';
import { SlackBindForm, SlackInstallForm } from './SlackSetup.tsx';

export function SlackPage({ org }: PageProps) {
  const slack = useLoad(() => api.slack(org.slug), org.slug);
  const link = useLoad(() => api.slackLink(org.slug), org.slug);
  const agents = useLoad(() => api.agents(org.slug), org.slug);
  const { busy, error, run } = useAction();
  const admin = useListAction();
  const manage = canManage(org.role);
  const [code, setCode] = useState<SlackLinkCode | null>(null);
  const [replacing, setReplacing] = useState(false);
  const installed = slack.data?.slack ?? null;
  const agentName = (id: string) => agents.data?.find((a) => a.id === id)?.name ?? id;
  const channelName = (id: string) => (id === 'dm' ? 'Direct messages' : id);
  /** Where an agent answers, in a sentence: "in C0123ABCD", or "direct messages to the app". */
  const answersWhere = (id: string) => (id === 'dm' ? 'direct messages to the app' : `in ${id}`);

  return (
    <>
      <PageHeader title="Slack">
        Agents of {org.name} answer mentions and direct messages in your Slack workspace, as the person who
        wrote them.
      </PageHeader>
      <Alert message={slack.error ?? link.error ?? error ?? admin.error} />
      <Notice message={admin.notice} />
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
                <dt>Credentials</dt>
                <dd>Sealed in the vault; never shown again</dd>
              </dl>
            ) : (
              <p>
                Slack is not installed.{' '}
                {manage ? (
                  <>
                    Create the app in Slack (the Slack guide in the documentation has its manifest), then
                    enter its credentials below.
                  </>
                ) : (
                  <>
                    An owner or admin installs it here or with <code>paddock slack install</code> (see the
                    Slack guide in the documentation).
                  </>
                )}
              </p>
            )}
            {installed && manage ? (
              <div className="form-actions">
                <button
                  type="button"
                  className="btn btn-secondary btn-small"
                  aria-expanded={replacing}
                  onClick={() => setReplacing(!replacing)}
                >
                  Replace credentials
                </button>
                <ConfirmButton
                  label="Uninstall"
                  confirmLabel="Yes, uninstall"
                  question="Uninstall? Its credentials, bound channels and links are deleted."
                  onConfirm={() =>
                    admin.act(async () => {
                      await api.uninstallSlack(org.slug);
                      setReplacing(false);
                      return 'Slack uninstalled: its credentials, bound channels and links are deleted.';
                    }, slack.reload)
                  }
                />
              </div>
            ) : null}
          </Section>
          {manage && (!installed || replacing) ? (
            <SlackInstallForm
              key={installed?.installedAt ?? 'new'}
              slug={org.slug}
              installed={installed}
              onInstalled={async (s) => {
                setReplacing(false);
                admin.setNotice(
                  `Slack installed for workspace ${s.teamId}. Its credentials are sealed and will not be shown again.`,
                );
                await slack.reload();
              }}
            />
          ) : null}
          {installed ? (
            <Section title="Channels">
              {installed.bindings.length === 0 ? (
                <p>No channel is bound to an agent yet.</p>
              ) : (
                <DataTable
                  label="Channels and the agents that answer in them"
                  headers={['Channel', 'Agent']}
                  actions={manage}
                >
                  {installed.bindings.map((b) => (
                    <tr key={b.channelId} data-testid="slack-binding">
                      <td>
                        <code>{channelName(b.channelId)}</code>
                      </td>
                      <td>{agentName(b.agentId)}</td>
                      {manage ? (
                        <td className="col-actions">
                          <ConfirmButton
                            label={`Unbind ${channelName(b.channelId)}`}
                            confirmLabel="Yes, unbind"
                            question="Unbind?"
                            onConfirm={() =>
                              admin.act(async () => {
                                await api.bindSlackChannel(org.slug, {
                                  channelId: b.channelId,
                                  agentId: null,
                                });
                                return `No agent answers ${answersWhere(b.channelId)} now.`;
                              }, slack.reload)
                            }
                          />
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </DataTable>
              )}
            </Section>
          ) : null}
          {installed && manage && agents.data?.length === 0 ? (
            <Section title="Bind a channel to an agent">
              <p>No agent yet: make one on the Agents page, then bind it to a channel here.</p>
            </Section>
          ) : null}
          {installed && manage && agents.data?.length ? (
            <SlackBindForm
              slug={org.slug}
              agents={agents.data}
              onBound={async (channelId, agent) => {
                admin.setNotice(`${agent.name} now answers ${answersWhere(channelId)}.`);
                await slack.reload();
              }}
            />
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
