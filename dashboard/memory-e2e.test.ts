/**
 * Agent memory and retention through the dashboard, in real Chromium against a real server: the
 * built-in memory connection added from the Connections page and its tools listed; an agent
 * granted them remembers over /mcp/{org} (one note of hostile markup, shown as text, never run);
 * on the agent's page the owner searches, edits, pins, unpins and deletes entries, then deletes
 * all of its memory on request (counts shown); on the Overview the owner sets the retention
 * policy (memory included) and an auditor reads it, unable to change it. Every page is checked
 * for accessibility (axe-core, light and dark) and photographed (dashboard/screenshots/).
 *
 *   PATH=$PWD/node_modules/.bin:$PATH node --test dashboard/memory-e2e.test.ts
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loadConfig } from '../src/config/index.ts';
import { addMembership, ensureUser, initOrg, operatorCaller, trustedScope } from '../src/identity/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { type RunningServer, startServer } from '../src/server/index.ts';
import { launchChromium } from '../src/testing/browser.ts';
import { untilRead as until } from '../src/testing/until.ts';
import { checkPage } from './e2e-check.ts';
import { signIn, watchedPage } from './e2e-session.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SLUG = 'memco';
const OWNER = { email: 'owner@memco.test', password: 'owner-password-0001' };
const AUDITOR = { email: 'auditor@memco.test', password: 'auditor-password-0002' };
const HOSTILE = '<img src=x onerror="window.__pwned=1"> release notes go out on Fridays';

describe('agent memory and retention in the dashboard', { timeout: 240_000 }, () => {
  let home = '';
  let server: RunningServer;
  let browser: Browser | undefined;
  let owner: Page;
  let agentId = '';
  let agentToken = '';
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  const api = () => `${server.url}/api/v1/orgs/${SLUG}`;

  async function newPage(who: string): Promise<Page> {
    assert.ok(browser);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    return watchedPage(context, problems, { who });
  }

  const signInAs = (page: Page, who: { email: string; password: string }) =>
    signIn(page, server.url, who, SLUG);

  /** A memory tool call as the agent, over the MCP endpoint. */
  async function remember(text: string): Promise<void> {
    const r = await fetch(`${server.url}/mcp/${SLUG}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${agentToken}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'memory__remember', arguments: { text } },
      }),
    });
    const body = (await r.json()) as { result: { isError?: boolean; content: Array<{ text: string }> } };
    assert.notEqual(body.result.isError, true, body.result.content[0]?.text);
  }

  before(async () => {
    if (!existsSync(join(ROOT, 'dashboard/dist/index.html'))) {
      const built = spawnSync(
        join(ROOT, 'node_modules/.bin/vite'),
        ['build', '--config', 'dashboard/vite.config.ts'],
        { cwd: ROOT, encoding: 'utf8' },
      );
      assert.equal(built.status, 0, `vite build failed:\n${built.stdout}\n${built.stderr}`);
    }
    home = mkdtempSync(join(tmpdir(), 'paddock-e2e-memory-'));
    server = await startServer(loadConfig({ home, port: 0 }), silentLogger);
    const db = server.deps.store.db;
    await ensureUser(db, { email: OWNER.email, password: OWNER.password });
    const { org } = await initOrg(db, operatorCaller(), {
      slug: SLUG,
      ownerEmail: OWNER.email,
      existingAccount: true,
    });
    const auditor = await ensureUser(db, { email: AUDITOR.email, password: AUDITOR.password });
    await addMembership(db, operatorCaller(), trustedScope(org.id), auditor.id, 'auditor', 'test');
    browser = await launchChromium();
    owner = await newPage('owner');
    await signInAs(owner, OWNER);
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test('the built-in memory connection is added from the Connections page and lists its tools', async () => {
    await owner.getByRole('link', { name: 'Connections' }).first().click();
    await owner.waitForURL(`**/orgs/${SLUG}/connections`);
    const form = owner.getByRole('form', { name: 'Add a connection' });
    await form.getByText('Built into Paddock', { exact: true }).click();
    assert.equal(await form.getByLabel('Command').count(), 0, 'no command for a built-in server');
    await form.getByLabel('Name').fill('memory');
    await form.getByRole('button', { name: 'Add connection' }).click();
    const row = owner.getByTestId('connection-row').filter({ hasText: 'memory' });
    await row.getByText('Built into Paddock').waitFor();
    await row.getByRole('button', { name: 'List tools of memory' }).click();
    await owner.getByText(/^Listed 3 tools/).waitFor({ timeout: 30_000 });
    await checkPage(owner, 'connections-memory');

    // The agent, granted the three tools, and its token (through the API: their pages have their own tests).
    const { csrfToken } = (await (await owner.request.get(`${server.url}/api/v1/session`)).json()) as {
      csrfToken: string;
    };
    const post = async (path: string, data: unknown) => {
      const r = await owner.request.post(`${api()}${path}`, { data, headers: { 'x-csrf-token': csrfToken } });
      assert.ok(r.ok(), `${path}: ${await r.text()}`);
      return r.json();
    };
    const conns = (await (await owner.request.get(`${api()}/connections`)).json()) as {
      connections: { id: string; name: string }[];
    };
    const memory = conns.connections.find((c) => c.name === 'memory')!;
    const agent = await post('/agents', {
      name: 'notetaker',
      scope: 'organization',
      instructions: 'Keep notes.',
      model: { provider: 'openai', model: 'gpt-5' },
    });
    agentId = agent.id;
    for (const tool of ['remember', 'recall', 'forget'])
      await post(`/agents/${agentId}/grants`, { connectionId: memory.id, tool });
    agentToken = (await post(`/agents/${agentId}/tokens`, { name: 'laptop' })).token;
    await remember('The staging database is reset every Monday.');
    await remember(HOSTILE);
  });

  test('on the agent’s page the owner searches, edits, pins and deletes memory, then deletes it all', async () => {
    await owner.goto(`${server.url}/orgs/${SLUG}/agents/${agentId}`);
    const entries = owner.getByTestId('memory-entry');
    await until(
      () => entries.count(),
      (n) => n === 2,
      'two entries',
    );
    // Markup an agent wrote is text on the page, never an element.
    await entries.filter({ hasText: 'release notes' }).getByText(HOSTILE).waitFor();
    assert.equal(await owner.locator('.memory-list img').count(), 0, 'no element made from memory');
    assert.equal(await owner.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    await checkPage(owner, 'agent-memory');

    const search = owner.getByRole('search', { name: 'Search memory' });
    await search.getByLabel('Search memory').fill('staging monday');
    await search.getByRole('button', { name: 'Search' }).click();
    await until(
      () => entries.count(),
      (n) => n === 1,
      'one entry',
    );
    await search.getByLabel('Search memory').fill('');
    await search.getByRole('button', { name: 'Search' }).click();
    await until(
      () => entries.count(),
      (n) => n === 2,
      'two entries',
    );

    const staging = entries.filter({ hasText: 'staging database' });
    await staging.getByRole('button', { name: 'Edit' }).click();
    const edit = owner.getByRole('form', { name: /Edit memory entry/ });
    await edit.getByLabel('Text').fill('The staging database is reset every Tuesday.');
    await edit.getByRole('button', { name: 'Save' }).click();
    await owner.getByText('Memory entry saved.').waitFor();
    const edited = entries.filter({ hasText: 'every Tuesday' });
    await edited.getByRole('button', { name: 'Pin' }).click();
    await edited.getByText('Pinned', { exact: true }).waitFor();
    const listed = (await (await owner.request.get(`${api()}/agents/${agentId}/memory`)).json()) as {
      entries: { text: string; pinned: boolean }[];
    };
    assert.deepEqual(
      listed.entries.map((e) => [e.text, e.pinned]),
      [
        ['The staging database is reset every Tuesday.', true],
        [HOSTILE, false],
      ],
      'pinned first, the edit saved',
    );
    await checkPage(owner, 'agent-memory-pinned');

    const hostile = entries.filter({ hasText: 'release notes' });
    await hostile.getByRole('button', { name: 'Delete' }).click();
    await hostile.getByRole('button', { name: 'Delete entry' }).click();
    await until(
      () => entries.count(),
      (n) => n === 1,
      'one entry',
    );

    await owner.getByRole('button', { name: 'Delete all memory' }).click();
    await owner.getByRole('button', { name: 'Delete all', exact: true }).click();
    await owner.getByText(/Deleted 1 entry; \d+ audit payloads? erased\./).waitFor();
    await owner.getByText('notetaker remembers nothing yet.').waitFor();
  });

  test('the owner sets the retention policy on the Overview; an auditor reads it and cannot change it', async () => {
    await owner.goto(`${server.url}/orgs/${SLUG}`);
    const form = owner.getByRole('form', { name: 'Retention' });
    await form.getByLabel('Agents’ memory (days)').fill('90');
    await form.getByLabel('Run records (days)').fill('30');
    await form.getByRole('button', { name: 'Save retention' }).click();
    await owner.getByText('Retention saved.').waitFor();
    const org = (await (await owner.request.get(api())).json()) as { settings: Record<string, unknown> };
    assert.deepEqual(
      [org.settings.memoryRetentionDays, org.settings.runRetentionDays, org.settings.auditRetentionDays],
      [90, 30, null],
    );
    await checkPage(owner, 'overview-retention');

    const auditor = await newPage('auditor');
    await signInAs(auditor, AUDITOR);
    const facts = auditor.getByTestId('retention-facts');
    await facts.getByText('90 days').waitFor();
    await facts.getByText('Kept').first().waitFor();
    assert.equal(await auditor.getByRole('form', { name: 'Retention' }).count(), 0, 'no form for an auditor');
    await checkPage(auditor, 'overview-retention-auditor');
  });

  test('no console errors or page errors (CSP violations included)', () => {
    assert.deepEqual(problems, []);
  });
});
