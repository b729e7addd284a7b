/**
 * The dashboard by keyboard and on a phone, in real Chromium against a real server: the command
 * palette (⌘K / Ctrl-K: a combobox in a dialog, fuzzy, arrows and Enter, Escape giving focus
 * back) to an agent, a connection and a person; the shortcuts (`?` lists them, `g t` the trail…);
 * a toast when a waiting call is decided elsewhere; a waiting call approved and an agent stopped
 * with the keyboard alone (focus always visible, never lost when a button is replaced); and the
 * same two at phone width (390 px): no sideways scroll, the sidebar behind a Menu button. Every
 * page is checked for accessibility (axe-core, light and dark) and photographed.
 *
 *   PATH=$PWD/node_modules/.bin:$PATH node --test dashboard/keyboard-e2e.test.ts
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { requestApproval } from '../src/approvals/approvals.ts';
import { loadConfig } from '../src/config/index.ts';
import { ensureUser, initOrg, operatorCaller } from '../src/identity/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { policyVersion } from '../src/policy/engine.ts';
import { type RunningServer, startServer } from '../src/server/index.ts';
import { launchChromium } from '../src/testing/browser.ts';
import { untilRead as until } from '../src/testing/until.ts';
import { ensureDashboardBuilt } from './e2e-build.ts';
import { checkPage } from './e2e-check.ts';
import { signIn, watchedPage } from './e2e-session.ts';

const SLUG = 'roadco';
const OWNER = { email: 'owner@roadco.test', password: 'owner-password-0001' };
const PHONE = { width: 390, height: 844 };

describe('the dashboard by keyboard and on a phone', { timeout: 240_000 }, () => {
  let home = '';
  let server: RunningServer;
  let browser: Browser | undefined;
  let page: Page;
  let token = '';
  let orgId = '';
  const agents: Record<string, string> = {};
  let connectionId = '';
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  async function newPage(who: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
    assert.ok(browser);
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    return watchedPage(context, problems, { who });
  }

  const signInOwner = (p: Page) => signIn(p, server.url, OWNER, SLUG);

  /** The org's API as the owner's token (setting up what the pages then show). */
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${server.url}/api/v1/orgs/${SLUG}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A call of `agent` that waits for a person, as the gateway files it. */
  function waitingCall(agent: string, tool: string, requestId: string): Promise<unknown> {
    return requestApproval(server.deps.store.db, {
      orgId,
      agentId: agents[agent]!,
      connectionId,
      tool,
      args: { orderId: 'A-1001', amount: 20 },
      policyVersion: policyVersion([]),
      requestedBy: null,
      requestId,
      minutes: 30,
    });
  }

  /** What has the keyboard's focus: its tag, accessible text and whether its outline shows. */
  function focused(p: Page): Promise<{ tag: string; text: string; outline: string; inDialog: boolean }> {
    return p.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      const style = el ? getComputedStyle(el) : null;
      return {
        tag: el?.tagName ?? '',
        text: (el?.getAttribute('aria-label') ?? el?.textContent ?? '').trim(),
        outline: style ? `${style.outlineStyle} ${style.outlineWidth}` : '',
        inDialog: Boolean(el?.closest('dialog')),
      };
    });
  }

  /** Presses Tab until the focused element's text is `text` (at most `max` times), checking each stop shows focus. */
  async function tabTo(p: Page, text: string | RegExp, max = 60): Promise<void> {
    const seen: string[] = [];
    for (let i = 0; i < max; i++) {
      await p.keyboard.press('Tab');
      const f = await focused(p);
      seen.push(f.text.slice(0, 40));
      assert.notEqual(f.tag, 'BODY', `focus was lost after ${seen.join(' → ')}`);
      if (f.tag !== 'MAIN')
        assert.match(f.outline, /^(solid|auto) [1-9]/, `a visible focus ring on “${f.text}” (${f.tag})`);
      if (typeof text === 'string' ? f.text === text : text.test(f.text)) return;
    }
    assert.fail(`never reached “${text}” by Tab: ${seen.join(' → ')}`);
  }

  /** The page's width against the window's: nothing to scroll sideways. */
  async function assertNoSideScroll(p: Page, what: string): Promise<void> {
    const { scroll, width, wide } = await p.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      width: window.innerWidth,
      // What sticks out, to say where the overflow comes from when there is one.
      wide: [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(0, 5)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className}`),
    }));
    assert.ok(
      scroll <= width,
      `${what}: the page is ${scroll} px wide in a ${width} px window (${wide.join(', ')})`,
    );
  }

  before(async () => {
    ensureDashboardBuilt();
    home = mkdtempSync(join(tmpdir(), 'paddock-e2e-keys-'));
    server = await startServer(loadConfig({ home, port: 0 }), silentLogger);
    const db = server.deps.store.db;
    await ensureUser(db, { email: OWNER.email, password: OWNER.password });
    const init = await initOrg(db, operatorCaller(), {
      slug: SLUG,
      ownerEmail: OWNER.email,
      withToken: true,
      // Made with a password above: the operator says the account is theirs.
      existingAccount: true,
    });
    token = init.token!;
    orgId = init.org.id;
    const model = { provider: 'demo', model: 'replay' };
    for (const name of ['support-bot', 'billing-bot', 'route-planner']) {
      const a = await call<{ id: string }>('POST', '/agents', {
        name,
        scope: 'organization',
        instructions: '',
        model,
      });
      agents[name] = a.id;
    }
    const c = await call<{ id: string }>('POST', '/connections', {
      name: 'order-desk',
      transport: 'stdio',
      command: 'node',
      args: ['server.js'],
    });
    connectionId = c.id;
    browser = await launchChromium();
    page = await newPage('owner');
    await signInOwner(page);
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test('Ctrl-K opens the palette: a combobox in a dialog, fuzzy, arrows and Enter, Escape gives focus back', async () => {
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    assert.equal(
      await page.getByRole('button', { name: 'Menu' }).isVisible(),
      false,
      'no Menu at desktop width',
    );
    // Focus somewhere known first, to see it come back.
    const button = page.getByRole('button', { name: /^Go to/ });
    await button.focus();
    await page.keyboard.press('Control+k');
    const dialog = page.getByRole('dialog', { name: 'Go to' });
    await dialog.waitFor();
    const box = dialog.getByRole('combobox');
    assert.equal(await box.evaluate((e) => e === document.activeElement), true, 'the combobox has focus');
    assert.equal(await box.getAttribute('aria-expanded'), 'true');
    assert.equal(await box.getAttribute('aria-controls'), 'palette-list');
    // The pages at once, then the org's agents, connections and people as they load.
    await dialog.getByRole('option', { name: /support-bot/ }).waitFor();
    await dialog.getByRole('option', { name: /owner@roadco\.test/ }).waitFor();
    await checkPage(page, 'palette');

    await box.fill('rtpl');
    const options = dialog.getByRole('option');
    await until(
      () => options.allTextContents(),
      (t) => t.length >= 1 && t[0]!.startsWith('route-planner'),
      'route-planner first for "rtpl"',
    );
    await box.fill('bot');
    await until(
      () => options.allTextContents(),
      (t) => t.length === 2 && t.every((o) => o.includes('-bot')),
      'the two bots for "bot"',
    );
    const active = () => box.getAttribute('aria-activedescendant');
    const first = await active();
    assert.equal(await dialog.locator(`#${first}`).getAttribute('aria-selected'), 'true');
    await page.keyboard.press('ArrowDown');
    const second = await active();
    assert.notEqual(second, first, 'ArrowDown moves the active option');
    await page.keyboard.press('ArrowDown');
    assert.equal(await active(), second, 'the last option stays active');
    await page.keyboard.press('ArrowUp');
    assert.equal(await active(), first);

    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    const f = await focused(page);
    assert.match(f.text, /^Go to/, 'focus is back on what had it');

    // Enter opens the active option: an agent's page.
    await page.keyboard.press('Control+k');
    await box.fill('billing');
    await dialog.getByRole('option', { name: /billing-bot/ }).waitFor();
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/orgs/${SLUG}/agents/${agents['billing-bot']}`);
    await page.getByRole('heading', { level: 1, name: 'billing-bot' }).waitFor();
    assert.equal(await dialog.isVisible(), false, 'the palette closed');
    assert.equal(
      await page.locator('main').evaluate((e) => e === document.activeElement),
      true,
      'focus starts on the page the jump led to, not back on "Go to…"',
    );

    // A connection and a person: their page, the row marked and focused.
    for (const [query, url, row] of [
      ['order desk', '/connections', connectionId],
      ['owner@', '/people', null],
    ] as const) {
      await page.keyboard.press('Control+k');
      await box.fill(query);
      await until(
        () => options.count(),
        (n) => n >= 1,
        `an option for ${query}`,
      );
      await page.keyboard.press('Enter');
      await page.waitForURL(`**/orgs/${SLUG}${url}?show=*`);
      const shown = page.locator('.item-shown');
      await shown.waitFor();
      if (row) assert.equal(await shown.getAttribute('data-item-id'), row);
      assert.equal(await shown.evaluate((e) => e === document.activeElement), true, 'the row has focus');
    }
    await checkPage(page, 'palette-person');
  });

  test('? lists the shortcuts, and g then a letter goes to a page', async () => {
    await page.locator('main').focus();
    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    for (const what of ['Overview', 'Agents', 'Audit trail', 'Approvals'])
      await help.getByRole('row').filter({ hasText: what }).first().waitFor();
    await checkPage(page, 'shortcuts');
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'hidden' });

    for (const [key, path, heading] of [
      ['t', '/audit', 'Audit'],
      ['p', '/approvals', 'Approvals'],
      ['a', '/agents', 'Agents'],
      ['o', '', null],
    ] as const) {
      await page.keyboard.press('g');
      await page.keyboard.press(key);
      await page.waitForURL(`${server.url}/orgs/${SLUG}${path}`);
      if (heading) await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    }
    // Typed into a field, the same keys are text.
    await page.keyboard.press('g');
    await page.keyboard.press('t');
    await page.waitForURL(`**/orgs/${SLUG}/audit`);
    const field = page.getByLabel('Free text');
    await field.focus();
    await page.keyboard.type('gp?');
    assert.equal(await field.inputValue(), 'gp?');
    assert.equal(await help.isVisible(), false, 'no list opened');
    assert.match(page.url(), /\/audit$/, 'still on the trail');
    await field.fill('');
  });

  test('a waiting call decided elsewhere shows a toast, read out politely', async () => {
    await page.keyboard.press('Escape');
    await page.locator('main').focus();
    await page.keyboard.press('g');
    await page.keyboard.press('o');
    await page.waitForURL(`${server.url}/orgs/${SLUG}`);
    const a = (await waitingCall('support-bot', 'refund', 'req_toast')) as { id: string };
    await page.getByTestId('pending-count').waitFor();
    await call('POST', `/approvals/${a.id}/deny`, { reason: 'not today' });
    const toast = page.getByRole('status').filter({ has: page.getByTestId('toast') });
    await toast.getByText('The waiting call of refund was decided elsewhere.').waitFor();
    await until(
      () => page.getByTestId('pending-count').count(),
      (n) => n === 0,
      'the count gone too',
    );
    await checkPage(page, 'toast');
    await toast.getByRole('button', { name: /Dismiss/ }).click();
    await page.getByTestId('toast').waitFor({ state: 'detached' });
  });

  test('with the keyboard alone: a waiting call approved, and an agent stopped', async () => {
    await waitingCall('support-bot', 'refund', 'req_keys');
    await page.locator('main').focus();
    await page.keyboard.press('g');
    await page.keyboard.press('p');
    await page.waitForURL(`**/orgs/${SLUG}/approvals`);
    await page.getByTestId('approval-row').first().waitFor();
    await page.getByRole('heading', { level: 1, name: 'Approvals' }).focus();
    await tabTo(page, 'Approve');
    await page.keyboard.press('Enter');
    const form = page.getByRole('form', { name: 'Approve the call' });
    await form.waitFor();
    // The reason field takes focus; Escape is not needed: Cancel gives focus back to Approve.
    assert.equal((await focused(page)).tag, 'INPUT');
    await tabTo(page, 'Cancel', 3);
    await page.keyboard.press('Enter');
    await form.waitFor({ state: 'detached' });
    await until(
      () => focused(page),
      (f) => f.text === 'Approve',
      'focus back on Approve',
    );
    await page.keyboard.press('Enter');
    await form.waitFor();
    await page.keyboard.type('checked by phone');
    await tabTo(page, 'Yes, approve', 3);
    await page.keyboard.press('Enter');
    await page.getByText(/^Approved: support-bot → refund/).waitFor();
    await until(
      () => focused(page),
      (f) => f.text.startsWith('Approved'),
      'focus on what was decided',
    );
    await checkPage(page, 'keyboard-approved');

    // Stopping an agent: Stop, then the confirm, each taking focus in turn.
    await page.keyboard.press('Control+k');
    await page.getByRole('combobox', { name: /^Go to/ }).fill('route');
    await page.getByRole('option', { name: /route-planner/ }).waitFor();
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/agents/${agents['route-planner']}`);
    await page.getByRole('heading', { level: 1, name: 'route-planner' }).focus();
    await tabTo(page, 'Stop agent');
    await page.keyboard.press('Enter');
    await until(
      () => focused(page),
      (f) => f.text === 'Yes, stop agent',
      'focus on the confirm',
    );
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'This agent is stopped' }).waitFor();
    await until(
      () => focused(page),
      (f) => f.text === 'Resume agent',
      'focus on Resume',
    );
    await checkPage(page, 'keyboard-stopped');
    assert.deepEqual(problems, []);
  });

  test('at phone width: approvals and stopping an agent, no sideways scroll, the sidebar behind Menu', async () => {
    const phone = await newPage('phone', PHONE);
    await signInOwner(phone);
    await assertNoSideScroll(phone, 'Overview');
    const nav = phone.getByRole('navigation', { name: 'Sections' });
    const menu = phone.getByRole('button', { name: 'Menu' });
    assert.equal(await nav.isVisible(), false, 'the sidebar is folded');
    assert.equal(await menu.getAttribute('aria-expanded'), 'false');
    await menu.click();
    assert.equal(await menu.getAttribute('aria-expanded'), 'true');
    await nav.getByRole('link', { name: /Approvals/ }).click();
    await phone.waitForURL(`**/orgs/${SLUG}/approvals`);
    // Folded as the new page renders, a moment after its address changes.
    await until(
      () => nav.isVisible(),
      (v) => v === false,
      'the sidebar folded again on the new page',
    );

    await waitingCall('billing-bot', 'refund', 'req_phone');
    const row = phone.getByTestId('approval-row').filter({ hasText: 'billing-bot' });
    await row.waitFor();
    await assertNoSideScroll(phone, 'Approvals');
    await checkPage(phone, 'phone-approvals');
    await row.getByRole('button', { name: 'Approve' }).click();
    await phone.getByRole('form', { name: 'Approve the call' }).waitFor();
    await assertNoSideScroll(phone, 'Approvals, deciding');
    await phone.getByRole('button', { name: 'Yes, approve' }).click();
    await phone.getByText(/^Approved: billing-bot → refund/).waitFor();

    await phone.goto(`${server.url}/orgs/${SLUG}/agents/${agents['billing-bot']}`);
    await phone.getByRole('heading', { level: 1, name: 'billing-bot' }).waitFor();
    await assertNoSideScroll(phone, 'the agent page');
    await checkPage(phone, 'phone-agent');
    await phone.getByRole('button', { name: 'Stop agent' }).click();
    await phone.getByRole('button', { name: 'Yes, stop agent' }).click();
    await phone.getByRole('heading', { name: 'This agent is stopped' }).waitFor();
    await assertNoSideScroll(phone, 'the agent page, stopped');
    await checkPage(phone, 'phone-agent-stopped');

    await menu.click();
    await assertNoSideScroll(phone, 'the menu open');
    await checkPage(phone, 'phone-menu');
    assert.deepEqual(problems, []);
  });
  test('empty pages say what the thing is and what to do first', async () => {
    for (const [key, heading, says] of [
      [
        'r',
        'Runs',
        /^No runs yet\. A run is one message an agent handles.*Start one from an agent’s page with Chat\.$/,
      ],
      [
        's',
        'Secrets',
        /^No secrets yet\. A secret is a value .*kept encrypted in the vault.*Add one above\.$/,
      ],
    ] as const) {
      await page.locator('main').focus();
      await page.keyboard.press('g');
      await page.keyboard.press(key);
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      const empty = page.locator('p.empty').first();
      await empty.waitFor();
      assert.match(((await empty.textContent()) ?? '').replace(/\s+/g, ' ').trim(), says);
      await checkPage(page, `empty-${heading.toLowerCase()}`);
    }
    await page.goto(`${server.url}/orgs/${SLUG}/teams`);
    await page.getByText(/^No teams yet\. A team is a group of people/).waitFor();
    await checkPage(page, 'empty-teams');
  });
});
