/**
 * A local Slack for tests, speaking its real wire formats both ways: a Web API server (the
 * methods Paddock calls, form- or JSON-encoded as `@slack/web-api` sends them, answering as
 * Slack documents) that records every call, and a signer for the Events API and interactivity
 * requests Slack sends (`v0` HMAC-SHA256 over `v0:{timestamp}:{body}`).
 * https://api.slack.com/web, https://api.slack.com/authentication/verifying-requests-from-slack
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSlackCall {
  method: string;
  token: string | undefined;
  args: Record<string, any>;
  /** What the fake answered (a posted message's `ts` is here). */
  answer: Record<string, any>;
}

export interface FakeSlack {
  /** The Web API base to give `WebClient`'s `slackApiUrl` (ends in `/`). */
  url: string;
  teamId: string;
  botUserId: string;
  botToken: string;
  signingSecret: string;
  calls: FakeSlackCall[];
  /** Slack users by id: what users.info answers. */
  users: Map<string, { email: string | null; team?: string }>;
  close(): Promise<void>;
}

/** A body signed as Slack signs it, with the headers Slack sends. */
export function slackSigned(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)) {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature };
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: FakeSlackCall[] = [];
  const users = new Map<string, { email: string | null; team?: string }>();
  let seq = 0;
  const me = {
    teamId: 'T0PADDOCK1',
    botUserId: 'U0PADDOCKBOT',
    botToken: 'xoxb-1234567890-0987654321-fakeslacktokenabc',
    signingSecret: '8f742231b10e8888abcd99c0d0e085a5',
  };
  const answer = (method: string, args: Record<string, unknown>, token: string | undefined): unknown => {
    if (token !== me.botToken) return { ok: false, error: 'invalid_auth' };
    const ts = () => `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, '0')}`;
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://paddock-test.slack.com/',
          team: 'Paddock test',
          user: 'paddock',
          team_id: me.teamId,
          user_id: me.botUserId,
          bot_id: 'B0PADDOCK',
        };
      case 'users.info': {
        const u = users.get(String(args.user));
        if (!u) return { ok: false, error: 'user_not_found' };
        return {
          ok: true,
          user: {
            id: args.user,
            team_id: u.team ?? me.teamId,
            deleted: false,
            is_bot: false,
            profile: u.email ? { email: u.email } : {},
          },
        };
      }
      case 'chat.postMessage':
        if (!args.channel) return { ok: false, error: 'channel_not_found' };
        return { ok: true, channel: args.channel, ts: ts(), message: { text: args.text } };
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts, text: args.text };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: ts() };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0]!;
      let args: Record<string, unknown> = {};
      if ((req.headers['content-type'] ?? '').includes('application/json')) args = JSON.parse(text || '{}');
      else for (const [k, v] of new URLSearchParams(text)) args[k] = v;
      // Fields the client sends JSON-encoded in a form (blocks, attachments) are read back as objects.
      for (const k of ['blocks', 'attachments'])
        if (typeof args[k] === 'string') args[k] = JSON.parse(args[k] as string);
      const auth = req.headers.authorization;
      const token = auth?.startsWith('Bearer ') ? auth.slice(7) : (args.token as string | undefined);
      delete args.token;
      const answered = answer(method, args, token) as Record<string, unknown>;
      calls.push({ method, token, args, answer: answered });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answered));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/api/`,
    ...me,
    calls,
    users,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
