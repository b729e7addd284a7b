/**
 * A new org's first value through the dashboard alone, in real Chromium against a real server:
 * the Overview's checklist with nothing done; an MCP server connected and an agent created from
 * their pages; a test call of a tool it was never granted, denied with the reason in words; the
 * tool granted, the same call allowed, and its entry opened in the audit trail (arguments, proof);
 * a second tool granted with approval, whose call waits — and appears on an Approvals page opened
 * before it, without a reload, with the count in the sidebar and the tab title and a browser
 * notification — is approved there, and the waiting call goes on by itself; an agent token with
 * its MCP client configurations; the checklist ticked from what the org now holds. Every page is
 * checked for accessibility (axe-core, light and dark) and photographed (dashboard/screenshots/).
 *
 *   PATH=$PWD/node_modules/.bin:$PATH node --test dashboard/first-value-e2e.test.ts
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loadConfig } from '../src/config/index.ts';
import { ensureUser, initOrg, operatorCaller } from '../src/identity/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { type RunningServer, startServer } from '../src/server/index.ts';
import { launchChromium } from '../src/testing/browser.ts';
import { untilRead as until } from '../src/testing/until.ts';
import { ensureDashboardBuilt } from './e2e-build.ts';
import { checkPage } from './e2e-check.ts';
import { signIn, watchedPage } from './e2e-session.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const SLUG = 'newco';
const OWNER = { email: 'owner@newco.test', password: 'owner-password-0001' };

describe('first value through the dashboard alone', { timeout: 240_000 }, () => {
  let home = '';
  let server: RunningServer;
  let browser: Browser | undefined;
  let owner: Page;
  let agentUrl = '';
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  async function newPage(who: string): Promise<Page> {
    assert.ok(browser);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    // Notifications as a browser that was allowed them, recorded for the test to read.
    await context.addInitScript(() => {
      const shown: string[] = [];
      (window as unknown as { shownNotifications: string[] }).shownNotifications = shown;
      class FakeNotification {
        static permission = 'granted';
        static requestPermission = async () => 'granted';
        onclick: (() => void) | null = null;
        constructor(title: string, opts?: { body?: string }) {
          shown.push(`${title}: ${opts?.body ?? ''}`);
        }
        close() {}
      }
      (window as unknown as { Notification: unknown }).Notification = FakeNotification;
    });
    return watchedPage(context, problems, {
      who,
      // The browser reports a refused test call (403) as a failed load: that refusal is the point.
      expected: (m) => m.location().url.endsWith('/calls'),
    });
  }

  const signInOwner = (page: Page) => signIn(page, server.url, OWNER, SLUG);

  before(async () => {
    ensureDashboardBuilt();
    home = mkdtempSync(join(tmpdir(), 'paddock-e2e-first-'));
    server = await startServer(loadConfig({ home, port: 0 }), silentLogger);
    const db = server.deps.store.db;
    await ensureUser(db, { email: OWNER.email, password: OWNER.password });
    await initOrg(db, operatorCaller(), { slug: SLUG, ownerEmail: OWNER.email, existingAccount: true });
    browser = await launchChromium();
    owner = await newPage('owner');
    await signInOwner(owner);
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test('a new org’s Overview lists what to do first, nothing done yet', async () => {
    const list = owner.getByTestId('getting-started');
    await list.waitFor();
    assert.equal(await list.locator('li[data-done="true"]').count(), 0);
    assert.equal(await list.locator('li').count(), 7);
    await owner.getByText('0 of 7 done.').waitFor();
    await checkPage(owner, 'overview-new-org');
  });

  test('a server is connected and an agent created, from their pages', async () => {
    await owner.getByRole('link', { name: 'Connections' }).first().click();
    await owner.waitForURL(`**/orgs/${SLUG}/connections`);
    const form = owner.getByRole('form', { name: 'Add a connection' });
    await form.getByLabel('Name').fill('everything');
    await form.getByLabel('Command').fill('node');
    await form.getByLabel('Arguments').fill(`${EVERYTHING}\nstdio`);
    await form.getByRole('button', { name: 'Add connection' }).click();
    const row = owner.getByTestId('connection-row').filter({ hasText: 'everything' });
    await row.waitFor();
    await row.getByRole('button', { name: 'List tools of everything' }).click();
    await owner.getByText(/^Listed \d+ tools/).waitFor({ timeout: 30_000 });
    await checkPage(owner, 'connections');

    await owner.getByRole('link', { name: 'Agents', exact: true }).click();
    await owner.waitForURL(`**/orgs/${SLUG}/agents`);
    await owner.getByRole('button', { name: 'New agent' }).click();
    const agentForm = owner.getByRole('form', { name: 'New agent' });
    await agentForm.getByLabel('Name').fill('helper');
    await agentForm.getByLabel('Instructions').fill('Add numbers and echo messages.');
    await agentForm.getByLabel('Provider').fill('openai');
    await agentForm.getByLabel('Model', { exact: true }).fill('gpt-5');
    await agentForm.getByRole('button', { name: 'Create agent' }).click();
    await owner.waitForURL(/\/agents\/agt_/);
    agentUrl = owner.url();
    await owner.getByRole('heading', { level: 1, name: 'helper' }).waitFor();
  });

  const testCall = () => owner.getByRole('form', { name: 'Test call' });
  const outcome = () => owner.getByTestId('call-outcome');

  test('a call of a tool never granted is denied, saying why in words', async () => {
    await testCall()
      .getByLabel('Tool', { exact: true })
      .selectOption({ label: 'everything · get-sum — not granted' });
    await testCall().getByLabel('a', { exact: true }).fill('2');
    await testCall().getByLabel('b', { exact: true }).fill('3');
    await testCall().getByRole('button', { name: 'Make the call' }).click();
    await owner.locator('[data-testid="call-outcome"][data-outcome="denied"]').waitFor();
    const words = (await outcome().textContent()) ?? '';
    assert.match(words, /No grant allows this agent to call get-sum: it has none for this tool/);
    await owner.getByTestId('recent-activity').getByText('tool.call.denied').waitFor();
    await checkPage(owner, 'agent-test-call-denied');
  });

  test('granted, the same call is allowed, and its entry opens in the trail with its arguments', async () => {
    const grantForm = owner.getByRole('form', { name: 'Add a grant' });
    await grantForm.getByLabel('Tool', { exact: true }).selectOption('get-sum');
    await grantForm.getByRole('button', { name: 'Add grant' }).click();
    await owner.getByTestId('grant-row').filter({ hasText: 'get-sum' }).waitFor();
    // The tool list of the test call follows the grant.
    await until(
      () => testCall().getByLabel('Tool', { exact: true }).locator('option').allTextContents(),
      (o) => o.includes('everything · get-sum — granted'),
      'the test call sees the grant, live',
    );
    await testCall()
      .getByLabel('Tool', { exact: true })
      .selectOption({ label: 'everything · get-sum — granted' });
    await testCall().getByLabel('a', { exact: true }).fill('2');
    await testCall().getByLabel('b', { exact: true }).fill('3');
    await testCall().getByRole('button', { name: 'Make the call' }).click();
    await owner.locator('[data-testid="call-outcome"][data-outcome="allowed"]').waitFor();
    assert.match((await outcome().textContent()) ?? '', /The sum of 2 and 3 is 5/);
    // The agent's recent activity follows, live: the decision, placed in the log just after the answer.
    await owner.getByTestId('recent-activity').getByText('tool.call.allowed').waitFor();
    await checkPage(owner, 'agent-test-call-allowed');

    await outcome().getByRole('link', { name: 'See its audit entry' }).click();
    await owner.waitForURL(/\/audit\?entry=\d+$/);
    const dialog = owner.getByRole('dialog');
    await dialog.getByText('tool.call.allowed', { exact: true }).waitFor();
    assert.equal(
      (await dialog.getByTestId('entry-args').textContent())?.replace(/\s+/g, ''),
      '{"a":2,"b":3}',
    );
    await dialog.getByRole('region', { name: 'C2SP tlog-proof' }).locator('pre').waitFor();
    await checkPage(owner, 'audit-entry');
    await owner.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    // Closing the entry takes it out of the address (the address may change just after the dialog goes).
    await owner.waitForURL((u) => !u.searchParams.has('entry'), { timeout: 5_000 });
    // At a laptop's width every entry fits its box: no Proof button hides behind a scrollbar.
    for (const width of [1280, 1024]) {
      await owner.setViewportSize({ width, height: 800 });
      const wrap = owner.getByRole('table', { name: 'Audit entries' }).locator('xpath=..');
      const over = await wrap.evaluate((el) => el.scrollWidth - el.clientWidth);
      assert.ok(over <= 1, `at ${width} px the entries overflow their box by ${over} px`);
    }
    await owner.setViewportSize({ width: 1280, height: 900 });

    // The denial is there too, found by the agent picker; the filter is in the address.
    const filters = owner.getByRole('form', { name: 'Filter audit entries' });
    await filters.getByLabel('Agent', { exact: true }).selectOption({ label: 'helper' });
    await filters.getByLabel('Outcome').selectOption('denied');
    await filters.getByRole('button', { name: 'Apply' }).click();
    await owner.waitForURL(/agent=agt_.*outcome=denied/);
    const table = owner.getByRole('table', { name: 'Audit entries' });
    await until(
      () => table.getByTestId('audit-action').allTextContents(),
      (a) => a.length === 1 && a[0] === 'tool.call.denied',
      'only the denied call',
    );
    await table
      .getByRole('row')
      .filter({ hasText: 'tool.call.denied' })
      .getByText('helper')
      .first()
      .waitFor();
    await checkPage(owner, 'audit-filtered');
    await owner.goBack();
    await until(
      () => table.getByTestId('audit-action').allTextContents(),
      (a) => a.includes('tool.call.allowed') && a.includes('tool.call.denied'),
      'the back button undoes the filter',
    );
  });

  test('a call waiting for approval appears on an open Approvals page without a reload, and goes on once approved', async () => {
    // The approver's page is open first, in another browser.
    const approver = await newPage('approver');
    await signInOwner(approver);
    await approver.getByRole('link', { name: 'Approvals' }).click();
    await approver.waitForURL(`**/orgs/${SLUG}/approvals`);
    await approver.getByText('No calls are waiting for approval.').waitFor();
    await checkPage(approver, 'approvals-empty');

    await owner.goto(agentUrl);
    const grantForm = owner.getByRole('form', { name: 'Add a grant' });
    await grantForm.getByLabel('Tool', { exact: true }).selectOption('echo');
    await grantForm.getByLabel('Requires approval').check();
    await grantForm.getByRole('button', { name: 'Add grant' }).click();
    await owner.getByTestId('grant-row').filter({ hasText: 'echo' }).waitFor();
    await testCall()
      .getByLabel('Tool', { exact: true })
      .selectOption({ label: 'everything · echo — needs approval' });
    await testCall().getByLabel('message', { exact: true }).fill('hello from the test call');
    await testCall().getByRole('button', { name: 'Make the call' }).click();
    await owner.locator('[data-testid="call-outcome"][data-outcome="waiting"]').waitFor();
    await outcome().getByTestId('time-left').waitFor();
    await checkPage(owner, 'agent-test-call-waiting');

    // On the approver's page, untouched since it opened: the call, the count, the title, a notification.
    const row = approver.getByTestId('approval-row').filter({ hasText: 'echo' });
    await row.waitFor();
    assert.match((await row.getByTestId('approval-args').textContent()) ?? '', /hello from the test call/);
    await row.getByTestId('time-left').waitFor();
    assert.equal(await approver.getByTestId('pending-count').textContent(), '1 waiting');
    await until(
      () => approver.title(),
      (t) => t.startsWith('(1) Approvals'),
      'the count in the tab title',
    );
    const shown = await approver.evaluate(
      () => (window as unknown as { shownNotifications: string[] }).shownNotifications,
    );
    assert.deepEqual(shown, ['A call waits for your approval: echo: approve or deny it in Paddock.']);
    await checkPage(approver, 'approvals-waiting');
    await row.getByRole('button', { name: 'Approve' }).click();
    await approver
      .getByRole('form', { name: 'Approve the call' })
      .getByRole('button', { name: 'Yes, approve' })
      .click();
    await approver.getByText('Approved: helper', { exact: false }).waitFor();
    await until(
      () => approver.getByTestId('pending-count').count(),
      (n) => n === 0,
      'the count gone',
    );

    // The waiting call was made again by itself, and ran.
    await owner.locator('[data-testid="call-outcome"][data-outcome="allowed"]').waitFor();
    assert.match((await outcome().textContent()) ?? '', /hello from the test call/);
  });

  test('a new agent token comes with MCP client configurations, the address filled in', async () => {
    const tokenForm = owner.getByRole('form', { name: 'Create an agent token' });
    await tokenForm.getByLabel('Token name').fill('laptop');
    await tokenForm.getByRole('button', { name: 'Create token' }).click();
    const token = (await owner.getByTestId('new-agent-token').textContent()) ?? '';
    assert.match(token, /^pda_/);
    const config = owner.getByTestId('mcp-config');
    const url = `${server.url}/mcp/${SLUG}`;
    assert.equal(
      await config.textContent(),
      `claude mcp add --transport http paddock-helper ${url} --header "Authorization: Bearer ${token}"`,
    );
    await owner.getByLabel('Client').selectOption({ label: 'VS Code' });
    const vscode = JSON.parse((await config.textContent()) ?? '');
    assert.deepEqual(vscode, {
      servers: { 'paddock-helper': { type: 'http', url, headers: { Authorization: `Bearer ${token}` } } },
    });
    await owner.getByLabel('Client').selectOption({ label: 'Claude Desktop' });
    const desktop = JSON.parse((await config.textContent()) ?? '');
    assert.equal(desktop.mcpServers['paddock-helper'].env.PADDOCK_AUTH, `Bearer ${token}`);
    await checkPage(owner, 'agent-token-configs');
  });

  test('the checklist ticks itself from what the org now holds', async () => {
    await owner.getByRole('link', { name: 'Overview' }).click();
    const list = owner.getByTestId('getting-started');
    await list.waitFor();
    const done = async () => (await list.locator('li[data-done="true"] strong').allTextContents()).sort();
    await until(
      done,
      (d) =>
        JSON.stringify(d) ===
        JSON.stringify(
          [
            'Connect your own MCP server',
            'Create your own agent',
            'Grant it a tool',
            'Make a test call',
            'See it in the audit trail',
          ].sort(),
        ),
      'five steps done',
    );
    // An auditor token (the README's way to give an audit its scripts) gives the auditor access.
    const session = (await (await owner.request.get(`${server.url}/api/v1/session`)).json()) as {
      csrfToken: string;
    };
    const made = await owner.request.post(`${server.url}/api/v1/orgs/${SLUG}/tokens`, {
      headers: { 'x-csrf-token': session.csrfToken },
      data: { name: '2026 audit', role: 'auditor' },
    });
    assert.equal(made.status(), 201, await made.text());
    await owner.reload();
    await list.waitFor();
    await until(
      done,
      (d) => d.includes('Give your auditor access'),
      'the auditor step ticked by an auditor token',
    );
    await checkPage(owner, 'overview-started');
  });

  test('no console errors or page errors', () => {
    assert.deepEqual(problems, []);
  });
});
