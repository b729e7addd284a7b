/**
 * The Slack page in real Chromium against a real server talking to a local fake Slack: before
 * Slack is installed it says how; installed (through the API), it shows the workspace, the
 * events URL and the bound channel; the signed-in person makes a link code there, sends it to
 * the app as Slack would (a signed direct-message event), and the page then shows the link.
 * Checked for accessibility (axe-core, light and dark) and photographed (dashboard/screenshots/).
 *
 *   PATH=$PWD/node_modules/.bin:$PATH node --test dashboard/slack-e2e.test.ts
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { loadConfig } from '../src/config/index.ts';
import { ensureUser, initOrg, operatorCaller } from '../src/identity/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { type RunningServer, startServer } from '../src/server/index.ts';
import { launchChromium } from '../src/testing/browser.ts';
import { type FakeSlack, slackSigned, startFakeSlack } from '../src/testing/fake-slack.ts';
import { checkPage } from './e2e-check.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SLUG = 'slackco';
const OWNER = { email: 'owner@slackco.test', password: 'owner-password-0001' };
const OWNER_SLACK = 'U0OWNER001';

describe('the Slack page', { timeout: 180_000 }, () => {
  let home = '';
  let server: RunningServer;
  let slack: FakeSlack;
  let browser: Browser | undefined;
  let page: Page;
  let token = '';
  const problems: string[] = [];

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}/api/v1/orgs/${SLUG}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: res.status === 204 ? null : await res.json() };
  };

  before(async () => {
    if (!existsSync(join(ROOT, 'dashboard/dist/index.html'))) {
      const built = spawnSync(
        join(ROOT, 'node_modules/.bin/vite'),
        ['build', '--config', 'dashboard/vite.config.ts'],
        { cwd: ROOT, encoding: 'utf8' },
      );
      assert.equal(built.status, 0, `vite build failed:\n${built.stdout}\n${built.stderr}`);
    }
    slack = await startFakeSlack();
    home = mkdtempSync(join(tmpdir(), 'paddock-e2e-slack-'));
    server = await startServer(
      loadConfig({ home, port: 0 }, { ...process.env, PADDOCK_SLACK_API_URL: slack.url }),
      silentLogger,
    );
    const db = server.deps.store.db;
    await ensureUser(db, { email: OWNER.email, password: OWNER.password });
    token = (await initOrg(db, operatorCaller(), { slug: SLUG, ownerEmail: OWNER.email, withToken: true }))
      .token!;
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(`${server.url}/signin`);
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`**/orgs/${SLUG}`);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await slack?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test('before Slack is installed, the page says how to install it', async () => {
    await page.getByRole('link', { name: 'Slack' }).first().click();
    await page.waitForURL(`**/orgs/${SLUG}/slack`);
    await page.getByText('Slack is not installed.').waitFor();
    await checkPage(page, 'slack-not-installed');
  });

  test('installed, it shows the events URL and the channels; a link code sent from Slack links the account', async () => {
    const agent = await api('post', '/agents', {
      name: 'helper',
      scope: 'organization',
      instructions: 'x',
      model: { provider: 'openai', model: 'gpt-5' },
    });
    assert.equal(agent.status, 201);
    const installed = await api('put', '/slack', {
      signingSecret: slack.signingSecret,
      botToken: slack.botToken,
      approvalsChannel: 'C0APPROVALS',
    });
    assert.equal(installed.status, 200, JSON.stringify(installed.body));
    assert.equal(
      (await api('put', '/slack/channels', { channelId: 'C0GENERAL1', agentId: agent.body.id })).status,
      204,
    );
    await page.reload();
    await page.getByTestId('slack-events-url').getByText(`${server.url}/slack/${SLUG}/events`).waitFor();
    const row = page.getByTestId('slack-binding');
    await row.getByText('C0GENERAL1').waitFor();
    await row.getByText('helper').waitFor();
    await page.getByRole('button', { name: 'Link my Slack account' }).click();
    const shown = await page.getByTestId('slack-link-code').textContent();
    const code = /^link (\S+)$/.exec(shown ?? '')?.[1];
    assert.ok(code, `no code shown: ${shown}`);
    await checkPage(page, 'slack-page');

    // The owner sends it to the app from Slack: a signed direct-message event.
    const body = JSON.stringify({
      type: 'event_callback',
      team_id: slack.teamId,
      event_id: 'Ev0LINK0001',
      event_time: Math.floor(Date.now() / 1000),
      event: {
        type: 'message',
        channel_type: 'im',
        channel: 'D0OWNER01',
        user: OWNER_SLACK,
        text: `link ${code}`,
        ts: '1.000001',
      },
    });
    const sent = await fetch(`${server.url}/slack/${SLUG}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...slackSigned(slack.signingSecret, body) },
      body,
    });
    assert.equal(sent.status, 200, await sent.text());
    await page.reload();
    await page.getByTestId('slack-linked').getByText(OWNER_SLACK).waitFor();
    await checkPage(page, 'slack-linked');
    assert.deepEqual(problems, []);
  });

  test('installed over Socket Mode, the page says so in place of the events URL', async () => {
    const installed = await api('put', '/slack', {
      signingSecret: slack.signingSecret,
      botToken: slack.botToken,
      appToken: slack.appToken,
      socketMode: true,
    });
    assert.equal(installed.status, 200, JSON.stringify(installed.body));
    await page.reload();
    await page.getByTestId('slack-socket-mode').getByText('Over Socket Mode').waitFor();
    assert.equal(await page.getByTestId('slack-events-url').count(), 0);
    assert.ok(!(await page.content()).includes(slack.appToken), 'the app-level token was shown');
    assert.equal((await api('delete', '/slack')).status, 204);
    assert.deepEqual(problems, []);
  });
});
