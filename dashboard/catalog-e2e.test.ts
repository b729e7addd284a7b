/**
 * The catalog's "Add connection" cards in real Chromium against a real server: a card the
 * operator's allowlist refuses says so and cannot be added, an OAuth-only one is added for
 * sign-in (its row then offers Connect); adding an allowed one installs its package from a registry this test starts (packed
 * from node_modules, never the network), creates the connection, lists its tools in the sandbox,
 * and offers its read-only tools as starting grants — nothing granted until the owner accepts
 * one. Checked for accessibility (axe-core, light and dark) and photographed.
 *
 *   PATH=$PWD/node_modules/.bin:$PATH node --test dashboard/catalog-e2e.test.ts
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { loadConfig } from '../src/config/index.ts';
import { ensureUser, initOrg, operatorCaller } from '../src/identity/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { removeFolder, storeDir } from '../src/packages/store.ts';
import { type RunningServer, startServer } from '../src/server/index.ts';
import { launchChromium } from '../src/testing/browser.ts';
import { publishInstalled, startTestRegistry, type TestRegistry } from '../src/testing/npm-registry.ts';
import { ensureDashboardBuilt } from './e2e-build.ts';
import { checkPage } from './e2e-check.ts';
import { signIn, watchedPage } from './e2e-session.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SLUG = 'catco';
const OWNER = { email: 'owner@catco.test', password: 'owner-password-0001' };
const PACKAGE = '@modelcontextprotocol/server-sequential-thinking';

describe('the catalog’s cards on the Connections page', { timeout: 300_000 }, () => {
  let home = '';
  let reg: TestRegistry;
  let server: RunningServer;
  let browser: Browser | undefined;
  let owner: Page;
  let agentId = '';
  const problems: string[] = [];
  const api = () => `${server.url}/api/v1/orgs/${SLUG}`;

  before(async () => {
    ensureDashboardBuilt();
    reg = await startTestRegistry();
    await publishInstalled(reg, ROOT, PACKAGE);
    home = mkdtempSync(join(tmpdir(), 'paddock-e2e-catalog-'));
    server = await startServer(
      loadConfig(
        { home, port: 0 },
        { ...process.env, PADDOCK_NPM_REGISTRY: reg.url, PADDOCK_SERVER_PACKAGES: PACKAGE },
      ),
      silentLogger,
    );
    const db = server.deps.store.db;
    await ensureUser(db, { email: OWNER.email, password: OWNER.password });
    await initOrg(db, operatorCaller(), { slug: SLUG, ownerEmail: OWNER.email, existingAccount: true });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    owner = await watchedPage(context, problems, { timeoutMs: 20_000 });
    await signIn(owner, server.url, OWNER, SLUG);
    const { csrfToken } = (await (await owner.request.get(`${server.url}/api/v1/session`)).json()) as {
      csrfToken: string;
    };
    const agent = await owner.request.post(`${api()}/agents`, {
      data: {
        name: 'thinker',
        scope: 'organization',
        instructions: 'Think.',
        model: { provider: 'openai', model: 'gpt-5' },
      },
      headers: { 'x-csrf-token': csrfToken },
    });
    assert.ok(agent.ok(), await agent.text());
    agentId = ((await agent.json()) as { id: string }).id;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await reg?.close();
    if (home) {
      removeFolder(storeDir(home));
      rmSync(home, { recursive: true, force: true });
    }
  });

  const grants = async () =>
    (
      (await (await owner.request.get(`${api()}/agents/${agentId}/grants`)).json()) as {
        grants: { tool: string }[];
      }
    ).grants;

  test('cards say what each needs and whether it can be added here; a refused one cannot be added', async () => {
    await owner.getByRole('link', { name: 'Connections' }).first().click();
    await owner.waitForURL(`**/orgs/${SLUG}/connections`);
    const cards = owner.getByRole('list', { name: 'Catalog of MCP servers' });
    const notion = cards
      .getByTestId('catalog-card')
      .filter({ has: owner.getByRole('heading', { name: 'Notion', exact: true }) });
    await notion.getByText(/is not on this installation's list of MCP server packages/).waitFor();
    await notion.getByText('api.notion.com').waitFor();
    assert.equal(await notion.getByRole('button', { name: 'Add connection: Notion' }).isDisabled(), true);
    const sentry = cards
      .getByTestId('catalog-card')
      .filter({ has: owner.getByRole('heading', { name: 'Sentry' }) });
    await sentry.getByText(/OAuth sign-in/).waitFor();
    assert.equal(await sentry.getByRole('button', { name: 'Add connection: Sentry' }).isDisabled(), false);
    await checkPage(owner, 'connections-catalog');
  });

  test('an OAuth-only entry is added for sign-in: its row offers Connect, nothing is listed or granted', async () => {
    await owner.getByRole('button', { name: 'Add connection: Sentry' }).click();
    const panel = owner.getByRole('region', { name: 'Sign in to the new connection' });
    await panel.getByText(/signs in with OAuth/).waitFor();
    const row = owner.getByTestId('connection-row').filter({ hasText: 'mcp.sentry.dev' });
    await row
      .getByRole('button', { name: /^Connect/ })
      .first()
      .waitFor();
    assert.deepEqual(await grants(), [], 'nothing granted by adding');
    await checkPage(owner, 'connections-catalog-sign-in');
    await panel.getByRole('button', { name: 'Done' }).click();
    await panel.waitFor({ state: 'hidden' });
  });

  test('adding installs, creates and lists; read-only tools are suggested and granted only on acceptance', async () => {
    await owner.getByRole('button', { name: 'Add connection: Sequential thinking' }).click();
    const offered = owner.getByRole('region', { name: 'Suggested starting grants' });
    await offered.getByText(/installed, every tarball verified/).waitFor({ timeout: 120_000 });
    assert.deepEqual(await offered.getByTestId('catalog-suggestion').locator('code').allTextContents(), [
      'sequentialthinking',
    ]);
    assert.deepEqual(await grants(), [], 'nothing granted by adding');
    await owner.getByTestId('connection-row').filter({ hasText: 'sequential-thinking' }).waitFor();
    await checkPage(owner, 'connections-catalog-added');

    await offered.getByRole('button', { name: 'Accept sequentialthinking' }).click();
    await offered.getByText('Granted sequentialthinking to thinker.').waitFor();
    assert.deepEqual(
      (await grants()).map((g) => g.tool),
      ['sequentialthinking'],
    );
    const card = owner
      .getByTestId('catalog-card')
      .filter({ has: owner.getByRole('heading', { name: 'Sequential thinking' }) });
    await card.getByText('Connected as sequential-thinking.').waitFor();
    assert.deepEqual(problems, []);
  });
});
