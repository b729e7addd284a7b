/**
 * The Slack page's admin forms: installing the org's Slack app (its credentials go in through
 * write-only inputs, cleared on submit, sealed in the vault by the server and never shown back)
 * and binding a channel, or direct messages, to an agent. The server checks everything again.
 */
import { useRef, useState } from 'react';
import { type Agent, api, type SlackInstall } from '../api/index.ts';
import { useAction } from '../data/index.ts';
import { AddForm, CheckboxField, SecretValueField, SelectField, TextField } from '../ui/index.ts';

/** A channel id as Slack shows it (channel details → About → Channel ID), as the server takes it. */
const CHANNEL = /^[CG][A-Z0-9]{2,30}$/;

/** Reads a write-only input and empties it at once, whatever happens next. */
function takeValue(input: HTMLInputElement | null): string {
  if (!input) return '';
  const value = input.value.trim();
  input.value = '';
  return value;
}

/** Installs the app, or replaces its credentials (a new version; the bindings stay). */
export function SlackInstallForm({
  slug,
  installed,
  onInstalled,
}: {
  slug: string;
  installed: SlackInstall | null;
  onInstalled: (s: SlackInstall) => Promise<void>;
}) {
  const signingRef = useRef<HTMLInputElement>(null);
  const botRef = useRef<HTMLInputElement>(null);
  const appRef = useRef<HTMLInputElement>(null);
  const [approvals, setApprovals] = useState(installed?.approvalsChannel ?? '');
  const [socketMode, setSocketMode] = useState(installed?.socketMode ?? false);
  const { busy, error, setError, run } = useAction();

  return (
    <AddForm
      title={installed ? 'Replace the app’s credentials' : 'Install the Slack app'}
      busy={busy}
      error={error}
      submitLabel={installed ? 'Replace credentials' : 'Install'}
      busyLabel="Checking with Slack…"
      submit={() => {
        const signingSecret = takeValue(signingRef.current);
        const botToken = takeValue(botRef.current);
        const appToken = socketMode ? takeValue(appRef.current) : '';
        const channel = approvals.trim();
        if (!signingSecret || !botToken || (socketMode && !appToken)) {
          setError(
            `Enter the signing secret, the bot token${socketMode ? ' and the app-level token' : ''} (again).`,
          );
          return;
        }
        if (channel && !CHANNEL.test(channel)) {
          setError('The approvals channel is a channel id such as C0123ABCD. Enter the credentials again.');
          return;
        }
        void run(async () => {
          const made = await api.installSlack(slug, {
            signingSecret,
            botToken,
            approvalsChannel: channel || null,
            ...(socketMode ? { socketMode: true, appToken } : {}),
          });
          await onInstalled(made);
        });
      }}
    >
      <SecretValueField
        label="Signing secret"
        inputRef={signingRef}
        required
        maxLength={200}
        hint="Basic Information → App Credentials (32 hexadecimal characters)."
      />
      <SecretValueField
        label="Bot token"
        inputRef={botRef}
        required
        maxLength={300}
        hint="OAuth & Permissions → Bot User OAuth Token (xoxb-…). Paddock checks it with Slack first."
      />
      <TextField
        label="Approvals channel"
        value={approvals}
        onChange={setApprovals}
        maxLength={40}
        placeholder="C0123ABCD"
        autoComplete="off"
        spellCheck={false}
        hint="Optional: a channel id where approval cards are posted. Invite the app there."
      />
      <CheckboxField
        label="Socket Mode"
        checked={socketMode}
        onChange={setSocketMode}
        hint="Paddock opens the connection to Slack: for a server Slack cannot reach."
      />
      {socketMode ? (
        <SecretValueField
          label="App-level token"
          inputRef={appRef}
          required
          maxLength={300}
          hint="Basic Information → App-Level Tokens (xapp-…, scope connections:write)."
        />
      ) : null}
    </AddForm>
  );
}

/** Binds a channel, or the app's direct messages, to an agent (a channel has one agent). */
export function SlackBindForm({
  slug,
  agents,
  onBound,
}: {
  slug: string;
  agents: Agent[];
  onBound: (channelId: string, agent: Agent) => Promise<void>;
}) {
  const [where, setWhere] = useState<'channel' | 'dm'>('channel');
  const [channel, setChannel] = useState('');
  const [agentId, setAgentId] = useState('');
  const { busy, error, setError, run } = useAction();
  const chosen = agents.find((a) => a.id === agentId) ?? agents[0];

  return (
    <AddForm
      title="Bind a channel to an agent"
      busy={busy}
      error={error}
      submitLabel="Bind"
      busyLabel="Binding…"
      submit={() => {
        const channelId = where === 'dm' ? 'dm' : channel.trim();
        if (where === 'channel' && !CHANNEL.test(channelId)) {
          setError('A channel is its id, such as C0123ABCD (channel details → About → Channel ID).');
          return;
        }
        if (!chosen) {
          setError('Make an agent first.');
          return;
        }
        void run(async () => {
          await api.bindSlackChannel(slug, { channelId, agentId: chosen.id });
          setChannel('');
          await onBound(channelId, chosen);
        });
      }}
    >
      <SelectField
        label="Where"
        value={where}
        onChange={setWhere}
        options={[
          { value: 'channel', label: 'A channel' },
          { value: 'dm', label: 'Direct messages to the app' },
        ]}
      />
      {where === 'channel' ? (
        <TextField
          label="Channel id"
          value={channel}
          onChange={setChannel}
          required
          maxLength={31}
          placeholder="C0123ABCD"
          autoComplete="off"
          spellCheck={false}
          hint="Mentions of the app there start runs of the agent. Invite the app to the channel."
        />
      ) : null}
      <SelectField
        label="Agent"
        value={chosen?.id ?? ''}
        onChange={setAgentId}
        disabled={agents.length === 0}
        options={agents.map((a) => ({ value: a.id, label: a.name }))}
      />
    </AddForm>
  );
}
