/** `paddock slack`: install the org's Slack app, bind channels to agents, uninstall (through the running server's API). */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from './commands.ts';
import { need, parse } from './options.ts';
import { UsageError } from './output.ts';
import { remoteApi } from './remote.ts';

/** A secret from a file or the environment: never from the command line, where `ps` shows it. */
function secret(v: Record<string, unknown>, flag: string, envName: string, what: string): string {
  const file = v[flag] as string | undefined;
  if (file && !existsSync(file)) throw new UsageError(`No file ${file}.`);
  const value = file ? readFileSync(file, 'utf8').trim() : process.env[envName];
  if (!value) throw new UsageError(`Give the ${what} with --${flag} or ${envName}.`);
  return value;
}

export const slack: Command = {
  summary:
    "Install the org's Slack app, bind channels to agents, or uninstall it (talks to the running server)",
  usage: `paddock slack [status|install|uninstall|bind|unbind] --org <slug> [options] [--url URL] [--token-file FILE]

  status                      the workspace, the events URL to give Slack, the bound channels
  install                     checks the bot token with Slack, seals both secrets in the vault
      --signing-secret-file F   (or PADDOCK_SLACK_SIGNING_SECRET) the app's signing secret
      --bot-token-file F        (or PADDOCK_SLACK_BOT_TOKEN) the bot token, xoxb-…
      --approvals-channel C     a channel id where approval cards are posted
      --socket-mode             receive events over a WebSocket Paddock opens (servers behind NAT)
      --app-token-file F        (or PADDOCK_SLACK_APP_TOKEN) the app-level token, xapp-…, for --socket-mode
  bind --channel C --agent X  mentions in channel C (a channel id, or "dm") start runs of agent X
  unbind --channel C
  uninstall                   deletes the app's credentials, bindings and links
  Needs an owner or admin token (--token-file or PADDOCK_TOKEN). See docs/slack.md.`,
  async run(args) {
    const [first, ...rest] = args;
    const sub = first && !first.startsWith('-') ? first : 'status';
    const v = parse(first && !first.startsWith('-') ? rest : args, {
      org: { type: 'string' },
      channel: { type: 'string' },
      agent: { type: 'string' },
      'approvals-channel': { type: 'string' },
      'signing-secret-file': { type: 'string' },
      'bot-token-file': { type: 'string' },
      'app-token-file': { type: 'string' },
      'socket-mode': { type: 'boolean' },
      url: { type: 'string' },
      'token-file': { type: 'string' },
    });
    if (!['status', 'install', 'uninstall', 'bind', 'unbind'].includes(sub))
      throw new UsageError(`Unknown slack command "${sub}". Use status, install, uninstall, bind or unbind.`);
    const org = need(v, 'org');
    const call = remoteApi(v, org);
    if (sub === 'install') {
      await call('PUT', '/slack', {
        signingSecret: secret(v, 'signing-secret-file', 'PADDOCK_SLACK_SIGNING_SECRET', 'signing secret'),
        botToken: secret(v, 'bot-token-file', 'PADDOCK_SLACK_BOT_TOKEN', 'bot token'),
        ...(v['approvals-channel'] ? { approvalsChannel: v['approvals-channel'] } : {}),
        ...(v['socket-mode']
          ? {
              socketMode: true,
              appToken: secret(v, 'app-token-file', 'PADDOCK_SLACK_APP_TOKEN', 'app-level token'),
            }
          : {}),
      });
    } else if (sub === 'uninstall') {
      await call('DELETE', '/slack');
      process.stdout.write(`${org}: Slack uninstalled\n`);
      return;
    } else if (sub === 'bind' || sub === 'unbind') {
      const channelId = need(v, 'channel');
      let agentId: string | null = null;
      if (sub === 'bind') {
        const wanted = need(v, 'agent');
        const found = ((await call('GET', '/agents')).agents as Array<{ id: string; name: string }>).filter(
          (a) => a.id === wanted || a.name === wanted,
        );
        if (found.length !== 1)
          throw new UsageError(
            found.length ? `Several agents are named "${wanted}"; use its id.` : `No agent "${wanted}".`,
          );
        agentId = found[0]!.id;
      }
      await call('PUT', '/slack/channels', { channelId, agentId });
    }
    const { slack: s } = (await call('GET', '/slack')) as {
      slack: {
        teamId: string;
        eventsUrl: string;
        approvalsChannel: string | null;
        socketMode: boolean;
        bindings: { channelId: string; agentId: string }[];
      } | null;
    };
    if (!s) {
      process.stdout.write(`${org}: Slack is not installed\n`);
      return;
    }
    process.stdout.write(
      `${org}: Slack workspace ${s.teamId}\n${s.socketMode ? 'events\tover Socket Mode' : `events URL\t${s.eventsUrl}`}\napprovals\t${s.approvalsChannel ?? '(none)'}\n` +
        s.bindings.map((b) => `${b.channelId}\t${b.agentId}\n`).join(''),
    );
    return;
  },
};
