/**
 * A local Slack for tests, speaking its real wire formats both ways: a Web API server (the
 * methods Paddock calls, form- or JSON-encoded as `@slack/web-api` sends them, answering as
 * Slack documents) that records every call, and a signer for the Events API and interactivity
 * requests Slack sends (`v0` HMAC-SHA256 over `v0:{timestamp}:{body}`), and Socket Mode:
 * `apps.connections.open` (with the app-level token) answers a WebSocket URL on this server,
 * which says `hello`, then sends envelopes and records their acknowledgements.
 * https://api.slack.com/web, https://api.slack.com/authentication/verifying-requests-from-slack,
 * https://api.slack.com/apis/socket-mode
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

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
  /** The app-level token (xapp-…) `apps.connections.open` accepts. */
  appToken: string;
  calls: FakeSlackCall[];
  /** Socket Mode connections open now (a client that disconnects leaves this set). */
  sockets: Set<WebSocket>;
  /** Every acknowledgement received, by envelope id. */
  acks: Map<string, Record<string, unknown>>;
  /**
   * Sends an envelope over an open Socket Mode connection (Slack picks one); its id. Throws
   * when no connection is open.
   */
  /** False: new connections get no `hello` (a Slack that accepts the socket and then says nothing). */
  hello: boolean;
  sendEnvelope(type: 'events_api' | 'interactive', payload: Record<string, unknown>): string;
  /** Slack users by id: what users.info answers (`emailConfirmed: false`: an email not yet confirmed). */
  users: Map<string, { email: string | null; team?: string; emailConfirmed?: boolean }>;
  close(): Promise<void>;
}

/** A body signed as Slack signs it, with the headers Slack sends. */
export function slackSigned(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)) {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature };
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: FakeSlackCall[] = [];
  const users = new Map<string, { email: string | null; team?: string; emailConfirmed?: boolean }>();
  let seq = 0;
  const me = {
    teamId: 'T0PADDOCK1',
    botUserId: 'U0PADDOCKBOT',
    botToken: 'xoxb-1234567890-0987654321-fakeslacktokenabc',
    signingSecret: '8f742231b10e8888abcd99c0d0e085a5',
    appToken: 'xapp-1-A0PADDOCK-1234567890-fakeslackapptoken0123456789abcdef',
  };
  const tickets = new Set<string>();
  const answer = (method: string, args: Record<string, unknown>, token: string | undefined): unknown => {
    if (method === 'apps.connections.open') {
      if (token !== me.appToken)
        return { ok: false, error: token === me.botToken ? 'not_allowed_token_type' : 'invalid_auth' };
      const ticket = randomUUID();
      tickets.add(ticket);
      return { ok: true, url: `ws://127.0.0.1:${port}/link/?ticket=${ticket}&app_id=A0PADDOCK` };
    }
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
            is_email_confirmed: u.emailConfirmed ?? true,
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
  // Socket Mode: a URL's ticket is good for one connection, as Slack's are.
  const sockets = new Set<WebSocket>();
  const acks = new Map<string, Record<string, unknown>>();
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const ticket = new URL(req.url ?? '/', 'http://x').searchParams.get('ticket') ?? '';
    if (!tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      const ping = setInterval(() => ws.ping(), 2_000);
      ws.on('close', () => {
        clearInterval(ping);
        sockets.delete(ws);
      });
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as { envelope_id?: string; payload?: Record<string, unknown> };
        if (typeof m.envelope_id === 'string') acks.set(m.envelope_id, m.payload ?? {});
      });
      if (fake.hello)
        ws.send(
          JSON.stringify({
            type: 'hello',
            num_connections: sockets.size,
            debug_info: { host: 'fake-slack', approximate_connection_time: 18060 },
            connection_info: { app_id: 'A0PADDOCK' },
          }),
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const fake: FakeSlack = {
    url: `http://127.0.0.1:${port}/api/`,
    ...me,
    calls,
    users,
    sockets,
    acks,
    hello: true,
    sendEnvelope(type, payload) {
      const ws = [...sockets].at(-1);
      if (!ws) throw new Error('no Socket Mode connection is open');
      const envelope_id = randomUUID();
      ws.send(
        JSON.stringify({
          envelope_id,
          type,
          payload,
          accepts_response_payload: type === 'interactive',
          ...(type === 'events_api' ? { retry_attempt: 0, retry_reason: '' } : {}),
        }),
      );
      return envelope_id;
    },
    close: async () => {
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
