/**
 * A remote MCP server behind OAuth, for tests: a real authorization server (`oidc-provider`, with
 * dynamic registration, PKCE, resource indicators, refresh tokens and introspection) and an MCP
 * server that checks each bearer token by introspection and answers 401 with its protected
 * resource metadata otherwise. Both on loopback; every token the provider issues is kept, so a
 * test can look for it where it must not be.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import Provider from 'oidc-provider';

const RS_ID = 'mcp-resource-server';
const RS_SECRET = 'rs-introspection-secret-5e1f0a';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

export interface AuthServer {
  issuer: string;
  port: number;
  /** Every access and refresh token and client secret it issued. */
  issued: { access: string[]; refresh: string[]; clientSecrets: string[] };
  /** How many tokens it was asked to revoke (RFC 7009) and took. */
  revoked: { count: number };
  /** Lifetime of the access tokens it issues from now on, in seconds. */
  ttl: { access: number };
  close(): void;
}

/**
 * `resource`: the MCP server's URL, the only resource it issues tokens for. `registered`: a
 * client registered by hand (as an admin would enter it), besides dynamic registration.
 */
export async function startAuthServer(
  resource: () => string,
  registered?: { clientId: string; clientSecret: string; redirectUri: string },
): Promise<AuthServer> {
  const server = createServer();
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  const ttl = { access: 3600 };
  const provider = new Provider(issuer, {
    clients: [
      { client_id: RS_ID, client_secret: RS_SECRET, redirect_uris: [], grant_types: [], response_types: [] },
      ...(registered
        ? [
            {
              client_id: registered.clientId,
              client_secret: registered.clientSecret,
              redirect_uris: [registered.redirectUri],
              grant_types: ['authorization_code', 'refresh_token'],
              response_types: ['code' as const],
            },
          ]
        : []),
    ],
    findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
    scopes: ['openid', 'offline_access', 'mcp'],
    cookies: { keys: ['test-cookie-key-oauth-mcp-0123456789'] },
    pkce: { required: () => true },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    features: {
      devInteractions: { enabled: true },
      registration: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async () => true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => resource(),
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator) => {
          if (indicator !== resource()) throw new Error(`unknown resource ${indicator}`);
          return {
            scope: 'mcp',
            audience: indicator,
            accessTokenTTL: ttl.access,
            accessTokenFormat: 'opaque',
          };
        },
      },
    },
  });
  const issued = { access: [] as string[], refresh: [] as string[], clientSecrets: [] as string[] };
  const revoked = { count: 0 };
  const handle = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST' && req.url === '/token/revocation')
      res.on('finish', () => {
        if (res.statusCode === 200) revoked.count++;
      });
    if (req.method === 'POST' && (req.url === '/token' || req.url === '/reg')) {
      // Keeps what the token endpoint answers (the test looks for these where they must not be).
      const end = res.end.bind(res);
      res.end = ((chunk?: unknown, ...rest: unknown[]) => {
        try {
          const body = JSON.parse(String(chunk ?? '{}')) as Record<string, string | undefined>;
          if (body.access_token) issued.access.push(body.access_token);
          if (body.refresh_token) issued.refresh.push(body.refresh_token);
          if (body.client_secret) issued.clientSecrets.push(body.client_secret);
        } catch {}
        return end(chunk as never, ...(rest as []));
      }) as typeof res.end;
    }
    handle(req, res);
  });
  return {
    issuer,
    port,
    issued,
    revoked,
    ttl,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

export interface ProtectedMcp {
  url: string;
  port: number;
  /** Requests it received, and whose account each one's token was (`null`: refused). */
  seen: Array<{ sub: string | null; status: number }>;
  /** The protected resource metadata it publishes (a test may make it name another server). */
  metadata: { resource: string; authorization_servers: string[]; scopes_supported: string[] };
  /** Where its 401 says the protected resource metadata is (a test may point it elsewhere). */
  prmAt: string;
  /** Refuse every token until a fresh one (issued after this moment) is used. */
  refuseTokensIssuedBefore(ms: number): void;
  close(): void;
}

/** An MCP server at `/mcp`: `whoami` answers the account the token is for, `leak` the token itself. */
export async function startProtectedMcp(issuer: () => string): Promise<ProtectedMcp> {
  const server = createServer();
  const port = await listen(server);
  const url = `http://127.0.0.1:${port}/mcp`;
  const prmUrl = `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`;
  const metadata = { resource: url, authorization_servers: [issuer()], scopes_supported: ['mcp'] };
  const seen: ProtectedMcp['seen'] = [];
  let notBefore = 0;
  const out: ProtectedMcp = {
    url,
    port,
    seen,
    metadata,
    prmAt: prmUrl,
    refuseTokensIssuedBefore: (ms) => {
      notBefore = ms;
    },
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
  const introspect = async (token: string) => {
    const res = await fetch(`${issuer()}/token/introspection`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${RS_ID}:${RS_SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token }),
    });
    const r = (await res.json()) as { active: boolean; sub?: string; aud?: string | string[]; iat?: number };
    const aud = Array.isArray(r.aud) ? r.aud : [r.aud];
    return r.active && aud.includes(url) && (r.iat ?? 0) * 1000 >= notBefore ? (r.sub ?? null) : null;
  };
  server.on('request', async (req, res) => {
    if (req.url === '/.well-known/oauth-protected-resource/mcp') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(metadata));
      return;
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const sub = bearer ? await introspect(bearer) : null;
    if (!sub) {
      seen.push({ sub: null, status: 401 });
      res
        .writeHead(401, {
          'www-authenticate': `Bearer error="invalid_token", resource_metadata="${out.prmAt}", scope="mcp"`,
        })
        .end();
      return;
    }
    seen.push({ sub, status: 200 });
    const mcp = new McpServer({ name: 'oauth-protected', version: '1.0.0' });
    mcp.registerTool('whoami', { description: 'Whose account the token is for' }, async () => ({
      content: [{ type: 'text', text: `account:${sub}` }],
    }));
    // A careless server: it says the token it was sent.
    mcp.registerTool('leak', { description: 'Echoes the bearer token' }, async () => ({
      content: [{ type: 'text', text: `token:${bearer}` }],
    }));
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => void transport.close());
    await mcp.connect(transport);
    await transport.handleRequest(req, res);
  });
  return out;
}

/**
 * Plays the browser at the provider: follows redirects, signs in as `login`, consents; returns
 * the URL it was sent back to (the first one starting with `back`).
 */
export async function browseProvider(start: string, login: string, back: string): Promise<URL> {
  const jar = new Map<string, string>();
  let url = start;
  let method = 'GET';
  let body: string | undefined;
  for (let i = 0; i < 20; i++) {
    if (url.startsWith(back)) return new URL(url);
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: {
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body,
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [k, v] = pair!.split('=');
      jar.set(k!, v ?? '');
    }
    const location = res.headers.get('location');
    if (location) {
      url = new URL(location, url).toString();
      method = 'GET';
      body = undefined;
      continue;
    }
    const html = await res.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`no form at ${url}: ${res.status} ${html.slice(0, 300)}`);
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    url = new URL(action, url).toString();
    method = 'POST';
    body =
      prompt === 'login'
        ? new URLSearchParams({ prompt, login, password: 'x' }).toString()
        : 'prompt=consent';
  }
  throw new Error('too many steps at the authorization server');
}
