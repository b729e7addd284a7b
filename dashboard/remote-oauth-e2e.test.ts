/**
 * Connecting a remote MCP server that signs in with OAuth, in a real browser (Chromium): an admin
 * clicks Connect on the Connections page, the browser goes to the authorization server (a real
 * `oidc-provider`), signs in and consents there, and comes back to Paddock's callback, which
 * lands on the Connections page saying it is connected; the tools then list through the
 * connection. No token is on the page.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { loadConfig } from '../src/config/index.ts';
import { ensureUser, initOrg, operatorCaller } from '../src/identity/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { type RunningServer, startServer } from '../src/server/index.ts';
import { launchChromium } from '../src/testing/browser.ts';
import {
  type AuthServer,
  type ProtectedMcp,
  startAuthServer,
  startProtectedMcp,
} from '../src/testing/oauth-mcp.ts';
import { ensureDashboardBuilt } from './e2e-build.ts';
import { checkPage } from './e2e-check.ts';

const SLUG = 'remoteco';
const ADMIN = { email: 'owner@remoteco.test', password: 'owner-password-remote-01' };
/** A client registered by hand at the provider, as the admin types it in. */
const BY_HAND = { clientId: 'paddock-typed-in', clientSecret: 'typed-in-client-secret-51c0e8' };

describe('connecting a remote MCP server with OAuth, in the browser', { timeout: 180_000 }, () => {
  let home = '';
  let server: RunningServer;
  let browser: Browser | undefined;
  let as: AuthServer;
  let mcp: ProtectedMcp;
  let connectionId = '';
  let typedId = '';

  before(async () => {
    ensureDashboardBuilt();
    home = mkdtempSync(join(tmpdir(), 'paddock-e2e-remote-oauth-'));
    server = await startServer(loadConfig({ home, port: 0 }), silentLogger);
    as = await startAuthServer(() => mcp.url, {
      ...BY_HAND,
      redirectUri: `${server.deps.config.publicUrl}/api/v1/connections/oauth/callback`,
    });
    mcp = await startProtectedMcp(() => as.issuer);
    assert.ok(server.deps.cells, 'the egress proxy runs with the cells: a sandbox is needed');
    const db = server.deps.store.db;
    await ensureUser(db, { email: ADMIN.email, password: ADMIN.password });
    const { token } = await initOrg(db, operatorCaller(), {
      slug: SLUG,
      ownerEmail: ADMIN.email,
      withToken: true,
      // Made with a password above: the operator says the account is theirs.
      existingAccount: true,
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
    const d = await api('POST', '/connections', { name: 'typed', transport: 'http', url: mcp.url });
    assert.equal(d.status, 201);
    typedId = ((await d.json()) as { id: string }).id;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    as?.close();
    mcp?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  /**
   * At the authorization server: its own sign-in (unless this browser is signed in there
   * already) and consent pages, until it sends the browser back.
   */
  async function atProvider(page: Page, login: string): Promise<void> {
    await page.waitForURL((u) => u.href.startsWith(as.issuer));
    for (let i = 0; i < 5 && page.url().startsWith(as.issuer); i++) {
      const form = page.locator('form button[type="submit"]');
      await Promise.race([form.waitFor(), page.waitForURL((u) => u.href.startsWith(server.url))]);
      if (!page.url().startsWith(as.issuer)) break;
      if (await page.locator('input[name="login"]').count()) {
        await page.locator('input[name="login"]').fill(login);
        await page.locator('input[name="password"]').fill('x');
      }
      await Promise.all([page.waitForNavigation(), form.click()]);
    }
  }

  test('Connect → the provider → back: connected, tools listed, no token on the page; a client typed in by hand too', async () => {
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
    await atProvider(page, 'carol');
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

    // A provider client typed in by hand: the secret goes to the vault, never back to the page.
    await page.getByRole('button', { name: 'Client registered by hand typed' }).click();
    await page.getByLabel('Client id').fill(BY_HAND.clientId);
    await page.getByLabel('Client secret').fill(BY_HAND.clientSecret);
    await checkPage(page, 'connections-oauth-by-hand');
    await page.getByRole('button', { name: 'Connect typed', exact: true }).click();
    await atProvider(page, 'erin');
    await page.waitForURL(`**/orgs/${SLUG}/connections?connected=${typedId}`);
    await page.getByText('Connected typed.').waitFor();
    assert.ok(!(await page.content()).includes(BY_HAND.clientSecret), 'the client secret is not on the page');
    const typed = await server.deps.store.db
      .selectFrom('remote_auth_servers')
      .select(['client_id', 'client_source', 'client_secret'])
      .where('connection_id', '=', typedId)
      .executeTakeFirstOrThrow();
    assert.equal(typed.client_id, BY_HAND.clientId);
    assert.equal(typed.client_source, 'entered');
    assert.ok(typed.client_secret && !typed.client_secret.includes(BY_HAND.clientSecret), 'sealed');
    assert.deepEqual(problems, []);
    await context.close();
  });
});
