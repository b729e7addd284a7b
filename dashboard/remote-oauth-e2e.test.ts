/**
 * Connecting a remote MCP server that signs in with OAuth, in a real browser (Chromium): an admin
 * clicks Connect on the Connections page, the browser goes to the authorization server (a real
 * `oidc-provider`), signs in and consents there, and comes back to Paddock's callback, which
 * lands on the Connections page saying it is connected; the tools then list through the
 * connection. No token is on the page.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { loadConfig } from '../src/config/index.ts';
import { ensureUser, initOrg, operatorCaller } from '../src/identity/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { type RunningServer, startServer } from '../src/server/index.ts';
import {
  type AuthServer,
  type ProtectedMcp,
  startAuthServer,
  startProtectedMcp,
} from '../src/testing/oauth-mcp.ts';
import { ensureDashboardBuilt } from './e2e-build.ts';
import { checkPage } from './e2e-check.ts';

const CHROMIUM = '/usr/bin/chromium';
const SLUG = 'remoteco';
const ADMIN = { email: 'owner@remoteco.test', password: 'owner-password-remote-01' };

describe('connecting a remote MCP server with OAuth, in the browser', { timeout: 180_000 }, () => {
  let home = '';
  let server: RunningServer;
  let browser: Browser | undefined;
  let as: AuthServer;
  let mcp: ProtectedMcp;
  let connectionId = '';

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium`);
    ensureDashboardBuilt();
    as = await startAuthServer(() => mcp.url);
    mcp = await startProtectedMcp(() => as.issuer);
    home = mkdtempSync(join(tmpdir(), 'paddock-e2e-remote-oauth-'));
    server = await startServer(loadConfig({ home, port: 0 }), silentLogger);
    assert.ok(server.deps.cells, 'the egress proxy runs with the cells: a sandbox is needed');
    const db = server.deps.store.db;
    await ensureUser(db, { email: ADMIN.email, password: ADMIN.password });
    const { token } = await initOrg(db, operatorCaller(), {
      slug: SLUG,
      ownerEmail: ADMIN.email,
      withToken: true,
    });
    const api = (method: string, path: string, body: unknown) =>
      fetch(`${server.url}/api/v1/orgs/${SLUG}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const allow = await api('PATCH', '', {
      settings: {
        egressAllowlist: [
          { host: '127.0.0.1', port: mcp.port, allowPrivate: true },
          { host: '127.0.0.1', port: as.port, allowPrivate: true },
        ],
      },
    });
    assert.equal(allow.status, 200, await allow.text());
    const c = await api('POST', '/connections', { name: 'hosted', transport: 'http', url: mcp.url });
    assert.equal(c.status, 201);
    connectionId = ((await c.json()) as { id: string }).id;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--no-first-run',
      ],
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    as?.close();
    mcp?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test('Connect → the provider → back: connected, tools listed, no token on the page', async () => {
    assert.ok(browser);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${server.url}/signin`);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`**/orgs/${SLUG}`);
    await page.goto(`${server.url}/orgs/${SLUG}/connections`);
    await page.getByRole('button', { name: 'Connect hosted', exact: true }).click();
    // At the authorization server: its own sign-in and consent pages.
    await page.waitForURL((u) => u.href.startsWith(as.issuer));
    await page.locator('input[name="login"]').fill('carol');
    await page.locator('input[name="password"]').fill('x');
    await page.locator('button[type="submit"]').click();
    await page.locator('button[type="submit"]').waitFor();
    await page.locator('button[type="submit"]').click();
    // Back at Paddock: the Connections page says so.
    await page.waitForURL(`**/orgs/${SLUG}/connections?connected=${connectionId}`);
    await page.getByText('Connected hosted.').waitFor();
    await page.getByTestId('connection-oauth-state').getByText('Connected').waitFor();
    await page.getByRole('button', { name: 'List tools of hosted' }).click();
    await page.getByText('whoami').first().waitFor();
    await checkPage(page, 'connections-oauth-connected');
    const html = await page.content();
    for (const t of [...as.issued.access, ...as.issued.refresh, ...as.issued.clientSecrets])
      assert.ok(!html.includes(t), 'a token is on the page');
    assert.ok(as.issued.access.length >= 1);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
