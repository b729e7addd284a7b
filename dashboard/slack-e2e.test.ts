/**
 * The Slack page in real Chromium against a real server talking to a local fake Slack: before
 * Slack is installed it says how; an owner installs it from the page (credentials write-only,
 * checked with Slack, never shown back; a token Slack refuses stores nothing), binds a channel
 * and direct messages to an agent and unbinds one, each change audited as the API's; the page
 * shows the workspace, the events URL and the bound channels; the signed-in person makes a link
 * code there, sends it to the app as Slack would (a signed direct-message event), and the page
 * then shows the link. Checked for accessibility (axe-core, light and dark) and photographed
 * (dashboard/screenshots/, or E2E_SCREENSHOT_DIR).
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
import { untilRead } from '../src/testing/until.ts';
import { checkPage } from './e2e-check.ts';
import { signIn, watchedPage } from './e2e-session.ts';

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
    token = (
      await initOrg(db, operatorCaller(), {
        slug: SLUG,
        ownerEmail: OWNER.email,
        withToken: true,
        existingAccount: true,
      })
    ).token!;
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await watchedPage(context, problems, { timeoutMs: 15_000 });
    await signIn(page, server.url, OWNER, SLUG);
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

  test('an owner installs the app from the page: a refused token stores nothing; the credentials are never shown back', async () => {
    const agent = await api('post', '/agents', {
      name: 'helper',
      scope: 'organization',
      instructions: 'x',
      model: { provider: 'openai', model: 'gpt-5' },
    });
    assert.equal(agent.status, 201);
    const form = page.getByRole('form', { name: 'Install the Slack app' });
    await form.waitFor();
    await checkPage(page, 'slack-install-form');
    // A token Slack refuses: the server says so, nothing is stored, the inputs are emptied.
    await form.getByLabel('Signing secret').fill(slack.signingSecret);
    await form.getByLabel('Bot token').fill('xoxb-0000000000-not-the-token');
    await form.getByLabel('Approvals channel').fill('C0APPROVALS');
    await form.getByRole('button', { name: 'Install' }).click();
    await page.getByRole('alert').getByText('Slack did not accept the bot token').waitFor();
    assert.equal(await form.getByLabel('Signing secret').inputValue(), '');
    assert.deepEqual((await api('get', '/slack')).body, { slack: null });
    // The browser logs the refused call (a 400): expected here, and only that.
    assert.ok(
      problems.length > 0 && problems.every((p) => /status of 400 .*\/slack\)$/.test(p)),
      problems.join('\n'),
    );
    problems.length = 0;
    // The right ones: checked with Slack, sealed, and the page shows the state, never a secret.
    await form.getByLabel('Signing secret').fill(slack.signingSecret);
    await form.getByLabel('Bot token').fill(slack.botToken);
    await form.getByRole('button', { name: 'Install' }).click();
    await page.getByText(`Slack installed for workspace ${slack.teamId}`).waitFor();
    await page.getByTestId('slack-events-url').getByText(`${server.url}/slack/${SLUG}/events`).waitFor();
    const html = await page.content();
    for (const secret of [slack.signingSecret, slack.botToken])
      assert.ok(!html.includes(secret), 'a credential is in the page');
    const status = (await api('get', '/slack')).body.slack;
    assert.deepEqual([status.teamId, status.approvalsChannel], [slack.teamId, 'C0APPROVALS']);
    await checkPage(page, 'slack-installed');
  });

  test('an owner binds a channel and direct messages to an agent and unbinds one; each change is audited', async () => {
    // The agent was made after the page loaded: the page offers it once loaded again.
    await page.reload();
    const form = page.getByRole('form', { name: 'Bind a channel to an agent' });
    // A malformed channel id is refused on the page, and nothing is bound.
    await form.getByLabel('Channel id').fill('#general');
    await form.getByRole('button', { name: 'Bind' }).click();
    await form.page().getByText('A channel is its id, such as C0123ABCD').waitFor();
    await form.getByLabel('Channel id').fill('C0GENERAL1');
    await form.getByLabel('Agent').selectOption({ label: 'helper' });
    await form.getByRole('button', { name: 'Bind' }).click();
    await page.getByText('helper now answers in C0GENERAL1.').waitFor();
    await form.getByLabel('Where').selectOption('dm');
    await form.getByRole('button', { name: 'Bind' }).click();
    await page.getByText('helper now answers direct messages to the app.').waitFor();
    const rows = page.getByTestId('slack-binding');
    await rows.filter({ hasText: 'C0GENERAL1' }).getByText('helper').waitFor();
    await rows.filter({ hasText: 'Direct messages' }).waitFor();
    await checkPage(page, 'slack-channels');
    await page.getByRole('button', { name: 'Unbind Direct messages' }).click();
    await page.getByRole('button', { name: 'Yes, unbind' }).click();
    await page.getByText('No agent answers direct messages to the app now.').waitFor();
    // The list is read again after the notice shows: wait for the row to go.
    await untilRead(
      () => rows.filter({ hasText: 'Direct messages' }).count(),
      (n) => n === 0,
      'the direct messages row to go',
    );
    const bound = (await api('get', '/slack')).body.slack.bindings.map(
      (b: { channelId: string }) => b.channelId,
    );
    assert.deepEqual(bound, ['C0GENERAL1']);
    // On record as the owner, as the API records them (and no secret in the trail).
    const trail = await api('get', '/audit?limit=50');
    assert.equal(trail.status, 200, JSON.stringify(trail.body));
    const text = JSON.stringify(trail.body);
    const owner = await server.deps.store.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', OWNER.email)
      .executeTakeFirstOrThrow();
    for (const action of ['slack.installed', 'slack.channel_bound', 'slack.channel_unbound']) {
      const entry = trail.body.events.find((e: { action: string }) => e.action === action);
      assert.ok(entry, `${action} is not on record`);
      assert.equal(entry.actor.id, owner.id, `${action} is not in the owner's name`);
    }
    for (const secret of [slack.signingSecret, slack.botToken]) assert.ok(!text.includes(secret));
  });

  test('installed, it shows the events URL and the channels; a link code sent from Slack links the account', async () => {
    await page.reload();
    await page.getByTestId('slack-events-url').getByText(`${server.url}/slack/${SLUG}/events`).waitFor();
    const row = page.getByTestId('slack-binding');
    await row.getByText('C0GENERAL1', { exact: true }).waitFor();
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

  test('credentials replaced from the page for Socket Mode: the page says so in place of the events URL; uninstalled from the page', async () => {
    await page.getByRole('button', { name: 'Replace credentials' }).click();
    const form = page.getByRole('form', { name: 'Replace the app’s credentials' });
    await form.getByLabel('Signing secret').fill(slack.signingSecret);
    await form.getByLabel('Bot token').fill(slack.botToken);
    await form.getByLabel('Socket Mode').check();
    await form.getByLabel('App-level token').fill(slack.appToken);
    await form.getByRole('button', { name: 'Replace credentials' }).click();
    await page.getByTestId('slack-socket-mode').getByText('Over Socket Mode').waitFor();
    const status = (await api('get', '/slack')).body.slack;
    assert.deepEqual([status.socketMode, status.bindings.length], [true, 1], 'the bindings stay');
    assert.equal(await page.getByTestId('slack-events-url').count(), 0);
    assert.ok(!(await page.content()).includes(slack.appToken), 'the app-level token was shown');
    // Uninstalled from the page: the credentials, bindings and links go, on record.
    await page.getByRole('button', { name: 'Uninstall' }).click();
    await page.getByRole('button', { name: 'Yes, uninstall' }).click();
    await page.getByText('Slack uninstalled').waitFor();
    await page.getByText('Slack is not installed.').waitFor();
    assert.deepEqual((await api('get', '/slack')).body, { slack: null });
    const trail = await api('get', '/audit?limit=5');
    assert.ok(trail.body.events.some((e: { action: string }) => e.action === 'slack.uninstalled'));
    assert.deepEqual(problems, []);
  });
});
