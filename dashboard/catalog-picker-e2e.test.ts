/**
 * A catalog card's secret picker and egress step in real Chromium against a real server: the
 * Notion card, with no secret of its usual name in the vault, cannot be added until a secret is
 * picked (by name: no value, no model key offered); the hosts it calls are allowed only when the
 * owner ticks the box (never by default), and then as an egress change on the audit trail; the
 * connection is made with the picked secret and its tools listed in the sandbox (the package
 * installed from a registry this test starts, packed from node_modules). Checked for
 * accessibility (axe-core, light and dark) and photographed.
 *
 *   PATH=$PWD/node_modules/.bin:$PATH node --test dashboard/catalog-picker-e2e.test.ts
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { loadConfig } from '../src/config/index.ts';
import { ensureUser, initOrg, operatorCaller } from '../src/identity/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { removeFolder, storeDir } from '../src/packages/store.ts';
import { type RunningServer, startServer } from '../src/server/index.ts';
import { launchChromium } from '../src/testing/browser.ts';
import { publishInstalled, startTestRegistry, type TestRegistry } from '../src/testing/npm-registry.ts';
import { until } from '../src/testing/until.ts';
import { ensureDashboardBuilt } from './e2e-build.ts';
import { checkPage } from './e2e-check.ts';
import { signIn, watchedPage } from './e2e-session.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SLUG = 'pickco';
const OWNER = { email: 'owner@pickco.test', password: 'owner-password-0001' };
const PACKAGE = '@notionhq/notion-mcp-server';
const TOKEN_VALUE = 'ntn_picker-e2e-value-7d3f9a1c5b';
const MODEL_KEY_VALUE = 'sk-picker-e2e-model-key-2b8e4f';

describe('a catalog card’s secret picker and egress step', { timeout: 300_000 }, () => {
  let home = '';
  let reg: TestRegistry;
  let server: RunningServer;
  let browser: Browser | undefined;
  let owner: Page;
  let headers: Record<string, string> = {};
  let secretId = '';
  const problems: string[] = [];
  const api = () => `${server.url}/api/v1/orgs/${SLUG}`;
  const notion = (): Locator =>
    owner
      .getByRole('list', { name: 'Catalog of MCP servers' })
      .getByTestId('catalog-card')
      .filter({ has: owner.getByRole('heading', { name: 'Notion', exact: true }) });
  const allowlist = async () =>
    ((await (await owner.request.get(api())).json()) as { settings: { egressAllowlist: unknown[] } }).settings
      .egressAllowlist;

  before(async () => {
    ensureDashboardBuilt();
    reg = await startTestRegistry();
    await publishInstalled(reg, ROOT, PACKAGE);
    home = mkdtempSync(join(tmpdir(), 'paddock-e2e-picker-'));
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
    const session = (await (await owner.request.get(`${server.url}/api/v1/session`)).json()) as {
      csrfToken: string;
    };
    headers = { 'x-csrf-token': session.csrfToken };
    // The team's Notion secret under a name of its own (not the entry's "notion-token"), and a model key.
    const made = await owner.request.post(`${api()}/secrets`, {
      headers,
      data: { name: 'team-notion', kind: 'connector_credential', value: TOKEN_VALUE },
    });
    assert.ok(made.ok(), await made.text());
    secretId = ((await made.json()) as { id: string }).id;
    const key = await owner.request.post(`${api()}/secrets`, {
      headers,
      data: { name: 'our-openai-key', kind: 'model_key', provider: 'openai', value: MODEL_KEY_VALUE },
    });
    assert.ok(key.ok(), await key.text());
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

  test('the card offers the vault’s secrets by name (no values, no model keys) and cannot be added until one is picked', async () => {
    await owner.getByRole('link', { name: 'Connections' }).first().click();
    await owner.waitForURL(`**/orgs/${SLUG}/connections`);
    const card = notion();
    const picker = card.getByLabel('Notion integration secret (NOTION_TOKEN)');
    await picker.waitFor();
    const options = await picker.locator('option').allTextContents();
    assert.deepEqual(options, ['Choose a secret', 'team-notion']);
    assert.equal(await card.getByRole('button', { name: 'Add connection: Notion' }).isDisabled(), true);
    await card.getByText(/choose secrets when adding/).waitFor();
    const box = card.getByLabel('Also allow api.notion.com for the organization’s egress');
    assert.equal(await box.isChecked(), false, 'never allowed by default');
    await picker.selectOption({ label: 'team-notion' });
    assert.equal(await card.getByRole('button', { name: 'Add connection: Notion' }).isDisabled(), false);
    const page = await owner.content();
    assert.ok(!page.includes(TOKEN_VALUE) && !page.includes(MODEL_KEY_VALUE), 'no secret value on the page');
    assert.ok(!page.includes(TOKEN_VALUE.slice(-4)), 'not even its last characters');
    await box.check();
    await checkPage(owner, 'connections-catalog-picker');
  });

  test('added with the picked secret and its host allowed in the same step, on record as an egress change', async () => {
    assert.deepEqual(await allowlist(), []);
    await notion().getByRole('button', { name: 'Add connection: Notion' }).click();
    const panel = owner.getByRole('region', { name: 'Suggested starting grants' });
    await panel.getByText(/installed, every tarball verified/).waitFor({ timeout: 180_000 });
    await panel
      .getByTestId('catalog-egress-allowed')
      .getByText(/Egress allowed for the organization: api\.notion\.com/)
      .waitFor();
    const connections = (
      (await (await owner.request.get(`${api()}/connections`)).json()) as {
        connections: Array<{ name: string; package: string | null; env: Record<string, string> }>;
      }
    ).connections;
    assert.deepEqual(
      connections.map((c) => [c.name, c.env]),
      [['notion', { NOTION_TOKEN: secretId }]],
    );
    assert.deepEqual(await allowlist(), [{ host: 'api.notion.com', port: 443 }]);
    const entry = await until(
      async () =>
        (
          (await (await owner.request.get(`${api()}/audit?action=org.egress.added`)).json()) as {
            events: Array<{ details: { hosts: string[]; reason: string } }>;
          }
        ).events[0],
      { what: 'org.egress.added on the trail' },
    );
    assert.deepEqual(entry.details.hosts, ['api.notion.com:443']);
    assert.match(entry.details.reason, /catalog entry notion/);
    await notion().getByText('(allowed)').waitFor();
    await checkPage(owner, 'connections-catalog-picker-added');
    await panel.getByRole('button', { name: 'Done' }).click();
    assert.ok(!(await owner.content()).includes(TOKEN_VALUE), 'no secret value on the page');
    assert.deepEqual(problems, []);
  });
});
