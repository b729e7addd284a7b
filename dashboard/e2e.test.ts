/**
 * End-to-end test of the dashboard: a real Paddock server in this process, the built dashboard,
 * and real Chromium driven by playwright-core. Covers first-run setup, people, API tokens
 * (create, use, revoke), invitations (a second browser), sign-out and sign-in, the audit explorer
 * (filters, an entry's inclusion proof, exports), secrets (write-only values, rotation), the org's
 * cell (start and restart in a real bubblewrap sandbox, the egress allowlist), agents (versions
 * with diffs, the kill switch, agent tokens, read-only for members), connections (a stdio one
 * with a secret-backed variable, a remote HTTP one with a secret-backed header, stored tools,
 * deleted), grants (a constrained grant, its effective
 * permissions, revoked), the approvals inbox (a waiting call approved), the org-wide kill switch
 * (banner on and off), the demo from an empty Overview and its chat (streamed calls allowed,
 * refused and waiting, approved from the chat, the run page with its trail, the Runs page), a
 * model key's endpoint, a member chatting (their run completing live on an owner's open Runs
 * page once approved elsewhere) and an auditor with no input, removing a person (the
 * confirm step's preview, hand-over and token review, then every credential they held refused),
 * and fails on any console error or page error (CSP violations are reported there).
 *
 *   PATH=$PWD/node_modules/.bin:$PATH node --test dashboard/e2e.test.ts
 *
 * Each page shown is checked for accessibility (axe-core, light and dark) and photographed into
 * dashboard/screenshots/ (or E2E_SCREENSHOT_DIR): audit-explorer.png (the proof panel open), cell-page.png,
 * secrets-page.png, agent-page.png, agent-page-stopped.png, connections-page.png, connections-hostile.png,
 * agent-grants.png, approvals-page.png, agents-stopped.png, overview-demo.png, chat-waiting.png,
 * chat-completed.png, run-page.png, runs-page.png, secrets-endpoint.png, chat-member.png,
 * chat-auditor.png, chat-auditor-runs.png and people-removal.png there.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expireApprovals, requestApproval } from '../src/approvals/approvals.ts';
import { loadConfig } from '../src/config/index.ts';
import { toolDigest } from '../src/connections/index.ts';
import { DEMO_MESSAGE } from '../src/demo/index.ts';
import {
  addMembership,
  ensureUser,
  initOrg,
  issueSetupSecret,
  operatorCaller,
  trustedScope,
} from '../src/identity/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { policyVersion } from '../src/policy/engine.ts';
import { type RunningServer, startServer } from '../src/server/index.ts';
import { launchChromium } from '../src/testing/browser.ts';
import { untilRead as until } from '../src/testing/until.ts';
import { ensureDashboardBuilt } from './e2e-build.ts';
import { checkPage } from './e2e-check.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const ORG = { name: 'Acme Robotics', slug: 'acme-robotics' };
const OWNER = { name: 'Olive Owner', email: 'owner@example.com', password: 'owner-password-0001' };
const MEMBER = { name: 'Mia Member', email: 'member@example.com', password: 'member-password-0002' };
const AUDITOR = { name: 'Aldo Auditor', email: 'auditor@example.com', password: 'auditor-password-0003' };
/** A second org, made empty for the demo: the owner owns it, the member and an auditor belong. */
const DESK = { name: 'Demo Desk', slug: 'demo-desk' };

describe('dashboard end to end', { timeout: 300_000 }, () => {
  let home = '';
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let secret = '';
  let owner: Page;
  /** The invited member's page, signed in from the invitation test on. */
  let member: Page | undefined;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  /** Records console and page errors; `allow` names console errors this page expects. */
  function watch(page: Page, who: string, allow?: RegExp): Page {
    page.setDefaultTimeout(15_000);
    page.on('console', (msg) => {
      if (msg.type() !== 'error' || allow?.test(msg.text())) return;
      problems.push(`${who} console error: ${msg.text()} (${msg.location().url})`);
    });
    page.on('pageerror', (err) => problems.push(`${who} page error: ${err.message}`));
    return page;
  }

  async function newPage(who: string, allow?: RegExp): Promise<Page> {
    assert.ok(browser, 'the browser is running');
    const context = await browser.newContext();
    contexts.push(context);
    return watch(await context.newPage(), who, allow);
  }

  /** Checks the page's accessibility (light and dark) and saves its screenshots (e2e-check.ts). */
  async function shot(page: Page, name: string): Promise<void> {
    await checkPage(page, name);
  }

  function bearer(token: string): Promise<Response> {
    return fetch(`${server?.url}/api/v1/orgs/${ORG.slug}`, { headers: { authorization: `Bearer ${token}` } });
  }

  before(async () => {
    ensureDashboardBuilt();
    home = mkdtempSync(join(tmpdir(), 'paddock-e2e-'));
    server = await startServer(loadConfig({ home, port: 0 }), silentLogger);
    const s = await issueSetupSecret(server.deps.store.db);
    assert.ok(s, 'a fresh home needs first-run setup');
    secret = s;
    browser = await launchChromium();
    owner = await newPage('owner');
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await server?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test('first-run setup creates the organization and signs the owner in', async () => {
    await owner.goto(`${server?.url}/setup#${secret}`);
    await owner.getByLabel('Organization name').fill(ORG.name);
    await shot(owner, 'setup');
    assert.equal(await owner.getByLabel('Slug').inputValue(), ORG.slug, 'the slug follows the name');
    await owner.getByLabel('Your name').fill(OWNER.name);
    await owner.getByLabel('Email').fill(OWNER.email);
    await owner.getByLabel('Password').fill(OWNER.password);
    await owner.getByRole('button', { name: 'Create organization' }).click();
    await owner.waitForURL(`**/orgs/${ORG.slug}`);
    await owner.getByRole('heading', { level: 1, name: ORG.name }).waitFor();
    assert.equal(new URL(owner.url()).hash, '', 'the setup secret is gone from the address bar');
    assert.equal(await owner.getByLabel('Organization').inputValue(), ORG.slug);
    await owner.getByText(OWNER.email).first().waitFor();
    await shot(owner, 'overview-first-run');
  });

  test('the owner is listed in People with a role select', async () => {
    await owner.getByRole('link', { name: 'People' }).click();
    await owner.waitForURL(`**/orgs/${ORG.slug}/people`);
    const row = owner.getByRole('row').filter({ hasText: OWNER.email });
    await row.waitFor();
    assert.equal(await row.getByRole('combobox').inputValue(), 'owner');
    assert.equal(await owner.getByRole('form', { name: 'Invite a person' }).count(), 1);
    await shot(owner, 'people');
  });

  test('an API token is shown once, works as a bearer token, and stops working when revoked', async () => {
    await owner.getByRole('link', { name: 'Tokens' }).click();
    await owner.waitForURL(`**/orgs/${ORG.slug}/tokens`);
    await owner.getByLabel('Name').fill('ci-deploy');
    await owner.getByLabel('Role', { exact: true }).selectOption('admin');
    assert.equal(await owner.getByLabel('Expires in (days)').inputValue(), '90');
    await owner.getByRole('button', { name: 'Create token' }).click();
    const shown = owner.getByTestId('new-token');
    await shown.waitFor();
    const token = (await shown.textContent())?.trim() ?? '';
    assert.match(token, /^\S{20,}$/, 'the token value is displayed');
    await owner.getByText('Copy it now, it will not be shown again').waitFor();
    await shot(owner, 'tokens-created');

    const ok = await bearer(token);
    assert.equal(ok.status, 200, 'the new token reads the org');
    assert.equal(((await ok.json()) as { slug: string }).slug, ORG.slug);

    const row = owner.getByRole('row').filter({ hasText: 'ci-deploy' });
    await row.getByText('Active').waitFor();
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByRole('button', { name: 'Yes, revoke' }).click();
    await row.getByText('Revoked').waitFor();
    assert.equal(
      await row.getByRole('button', { name: 'Revoke' }).count(),
      0,
      'no Revoke on a revoked token',
    );

    const refused = await bearer(token);
    assert.equal(refused.status, 401, 'a revoked token is refused');
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'token_revoked');
  });

  test('an invited member joins through the link and sees People read-only', async () => {
    await owner.getByRole('link', { name: 'People' }).click();
    await owner.waitForURL(`**/orgs/${ORG.slug}/people`);
    const form = owner.getByRole('form', { name: 'Invite a person' });
    await form.getByLabel('Email').fill(MEMBER.email);
    await form.getByLabel('Role').selectOption('member');
    await form.getByRole('button', { name: 'Create invitation' }).click();
    const shown = owner.getByTestId('invitation-url');
    await shown.waitFor();
    const url = (await shown.textContent())?.trim() ?? '';
    assert.ok(url.startsWith(`${server?.url}/invite#`), `an invitation link to this server: ${url}`);
    await owner.getByText('shown only once', { exact: false }).waitFor();
    await owner.getByRole('row').filter({ hasText: MEMBER.email }).waitFor();

    member = await newPage('member');
    await member.goto(url);
    await member.getByRole('heading', { name: `Join ${ORG.name}` }).waitFor();
    assert.equal(await member.getByTestId('invite-email').textContent(), MEMBER.email);
    assert.equal(await member.getByTestId('invite-role').textContent(), 'Member');
    await shot(member, 'invite');
    await member.getByLabel('Your name').fill(MEMBER.name);
    await member.getByLabel('Password').fill(MEMBER.password);
    await member.getByRole('button', { name: 'Accept invitation' }).click();
    await member.waitForURL(`**/orgs/${ORG.slug}`);
    await member.getByText(MEMBER.email).first().waitFor();

    await member.getByRole('link', { name: 'People' }).click();
    await member.waitForURL(`**/orgs/${ORG.slug}/people`);
    await member.getByRole('cell', { name: OWNER.email }).waitFor();
    await member.getByRole('cell', { name: MEMBER.email }).waitFor();
    const main = member.getByRole('main');
    assert.equal(await main.getByRole('combobox').count(), 0, 'no role selects for a member');
    assert.equal(await main.getByRole('form', { name: 'Invite a person' }).count(), 0, 'no invite form');
    assert.equal(await main.getByRole('button', { name: 'Remove' }).count(), 0, 'no Remove buttons');
    assert.equal(await main.getByText('Open invitations').count(), 0, 'members do not see invitations');
    assert.equal(await member.getByRole('link', { name: 'Audit' }).count(), 0, 'no Audit link for a member');
    await shot(member, 'people-member');
    await member.getByRole('link', { name: 'Teams' }).click();
    await member.getByRole('heading', { level: 1, name: 'Teams' }).waitFor();
    await shot(member, 'teams-member');
  });

  test('the owner signs out and back in', async () => {
    await owner.getByRole('button', { name: 'Sign out' }).click();
    await owner.waitForURL('**/signin');
    await owner.getByRole('heading', { name: 'Sign in to Paddock' }).waitFor();
    await shot(owner, 'signin');
    const after = await owner.context().request.get(`${server?.url}/api/v1/session`);
    assert.equal(after.status(), 401, 'the session has ended');

    await owner.getByLabel('Email').fill(OWNER.email);
    await owner.getByLabel('Password').fill(OWNER.password);
    await owner.getByRole('button', { name: 'Sign in', exact: true }).click();
    await owner.waitForURL(`**/orgs/${ORG.slug}`);
    await owner.getByRole('heading', { level: 1, name: ORG.name }).waitFor();
    await owner.getByText(OWNER.email).first().waitFor();
  });

  test('a wrong password shows the server message in an alert', async () => {
    // The refused request logs "Failed to load resource: ... 401" on the console: expected here.
    const page = await newPage('stranger', /status of 401/);
    await page.goto(`${server?.url}/signin`);
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill('not-the-password-at-all');
    assert.ok(
      !(await page.content()).includes('not-the-password-at-all'),
      'a typed password is never in the page HTML',
    );
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /password/i, 'the alert carries the server message');
    assert.match(page.url(), /\/signin$/, 'still on the sign-in page');
  });

  test('the audit explorer filters, proves an entry and links verifiable exports', async () => {
    // Something to look for: a team made through the dashboard.
    await owner.getByRole('link', { name: 'Teams' }).click();
    await owner.waitForURL(`**/orgs/${ORG.slug}/teams`);
    await owner.getByLabel('Team name').fill('Platform');
    await owner.getByRole('button', { name: 'Create team' }).click();
    await owner.getByRole('region', { name: 'Team Platform' }).waitFor();

    await owner.getByRole('link', { name: 'Audit' }).click();
    await owner.waitForURL(`**/orgs/${ORG.slug}/audit`);
    const table = owner.getByRole('table', { name: 'Audit entries' });
    const actions = () => table.getByTestId('audit-action').allTextContents();
    const all = await until(actions, (a) => a.includes('team.created'), 'the new team is in the trail');
    assert.ok(
      all.some((a) => !a.startsWith('team.')),
      `other entries show before filtering: ${all.join(', ')}`,
    );
    // Newest first by default (the platform's own work, a compliance collection, may land after the team).
    const shownIndexes = (await table.locator('tbody tr td:first-child').allTextContents()).map(Number);
    assert.deepEqual(
      shownIndexes,
      [...shownIndexes].sort((a, b) => b - a),
      'newest first by default',
    );

    // A prefix filter: every row shown is a team action.
    const filters = owner.getByRole('form', { name: 'Filter audit entries' });
    await filters.getByLabel('Action', { exact: true }).fill('team.*');
    await filters.getByRole('button', { name: 'Apply' }).click();
    const teams = await until(
      actions,
      (a) => a.length > 0 && a.every((x) => x.startsWith('team.')),
      'only team.* rows after filtering',
    );
    assert.deepEqual(teams, ['team.created']);

    // Oldest first replays a sequence: the token from the earlier test was created, then revoked.
    await filters.getByLabel('Action', { exact: true }).fill('token.*');
    await filters.getByText('Oldest first', { exact: true }).click();
    assert.ok(await filters.getByLabel('Oldest first').isChecked(), 'the order toggle is a radio group');
    await filters.getByRole('button', { name: 'Apply' }).click();
    const tokens = await until(
      actions,
      (a) => a.length > 0 && a.every((x) => x.startsWith('token.')),
      'only token.* rows after filtering',
    );
    assert.deepEqual(tokens, ['token.created', 'token.revoked'], 'oldest first');
    const indexes = (await table.locator('tbody tr td:first-child').allTextContents()).map(Number);
    assert.ok(indexes[0]! < indexes[1]!, `indexes ascend oldest first: ${indexes.join(', ')}`);

    // Back to everything, then open the team entry by clicking its row.
    await filters.getByRole('button', { name: 'Clear' }).click();
    assert.equal(
      await filters.getByLabel('Action', { exact: true }).inputValue(),
      '',
      'Clear empties the form',
    );
    await until(actions, (a) => a.length >= all.length && a.includes('team.created'), 'every entry again');
    const row = table.getByRole('row').filter({ hasText: 'team.created' });
    const index = Number(await row.getByRole('cell').first().textContent());
    assert.ok(Number.isInteger(index) && index > 0, `the row shows the entry's index: ${index}`);
    await row.getByTestId('audit-action').click();
    const panel = owner.getByRole('dialog', { name: `Entry #${index}` });
    await panel.waitFor();
    const tlog = panel.getByRole('region', { name: 'C2SP tlog-proof' }).locator('pre');
    await tlog.waitFor();
    const tlogText = (await tlog.textContent()) ?? '';
    assert.ok(tlogText.startsWith('c2sp.org/tlog-proof@v1\n'), `a C2SP tlog-proof: ${tlogText}`);
    assert.match(tlogText, new RegExp(`^index ${index}$`, 'm'), 'the proof is for this entry');
    const checkpoint =
      (await panel.getByRole('region', { name: 'Signed checkpoint' }).locator('pre').textContent()) ?? '';
    const key = (await (
      await owner.request.get(`${server?.url}/api/v1/orgs/${ORG.slug}/audit/key`)
    ).json()) as { origin: string; verifierKey: string };
    const [origin, size] = checkpoint.split('\n');
    assert.equal(origin, key.origin, 'the checkpoint names this log');
    assert.ok(Number(size) > index, `the checkpoint (tree size ${size}) covers entry ${index}`);
    assert.match(checkpoint, /\n\n\u2014 \S+ \S+\n$/, 'the checkpoint carries its signature line');
    assert.ok(tlogText.endsWith(checkpoint), 'the tlog-proof ends with the same signed checkpoint');
    assert.equal(await panel.getByTestId('tree-size').textContent(), size);
    await panel.getByText(key.verifierKey, { exact: true }).waitFor();
    await panel.getByText('paddock audit verify --export', { exact: false }).waitFor();
    await panel.getByRole('button', { name: 'Copy tlog-proof' }).waitFor();
    const leafHash = (await panel.getByTestId('leaf-hash').textContent()) ?? '';
    await panel.getByRole('button', { name: 'Close' }).click();
    await panel.waitFor({ state: 'hidden' });

    // Downloads are plain links to the export; the session cookie is all they need.
    const jsonl = owner.getByRole('link', { name: 'Download JSONL' });
    const href = (await jsonl.getAttribute('href')) ?? '';
    assert.ok(href.includes('/audit/export?format=jsonl'), `the JSONL link: ${href}`);
    for (const [name, format] of [
      ['CSV', 'csv'],
      ['OCSF', 'ocsf'],
      ['proof file', 'proof'],
    ]) {
      const other = await owner.getByRole('link', { name: `Download ${name}` }).getAttribute('href');
      assert.ok(other?.includes(`/audit/export?format=${format}`), `the ${name} link: ${other}`);
    }
    const res = await owner.request.get(new URL(href, owner.url()).href);
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-disposition'] ?? '', /^attachment;/, 'a file download');
    // The verify command shown names the file as downloaded, so it can be pasted as it is.
    const file = /filename="?([^";]+)/.exec(res.headers()['content-disposition'] ?? '')?.[1] ?? '';
    assert.match(file, /^paddock-audit-.+-0-\d+\.jsonl$/);
    await owner.getByText(`paddock audit verify --export ${file} --key`, { exact: false }).waitFor();
    const text = await res.text();
    assert.ok(text.endsWith('\n'), 'JSON lines end with a newline');
    const lines = text
      .slice(0, -1)
      .split('\n')
      .map((l) => JSON.parse(l) as { index: unknown; leafHash: unknown });
    assert.ok(lines.length > index, `the export holds every entry so far (${lines.length})`);
    for (const [i, line] of lines.entries()) {
      assert.equal(line.index, i, 'one line per entry, in index order');
      assert.match(String(line.leafHash), /^[A-Za-z0-9+/]{43}=$/, 'each line has its leaf hash');
    }
    assert.equal(lines[index]?.leafHash, leafHash, 'the export has the leaf hash the panel showed');

    // The applied From/To go into the download links.
    await filters.getByLabel('To', { exact: true }).fill('2099-12-31T23:59');
    await filters.getByRole('button', { name: 'Apply' }).click();
    const to = await owner.evaluate(() => new Date('2099-12-31T23:59').toISOString());
    const windowed = await until(
      async () => (await jsonl.getAttribute('href')) ?? '',
      (h) => h.includes('to='),
      'the JSONL link takes the applied To',
    );
    assert.equal(new URL(windowed, owner.url()).searchParams.get('to'), to);
    await filters.getByRole('button', { name: 'Clear' }).click();
    await owner.setViewportSize({ width: 1440, height: 900 });
    await table.getByRole('button', { name: `Proof of entry #${index}` }).click();
    await panel.getByRole('region', { name: 'C2SP tlog-proof' }).waitFor();
    await checkPage(owner, 'audit-explorer');
    await owner.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });

    // A member sees no Audit link, cannot open the page, and the API refuses them.
    assert.ok(member, 'the member from the invitation test is still signed in');
    await member.goto(`${server?.url}/orgs/${ORG.slug}/people`);
    await member.getByRole('link', { name: 'People' }).waitFor();
    assert.equal(await member.getByRole('link', { name: 'Audit' }).count(), 0, 'no Audit link for a member');
    await member.goto(`${server?.url}/orgs/${ORG.slug}/audit`);
    await member.getByRole('alert').filter({ hasText: 'cannot open Audit' }).waitFor();
    assert.equal(await member.getByRole('table', { name: 'Audit entries' }).count(), 0);
    const refused = await member.request.get(`${server?.url}/api/v1/orgs/${ORG.slug}/audit`);
    assert.equal(refused.status(), 403, 'members may not read the audit trail');
  });

  test('secrets stay write-only; the cell starts and restarts; the egress allowlist persists', async () => {
    const CANARY = 'sk-e2e-canary-1234567890abcdef';
    const ROTATED = 'sk-e2e-canary-rotated-0987654321wxyz';
    const api = `${server?.url}/api/v1/orgs/${ORG.slug}`;
    const leaks = (text: string) => [CANARY, ROTATED].filter((v) => text.includes(v));

    // Add a model key: listed with its hint, the value input emptied, the value nowhere in the page.
    await owner.getByRole('link', { name: 'Secrets' }).click();
    await owner.waitForURL(`**/orgs/${ORG.slug}/secrets`);
    await owner.getByText('Values are write-only', { exact: false }).first().waitFor();
    const form = owner.getByRole('form', { name: 'Add a secret' });
    await form.getByLabel('Name').fill('openai-prod');
    await form.getByLabel('Kind').selectOption('model_key');
    await form.getByLabel('Provider').selectOption('openai');
    const value = form.getByLabel('Value');
    assert.equal(await value.getAttribute('type'), 'password', 'the value is a password input');
    await value.fill(CANARY);
    await form.getByRole('button', { name: 'Add secret' }).click();
    const row = owner.getByTestId('secret-row').filter({ hasText: 'openai-prod' });
    await row.waitFor();
    assert.equal(await row.getByTestId('secret-hint').textContent(), '…cdef');
    assert.equal(await row.getByTestId('secret-version').textContent(), '1');
    await row.getByText('Model key', { exact: true }).waitFor();
    await row.getByText('openai', { exact: true }).waitFor();
    await row.getByText('All agents', { exact: true }).waitFor();
    await row.getByText(`by ${OWNER.name}`).waitFor();
    await owner.getByText('Its value will not be shown again', { exact: false }).waitFor();
    assert.equal(await value.inputValue(), '', 'the value input is cleared after saving');
    assert.deepEqual(leaks(await owner.content()), [], 'the value is nowhere in the page HTML');
    const listed = await owner.request.get(`${api}/secrets`);
    assert.equal(listed.status(), 200);
    assert.deepEqual(leaks(await listed.text()), [], 'the API does not return the value');

    // Rotate it: version 2, the new hint, the new value nowhere in the page either.
    await row.getByRole('button', { name: 'Rotate openai-prod' }).click();
    const rotate = owner.getByRole('form', { name: 'Rotate openai-prod' });
    const newValue = rotate.getByLabel('New value for openai-prod');
    assert.equal(await newValue.getAttribute('type'), 'password');
    await newValue.fill(ROTATED);
    await rotate.getByRole('button', { name: 'Rotate', exact: true }).click();
    await until(
      () => row.getByTestId('secret-version').textContent(),
      (v) => v === '2',
      'version 2 after rotating',
    );
    assert.equal(await row.getByTestId('secret-hint').textContent(), '…wxyz');
    await rotate.waitFor({ state: 'hidden' });
    await row.getByText(`by ${OWNER.name}`).nth(1).waitFor();
    assert.deepEqual(leaks(await owner.content()), [], 'neither value is in the page HTML after rotating');
    const trail = await owner.request.get(`${api}/audit/export?format=jsonl`);
    assert.equal(trail.status(), 200);
    const trailText = await trail.text();
    for (const action of ['secret.created', 'secret.rotated'])
      assert.ok(trailText.includes(`"action":"${action}"`), `the trail records ${action}`);
    assert.deepEqual(leaks(trailText), [], 'the audit trail does not carry the value');

    // The cell: start it, see it ready in bubblewrap, restart it (with a confirm step).
    await owner.getByRole('link', { name: 'Cell', exact: true }).click();
    await owner.waitForURL(`**/orgs/${ORG.slug}/cell`);
    const state = owner.getByTestId('cell-state');
    await state.waitFor();
    assert.ok(
      ['Not started', 'Stopped'].includes((await state.textContent()) ?? ''),
      `not running before Start: ${await state.textContent()}`,
    );
    const start = owner.getByRole('button', { name: 'Start', exact: true });
    const restart = owner.getByRole('button', { name: 'Restart', exact: true });
    assert.equal(await restart.isDisabled(), true, 'nothing to restart yet');
    await start.click();
    await until(
      () => state.textContent(),
      (s) => s === 'Ready',
      'the cell becomes ready',
    );
    assert.equal(await owner.getByTestId('cell-sandbox').textContent(), 'bubblewrap');
    // What the sandbox enforces is shown as evidence (seccomp and cgroup limits where the host allows).
    assert.match((await owner.getByTestId('cell-guarantees').textContent()) ?? '', /seccomp filter: EPERM/);
    const pid = (await owner.getByTestId('cell-pid').textContent()) ?? '';
    assert.match(pid, /^\d+$/, 'a running cell has a process id');
    assert.equal(await start.isDisabled(), true, 'Start is off while the cell runs');
    const memory = await until(
      () => owner.getByTestId('cell-memory').textContent(),
      (m) => /^\d+\.\d MB$/.test(m ?? ''),
      'the memory from a heartbeat',
    );
    assert.ok(Number.parseFloat(memory ?? '') > 0, `memory in MB: ${memory}`);
    await until(
      () => owner.getByTestId('cell-heartbeat').textContent(),
      (h) => /^\d+ s ago$/.test(h ?? ''),
      'a recent heartbeat',
    );
    assert.match((await owner.getByTestId('cell-uptime').textContent()) ?? '', /^\d+ s since /);
    const restartsBefore = Number(await owner.getByTestId('cell-restarts').textContent());
    const history = owner.getByRole('table', { name: 'Cell health history' });
    await history.getByRole('row').filter({ hasText: 'sandbox bubblewrap' }).first().waitFor();
    await history.getByRole('row').filter({ hasText: 'Ready' }).first().waitFor();

    await restart.click();
    await owner.getByText('Restart the cell?').waitFor();
    await owner.getByRole('button', { name: 'Yes, restart' }).click();
    await until(
      async () => [await state.textContent(), await owner.getByTestId('cell-pid').textContent()],
      ([s, p]) => s === 'Ready' && p !== pid && /^\d+$/.test(p ?? ''),
      'ready again in a new process',
    );
    const restartsAfter = Number(await owner.getByTestId('cell-restarts').textContent());
    assert.equal(restartsAfter, restartsBefore, 'an asked-for restart is not counted as an automatic one');
    const cell = (await (await owner.request.get(`${api}/cell`)).json()) as {
      cell: { state: string; restarts: number; pid: number; sandbox: string };
    };
    assert.equal(cell.cell.state, 'ready');
    assert.equal(cell.cell.restarts, restartsAfter, 'the page shows what the API says');
    assert.equal(String(cell.cell.pid), await owner.getByTestId('cell-pid').textContent());
    await history.getByRole('row').filter({ hasText: 'restart asked by person' }).first().waitFor();

    // The egress allowlist: a public API and a local model server, saved and there after a reload.
    const add = owner.getByRole('form', { name: 'Add an egress entry' });
    await add.getByLabel('Host').fill('api.openai.com');
    await add.getByLabel('Port').fill('443');
    await add.getByRole('button', { name: 'Add entry' }).click();
    await add.getByLabel('Host').fill('localhost:11434');
    await add.getByLabel('Allow private addresses').check();
    await add.getByRole('button', { name: 'Add entry' }).click();
    const allowlist = owner.getByRole('table', { name: 'Egress allowlist' });
    const entries = () => allowlist.locator('tbody code').allTextContents();
    const both = (e: string[]) => e.join(' ') === 'api.openai.com:443 localhost:11434';
    await until(entries, both, 'both entries listed');
    await owner.getByText('Unsaved changes.').waitFor();
    await owner.getByRole('button', { name: 'Save allowlist' }).click();
    await owner.getByText('Egress allowlist saved', { exact: false }).waitFor();
    await owner.setViewportSize({ width: 1440, height: 1400 });
    await owner.evaluate(() => window.scrollTo(0, 0));
    await checkPage(owner, 'cell-page');
    await owner.reload();
    await allowlist.waitFor();
    await until(entries, both, 'both entries listed after a reload');
    assert.equal(await owner.getByText('Unsaved changes.').count(), 0, 'nothing left unsaved');
    assert.equal(
      await allowlist
        .getByRole('checkbox', { name: 'Allow private addresses for api.openai.com:443' })
        .isChecked(),
      false,
    );
    assert.equal(
      await allowlist
        .getByRole('checkbox', { name: 'Allow private addresses for localhost:11434' })
        .isChecked(),
      true,
    );
    const org = (await (await owner.request.get(api)).json()) as {
      settings: { egressAllowlist: unknown };
    };
    assert.deepEqual(org.settings.egressAllowlist, [
      { host: 'api.openai.com', port: 443 },
      { host: 'localhost', port: 11434, allowPrivate: true },
    ]);
    await owner.getByRole('link', { name: 'Secrets' }).click();
    await owner.getByTestId('secret-row').first().waitFor();
    await checkPage(owner, 'secrets-page');
    await owner.setViewportSize({ width: 1280, height: 720 });

    // A member sees neither page in the sidebar, and the API refuses them.
    assert.ok(member, 'the member from the invitation test is still signed in');
    await member.goto(`${server?.url}/orgs/${ORG.slug}`);
    await member.getByRole('link', { name: 'People' }).waitFor();
    assert.equal(await member.getByRole('link', { name: 'Secrets' }).count(), 0, 'no Secrets link');
    assert.equal(await member.getByRole('link', { name: 'Cell', exact: true }).count(), 0, 'no Cell link');
    await member.goto(`${server?.url}/orgs/${ORG.slug}/secrets`);
    await member.getByRole('alert').filter({ hasText: 'cannot open Secrets' }).waitFor();
    const memberRequests = member.request;
    for (const path of ['secrets', 'cell', 'cell/history']) {
      const refused = await memberRequests.get(`${api}/${path}`);
      assert.equal(refused.status(), 403, `members may not read ${path}`);
    }
  });

  test('agents: create, edit with a versioned diff, the kill switch, agent tokens; members read only', async () => {
    const api = `${server?.url}/api/v1/orgs/${ORG.slug}`;
    const INSTRUCTIONS = 'Label each ticket by product area.';
    const CHANGED = 'Label each ticket by product area, and escalate outages to on-call.';
    const readAgent = async (id: string) =>
      (await (await owner.request.get(`${api}/agents/${id}`)).json()) as {
        state: string;
        version: number;
        instructions: string;
        scope: string;
        model: { provider: string; model: string; secretId?: string };
        outputSchema: unknown;
      };

    // The New agent form: the team select follows the scope; a broken output schema is refused here.
    await owner.getByRole('link', { name: 'Agents' }).click();
    await owner.waitForURL(`**/orgs/${ORG.slug}/agents`);
    await owner.getByText('No agents yet.', { exact: false }).waitFor();
    await owner.getByRole('button', { name: 'New agent' }).click();
    const form = owner.getByRole('form', { name: 'New agent' });
    await form.getByLabel('Name').fill('support-triage');
    await form.getByLabel('Description').fill('Sorts incoming support mail');
    const scope = form.getByLabel('Scope');
    assert.equal(await scope.inputValue(), 'private', 'new agents start private');
    assert.equal(await form.getByLabel('Team').count(), 0, 'no team select for a private agent');
    await scope.selectOption('team');
    await form.getByLabel('Team').locator('option', { hasText: 'Platform' }).waitFor({ state: 'attached' });
    await scope.selectOption('organization');
    assert.equal(await form.getByLabel('Team').count(), 0, 'the team select goes with the team scope');
    await form.getByLabel('Instructions').fill(INSTRUCTIONS);
    await form.getByLabel('Provider').fill('anthropic');
    await form.getByLabel('Model', { exact: true }).fill('claude-sonnet-4-5');
    const key = form.getByLabel('Model key');
    const keyId = await key.locator('option', { hasText: 'openai-prod' }).getAttribute('value');
    assert.match(keyId ?? '', /^[a-z]+_[0-9a-z]+$/, 'the model key from Secrets is offered');
    await key.selectOption(keyId ?? '');
    const schema = form.getByLabel('Output schema (optional)');
    await schema.fill('{"type": "object",}');
    await form.getByRole('button', { name: 'Create agent' }).click();
    await form.getByRole('alert').filter({ hasText: 'The output schema is not valid JSON' }).waitFor();
    assert.equal(await schema.getAttribute('aria-invalid'), 'true');
    const none = (await (await owner.request.get(`${api}/agents`)).json()) as { agents: unknown[] };
    assert.deepEqual(none.agents, [], 'nothing is created from a form with a broken schema');
    await schema.fill('{"type": "object", "properties": {"label": {"type": "string"}}}');
    await form.getByRole('button', { name: 'Create agent' }).click();

    // The new agent's page.
    await owner.waitForURL(/\/agents\/agt_[0-9a-z]+$/);
    const id = new URL(owner.url()).pathname.split('/').pop() ?? '';
    await owner.getByRole('heading', { level: 1, name: 'support-triage' }).waitFor();
    const state = owner.getByTestId('agent-state');
    const version = owner.getByTestId('agent-current-version');
    assert.equal(await state.textContent(), 'Active');
    assert.equal(await version.textContent(), 'Version 1');
    assert.equal(await owner.getByTestId('agent-model').textContent(), 'anthropic/claude-sonnet-4-5');
    const made = await readAgent(id);
    assert.equal(made.scope, 'organization');
    assert.equal(made.model.secretId, keyId, 'the chosen model key is stored');
    assert.deepEqual(made.outputSchema, { type: 'object', properties: { label: { type: 'string' } } });

    // Edit the instructions: version 2, whose diff against version 1 is the instructions alone.
    await owner.getByRole('button', { name: 'Edit support-triage' }).click();
    const edit = owner.getByRole('form', { name: 'Edit support-triage' });
    assert.equal(await edit.getByLabel('Instructions').inputValue(), INSTRUCTIONS, 'the form is prefilled');
    assert.equal(await edit.getByLabel('Scope').inputValue(), 'organization');
    await edit.getByLabel('Instructions').fill(CHANGED);
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await until(
      () => version.textContent(),
      (v) => v === 'Version 2',
      'version 2 after the edit',
    );
    await owner.getByText('Saved as version 2.').waitFor();
    // The agent and its versions are read again after the save, each on its own: wait for both.
    await until(
      () => owner.getByTestId('agent-instructions').textContent(),
      (t) => t === CHANGED,
      'the new instructions shown',
    );
    const entries = owner.getByTestId('agent-version-entry');
    await until(
      () => entries.count(),
      (n) => n === 2,
      'two versions listed',
    );
    const v2 = entries.filter({ has: owner.getByRole('heading', { name: 'Version 2' }) });
    const diff = v2.getByRole('table', { name: 'Changes in version 2' });
    const rows = diff.getByTestId('diff-row');
    assert.deepEqual(
      await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-field'))),
      ['instructions'],
      'only the instructions changed',
    );
    assert.equal(await rows.locator('th').textContent(), 'Instructions');
    assert.equal(await rows.locator('td.diff-before').textContent(), `Before: ${INSTRUCTIONS}`);
    assert.equal(await rows.locator('td.diff-after').textContent(), `After: ${CHANGED}`);
    const v1 = entries.filter({ has: owner.getByRole('heading', { name: 'Version 1' }) });
    await v1.getByText('Created.').waitFor();
    assert.equal(await v1.getByTestId('diff-row').count(), 0, 'version 1 has nothing to compare with');
    assert.equal((await readAgent(id)).instructions, CHANGED);

    // The kill switch asks first, then stops the agent; Resume brings it back.
    await owner.getByRole('button', { name: 'Stop agent', exact: true }).click();
    await owner.getByText('Stop support-triage now?').waitFor();
    assert.equal((await readAgent(id)).state, 'active', 'nothing stops before the confirm');
    await owner.getByRole('button', { name: 'Yes, stop agent' }).click();
    await until(
      () => state.textContent(),
      (s) => s === 'Stopped',
      'the agent shows stopped',
    );
    await owner.getByRole('heading', { name: 'This agent is stopped' }).waitFor();
    assert.equal((await readAgent(id)).state, 'stopped', 'the API agrees');
    assert.equal(await owner.getByRole('button', { name: 'Stop agent', exact: true }).count(), 0);
    await owner.evaluate(() => window.scrollTo(0, 0));
    await checkPage(owner, 'agent-page-stopped');
    await owner.getByRole('button', { name: 'Resume agent' }).click();
    await until(
      () => state.textContent(),
      (s) => s === 'Active',
      'the agent is active again',
    );
    assert.equal((await readAgent(id)).state, 'active');
    await owner.getByRole('button', { name: 'Stop agent', exact: true }).waitFor();

    // An agent token: shown once, listed, revoked after a confirm.
    const tokenForm = owner.getByRole('form', { name: 'Create an agent token' });
    await tokenForm.getByLabel('Token name').fill('claude-code-laptop');
    await tokenForm.getByLabel('Expires in (days)').fill('30');
    await tokenForm.getByRole('button', { name: 'Create token' }).click();
    const shown = owner.getByTestId('new-agent-token');
    await shown.waitFor();
    const token = (await shown.textContent())?.trim() ?? '';
    assert.match(token, /^pda_\S{20,}$/, 'an agent token is displayed');
    await owner.getByText('it is shown once', { exact: false }).waitFor();
    await owner.getByRole('button', { name: 'Copy agent token' }).waitFor();
    const tokenRow = owner.getByTestId('agent-token-row').filter({ hasText: 'claude-code-laptop' });
    await tokenRow.getByText('Active').waitFor();
    await owner.evaluate(() => window.scrollTo(0, 0));
    await checkPage(owner, 'agent-page');
    await tokenRow.getByRole('button', { name: 'Revoke' }).click();
    await tokenRow.getByRole('button', { name: 'Yes, revoke' }).click();
    await tokenRow.getByText('Revoked').waitFor();
    const listed = (await (await owner.request.get(`${api}/agents/${id}/tokens`)).json()) as {
      tokens: { name: string; revokedAt: string | null }[];
    };
    assert.equal(listed.tokens.length, 1);
    assert.ok(listed.tokens[0]?.revokedAt, 'the API has the token revoked');
    assert.ok(!JSON.stringify(listed).includes(token), 'the token value is never listed');

    // The list shows it; a member sees the organization's agent, read-only.
    await owner.getByRole('link', { name: 'All agents' }).click();
    const listRow = owner.getByTestId('agent-row').filter({ hasText: 'support-triage' });
    assert.equal(await listRow.getByTestId('agent-state').textContent(), 'Active');
    assert.equal(await listRow.getByTestId('agent-version').textContent(), '2');
    await listRow.getByText('anthropic/claude-sonnet-4-5').waitFor();

    assert.ok(member, 'the member from the invitation test is still signed in');
    await member.goto(`${server?.url}/orgs/${ORG.slug}`);
    await member.getByRole('link', { name: 'Agents' }).click();
    await member.waitForURL(`**/orgs/${ORG.slug}/agents`);
    const memberRow = member.getByTestId('agent-row').filter({ hasText: 'support-triage' });
    await memberRow.getByRole('link', { name: 'support-triage' }).click();
    await member.waitForURL(`**/agents/${id}`);
    await member.getByRole('heading', { level: 1, name: 'support-triage' }).waitFor();
    await member.getByText('Read-only:', { exact: false }).waitFor();
    await member.getByTestId('agent-token-row').filter({ hasText: 'claude-code-laptop' }).waitFor();
    await member.getByRole('table', { name: 'Changes in version 2' }).waitFor();
    const main = member.getByRole('main');
    for (const name of [/^Edit/, /Stop agent/, /Resume agent/, /Delete agent/, /Revoke/, /Create token/]) {
      assert.equal(await main.getByRole('button', { name }).count(), 0, `no ${name} button for a member`);
    }
    assert.equal(await main.getByRole('form').count(), 0, 'no forms for a member');
    const session = (await (await member.request.get(`${server?.url}/api/v1/session`)).json()) as {
      csrfToken: string;
    };
    const refused = await member.request.patch(`${api}/agents/${id}`, {
      headers: { 'x-csrf-token': session.csrfToken },
      data: { instructions: 'member was here' },
    });
    assert.equal(refused.status(), 403, 'the API refuses the member too');
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'not_your_agent');
  });

  test('connections, grants with effective permissions, the approvals inbox, the org-wide kill switch', async () => {
    const api = `${server?.url}/api/v1/orgs/${ORG.slug}`;
    const db = server?.deps.store.db;
    const shot = async (name: string) => {
      await owner.evaluate(() => window.scrollTo(0, 0));
      await checkPage(owner, name);
    };
    assert.ok(db, 'the server is running');
    const orgInfo = (await (await owner.request.get(api)).json()) as { id: string };
    const { agents } = (await (await owner.request.get(`${api}/agents`)).json()) as {
      agents: { id: string; name: string }[];
    };
    const agent = agents.find((a) => a.name === 'support-triage');
    assert.ok(agent, 'the agent from the agents test');

    // Add a connection with an environment variable from a vault secret.
    await owner.getByRole('link', { name: 'Connections' }).click();
    await owner.waitForURL(`**/orgs/${ORG.slug}/connections`);
    await owner.getByRole('heading', { level: 1, name: 'Connections' }).waitFor();
    await owner.getByText('No connections yet.', { exact: false }).waitFor();
    const form = owner.getByRole('form', { name: 'Add a connection' });
    await form.getByLabel('Name').fill('Files');
    await form.getByLabel('Command').fill('node');
    await form.getByLabel('Arguments').fill('/opt/mcp/files.js\n--root=/srv/data');
    await form.getByRole('button', { name: 'Add variable' }).click();
    await form.getByLabel('Variable 1', { exact: true }).fill('FILES_TOKEN');
    const secretSelect = form.getByLabel('Secret for variable 1');
    const secretId = await secretSelect.locator('option', { hasText: 'openai-prod' }).getAttribute('value');
    await secretSelect.selectOption(secretId ?? '');
    await form.getByRole('button', { name: 'Add connection' }).click();
    const row = owner.getByTestId('connection-row').filter({ hasText: 'Files' });
    await row.waitFor();
    await row.getByText('node /opt/mcp/files.js --root=/srv/data').waitFor();
    await row.getByText('secret openai-prod', { exact: false }).waitFor();
    const { connections } = (await (await owner.request.get(`${api}/connections`)).json()) as {
      connections: { id: string; env: Record<string, string> }[];
    };
    assert.equal(connections.length, 1);
    const connection = connections[0]!;
    assert.deepEqual(connection.env, { FILES_TOKEN: secretId }, 'the variable maps to the secret id');

    // A remote MCP server over HTTP, an Authorization header from the same secret. Its host:port is
    // not on the egress allowlist, and the form says so (its tools are not listed: nothing listens).
    await form.getByText('Remote (HTTP)', { exact: true }).click();
    assert.ok(await form.getByLabel('Remote (HTTP)').isChecked(), 'the transport is a radio group');
    assert.equal(await form.getByLabel('Command').count(), 0, 'no command for a remote server');
    await form.getByLabel('Name').fill('Wiki');
    await form.getByLabel('URL').fill('https://mcp.example.com/mcp');
    const egressNote = form.getByTestId('egress-note');
    await egressNote.getByText('mcp.example.com:443 is not on it yet').waitFor();
    await egressNote.getByRole('link', { name: 'Cell' }).waitFor();
    await form.getByLabel('URL').fill('https://api.openai.com/mcp');
    await egressNote.getByText('api.openai.com:443 is on it.').waitFor();
    await form.getByLabel('URL').fill('https://mcp.example.com/mcp');
    await form.getByRole('button', { name: 'Add header' }).click();
    await form.getByLabel('Header 1', { exact: true }).fill('Authorization');
    await form.getByLabel('Secret for header 1').selectOption(secretId ?? '');
    await form.getByRole('button', { name: 'Add connection' }).click();
    const remote = owner.getByTestId('connection-row').filter({ hasText: 'Wiki' });
    await remote.waitFor();
    assert.equal(await remote.getByTestId('connection-transport').textContent(), 'Remote (HTTP)');
    assert.equal(await remote.getByTestId('connection-url').textContent(), 'https://mcp.example.com/mcp');
    assert.equal(
      await remote.getByTestId('connection-header').textContent(),
      'header Authorization ← secret openai-prod',
      'the header by name and its secret by name, never a value',
    );
    assert.equal(await row.getByTestId('connection-transport').textContent(), 'Local (stdio)');
    const both = (await (await owner.request.get(`${api}/connections`)).json()) as {
      connections: {
        name: string;
        transport: string;
        command: string | null;
        url: string | null;
        env: Record<string, string>;
        headers: Record<string, string>;
      }[];
    };
    assert.deepEqual(
      both.connections.map((c) => c.name),
      ['Files', 'Wiki'],
    );
    const wiki = both.connections[1]!;
    assert.equal(wiki.transport, 'http');
    assert.equal(wiki.url, 'https://mcp.example.com/mcp');
    assert.equal(wiki.command, null);
    assert.deepEqual(wiki.headers, { Authorization: secretId }, 'the header maps to the secret id');
    assert.deepEqual(wiki.env, {});

    // Its stored tools (seeded here: listing them for real needs an MCP server in the sandbox).
    const tool = {
      name: 'read_file',
      description: 'Reads a file under the root',
      inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
    };
    const digest = toolDigest(tool);
    await db
      .insertInto('connection_tools')
      .values({
        org_id: orgInfo.id,
        connection_id: connection.id,
        name: tool.name,
        description: tool.description,
        input_schema: JSON.stringify(tool.inputSchema),
        digest,
        seen_at: new Date().toISOString(),
      })
      .execute();
    await row.getByRole('button', { name: 'Show tools of Files' }).click();
    const toolRow = owner.getByTestId('tool-row').filter({ hasText: 'read_file' });
    await toolRow.getByText('Reads a file under the root').waitFor();
    assert.equal(await toolRow.locator('code.digest').textContent(), `${digest.slice(0, 12)}…`);
    assert.equal(await toolRow.locator('code.digest').getAttribute('title'), digest, 'the whole digest');
    await shot('connections-page.png');

    // A compromised server, listed for real in the sandbox: tools whose name holds its secret are
    // refused, and a secret scoped to one agent reaches it only when listed on that agent's behalf.
    const { csrfToken } = (await (await owner.request.get(`${server?.url}/api/v1/session`)).json()) as {
      csrfToken: string;
    };
    const headers = { 'x-csrf-token': csrfToken };
    const scoped = await owner.request.post(`${api}/secrets`, {
      headers,
      data: {
        name: 'hostile-key',
        kind: 'connector_credential',
        value: 'hostile-e2e-5c1d9a7b3e',
        agentIds: [agent.id],
      },
    });
    assert.equal(scoped.status(), 201);
    const hostileMade = await owner.request.post(`${api}/connections`, {
      headers,
      data: {
        name: 'hostile',
        transport: 'stdio',
        command: 'node',
        args: [join(ROOT, 'src/testing/hostile-mcp-server.ts')],
        env: { HOSTILE_SECRET: ((await scoped.json()) as { id: string }).id },
      },
    });
    assert.equal(hostileMade.status(), 201);
    await owner.reload();
    const hostileRow = owner.getByTestId('connection-row').filter({ hasText: 'hostile' });
    await hostileRow.getByRole('button', { name: 'List tools of hostile' }).click();
    const whoami = owner.getByTestId('tool-row').filter({ hasText: 'whoami' });
    await whoami.getByText('HOSTILE_SECRET is not set').waitFor();
    const listAs = owner.getByTestId('list-as-agent');
    assert.equal(
      await listAs.getByLabel('Agent to list as').locator('option').textContent(),
      'support-triage',
    );
    await listAs.getByRole('button', { name: 'List as this agent' }).click();
    await owner.getByTestId('tools-refused').getByText('4 tools were refused', { exact: false }).waitFor();
    await whoami.getByText('HOSTILE_SECRET is set').waitFor();
    assert.ok(!(await owner.content()).includes('hostile-e2e-5c1d9a7b3e'), 'the secret is on no page');
    await shot('connections-hostile.png');
    const hostileId = ((await hostileMade.json()) as { id: string }).id;
    assert.equal((await owner.request.delete(`${api}/connections/${hostileId}`, { headers })).status(), 204);
    await owner.reload();

    // A grant of that tool, constrained and needing approval; then what it adds up to; then revoked.
    await owner.getByRole('link', { name: 'Agents' }).click();
    await owner.getByTestId('agent-row').getByRole('link', { name: 'support-triage' }).click();
    await owner.waitForURL(`**/agents/${agent.id}`);
    await owner.getByText('No grants: support-triage may call no tool.').waitFor();
    await owner.getByText('Every tool not listed here is denied', { exact: false }).waitFor();
    // Grants suggested from the agent's calls on record: its denied call becomes a proposal (rejected here).
    const tried = await owner.request.post(`${api}/agents/${agent.id}/calls`, {
      headers,
      data: { connectionId: connection.id, tool: 'read_file', args: { path: '/srv/data/report.csv' } },
    });
    assert.equal(tried.status(), 403, 'no grant yet');
    await owner.getByRole('button', { name: 'Suggest from recent calls' }).click();
    const suggestion = owner.getByTestId('suggestion-row').filter({ hasText: 'read_file' });
    await suggestion.getByText('path is one of "/srv/data/report.csv"').waitFor();
    // Made from a call the gate refused, and it says so: such calls are what injected instructions make.
    await suggestion.getByText('Refused by the gate', { exact: false }).waitFor();
    await shot('agent-grant-suggestions.png');
    await suggestion.getByRole('button', { name: 'Reject' }).click();
    assert.equal(await owner.getByTestId('suggestion-row').count(), 0, 'rejected: gone, nothing granted');
    await owner.getByText('No grants: support-triage may call no tool.').waitFor();
    const grantForm = owner.getByRole('form', { name: 'Add a grant' });
    assert.equal(await grantForm.getByLabel('Connection').inputValue(), connection.id);
    await grantForm.getByLabel('Tool', { exact: true }).selectOption('read_file');
    await grantForm.getByRole('button', { name: 'Add constraint' }).click();
    assert.equal(await grantForm.getByLabel('Argument 1').inputValue(), 'path', 'from the inputSchema');
    assert.equal(await grantForm.getByLabel('Check 1').inputValue(), 'prefix');
    await grantForm.getByLabel('Value 1').fill('/srv/data/');
    await grantForm.getByLabel('Requires approval').check();
    await grantForm.getByRole('button', { name: 'Add grant' }).click();
    const grantRow = owner.getByTestId('grant-row').filter({ hasText: 'read_file' });
    await grantRow.getByText('path starts with "/srv/data/"').waitFor();
    await grantRow.getByText('with a person’s approval').waitFor();
    assert.equal(await grantRow.getByTestId('grant-status').textContent(), 'Active');
    const permission = owner.getByTestId('permission-row').filter({ hasText: 'read_file' });
    await permission.getByText('Conditional', { exact: true }).waitFor();
    await permission.getByText('Every call').waitFor();
    await permission.getByText('files__read_file').waitFor();
    await shot('agent-grants.png');

    // The approvals inbox: a waiting call (as the gateway files it), approved with a reason.
    await owner.getByRole('link', { name: 'Approvals' }).click();
    await owner.waitForURL(`**/orgs/${ORG.slug}/approvals`);
    await owner.getByRole('heading', { level: 1, name: 'Approvals' }).waitFor();
    await owner.getByText('No calls are waiting for approval.').waitFor();
    await requestApproval(db, {
      orgId: orgInfo.id,
      agentId: agent.id,
      connectionId: connection.id,
      tool: 'read_file',
      args: { path: '/srv/data/report.csv' },
      // The agent's current policy version: an approval under other grants would be refused as stale.
      policyVersion: policyVersion(
        await db
          .selectFrom('grants')
          .select('id')
          .where('agent_id', '=', agent.id)
          .where('status', '=', 'active')
          .execute(),
      ),
      requestedBy: null,
      requestId: 'req_e2e',
      minutes: 30,
    });
    await owner.reload();
    const request = owner.getByTestId('approval-row').filter({ hasText: 'support-triage' });
    await request.getByText('read_file').waitFor();
    assert.equal(
      await request.getByTestId('approval-args').textContent(),
      JSON.stringify({ path: '/srv/data/report.csv' }, null, 2),
      'the exact arguments, pretty-printed',
    );
    await request.getByRole('button', { name: 'Approve' }).click();
    const decision = owner.getByRole('form', { name: 'Approve the call' });
    await decision.getByText('Approve this exact call of support-triage', { exact: false }).waitFor();
    await decision.getByLabel('Reason (optional)').fill('quarterly report');
    await shot('approvals-page.png');
    await decision.getByRole('button', { name: 'Yes, approve' }).click();
    await owner.getByText('Approved: support-triage', { exact: false }).waitFor();
    await owner.getByText('No calls are waiting for approval.').waitFor();
    await owner.getByLabel('Status').selectOption('approved');
    const approved = owner.getByTestId('approval-row').filter({ hasText: 'support-triage' });
    await approved.getByText('“quarterly report”').waitFor();
    assert.equal(await approved.getByRole('button', { name: 'Approve' }).count(), 0, 'decided once');
    // A stop of its agent ends it unused (as the kill switch does): the inbox says so, and why.
    await expireApprovals(db, orgInfo.id, { agentId: agent.id });
    await owner.getByLabel('Status').selectOption('expired');
    const ended = owner.getByTestId('approval-row').filter({ hasText: 'support-triage' });
    await ended.getByText('“quarterly report”').waitFor();
    assert.equal(
      await ended.getByTestId('approval-ended').textContent(),
      'Never used: its agent was stopped',
    );
    await shot('approvals-expired.png');

    // Revoke the grant: nothing is granted any more.
    await owner.goto(`${server?.url}/orgs/${ORG.slug}/agents/${agent.id}`);
    await grantRow.getByRole('button', { name: 'Revoke' }).click();
    await grantRow.getByRole('button', { name: 'Yes, revoke' }).click();
    await until(
      () => grantRow.getByTestId('grant-status').textContent(),
      (s) => s === 'Revoked',
      'the grant shows revoked',
    );
    await owner.getByText('No tool is granted: support-triage may call nothing.').waitFor();

    // The org-wide kill switch: asks first; a banner while on, for everyone; resume lifts it.
    const stoppedAt = async () =>
      ((await (await owner.request.get(api)).json()) as { agentsStoppedAt: string | null }).agentsStoppedAt;
    await owner.getByRole('link', { name: 'All agents' }).click();
    await owner.getByRole('button', { name: 'Stop all agents', exact: true }).click();
    await owner.getByText(`Stop every agent of ${ORG.name} now?`).waitFor();
    assert.equal(await stoppedAt(), null, 'nothing stops before the confirm');
    await owner.getByRole('button', { name: 'Yes, stop all agents' }).click();
    const banner = owner.getByRole('heading', { name: 'All agents are stopped' });
    await banner.waitFor();
    assert.ok(await stoppedAt(), 'the API has the org stopped');
    // Every agent reads stopped, whatever its own state (the kill switch stands over them all).
    await until(
      () => owner.getByTestId('agent-state').allTextContents(),
      (states) => states.length > 0 && states.every((x) => x === 'Stopped'),
      'each agent shows stopped',
    );
    await shot('agents-stopped.png');
    assert.ok(member, 'the member from the invitation test is still signed in');
    await member.goto(`${server?.url}/orgs/${ORG.slug}/agents`);
    await member.getByRole('heading', { name: 'All agents are stopped' }).waitFor();
    assert.equal(
      await member.getByRole('button', { name: /all agents/ }).count(),
      0,
      'no switch for a member',
    );
    await owner.getByRole('button', { name: 'Resume all agents' }).click();
    await banner.waitFor({ state: 'hidden' });
    await owner.getByRole('button', { name: 'Stop all agents', exact: true }).waitFor();
    assert.equal(await stoppedAt(), null, 'the API has the org running again');
    await until(
      () => owner.getByTestId('agent-state').allTextContents(),
      (states) => states.includes('Active'),
      'agents show their own state again',
    );

    // Members read connections (no managing them); owners delete one after a confirm.
    await member.goto(`${server?.url}/orgs/${ORG.slug}/connections`);
    await member.getByTestId('connection-row').filter({ hasText: 'Files' }).waitFor();
    await member
      .getByTestId('connection-row')
      .filter({ hasText: 'Wiki' })
      .getByText('https://mcp.example.com/mcp')
      .waitFor();
    const main = member.getByRole('main');
    assert.equal(await main.getByRole('form').count(), 0, 'no forms for a member');
    for (const name of [/List tools/, /Delete/]) {
      assert.equal(await main.getByRole('button', { name }).count(), 0, `no ${name} button for a member`);
    }
    assert.equal(await member.getByRole('link', { name: 'Approvals' }).count(), 0, 'no Approvals link');
    await owner.getByRole('link', { name: 'Connections' }).click();
    await remote.getByRole('button', { name: 'Delete' }).click();
    await remote.getByRole('button', { name: 'Yes, delete' }).click();
    await remote.waitFor({ state: 'detached' });
    await row.getByRole('button', { name: 'Delete' }).click();
    await row.getByRole('button', { name: 'Yes, delete' }).click();
    await owner.getByText('No connections yet.', { exact: false }).waitFor();
  });

  test('an empty Overview offers the demo; its chat streams a call allowed, one refused, one approved here, and the run shows its trail', async () => {
    const db = server!.deps.store.db;
    const init = await initOrg(db, operatorCaller(), {
      slug: DESK.slug,
      name: DESK.name,
      ownerEmail: OWNER.email,
      // Made with a password above: the operator says the account is theirs.
      existingAccount: true,
    });
    await db.transaction().execute(async (trx) => {
      const scope = trustedScope(init.org.id);
      const mia = await ensureUser(trx, { email: MEMBER.email });
      await addMembership(trx, operatorCaller(), scope, mia.id, 'member', 'e2e');
      const aldo = await ensureUser(trx, {
        email: AUDITOR.email,
        name: AUDITOR.name,
        password: AUDITOR.password,
      });
      await addMembership(trx, operatorCaller(), scope, aldo.id, 'auditor', 'e2e');
    });

    // The empty Overview offers the demo to its owner; it opens the chat with the message ready.
    await owner.goto(`${server?.url}/orgs/${DESK.slug}`);
    await owner.getByRole('heading', { level: 1, name: DESK.name }).waitFor();
    const tryDemo = owner.getByRole('button', { name: 'Try the demo agent' });
    await tryDemo.waitFor();
    await shot(owner, 'overview-demo.png');
    await tryDemo.click();
    await owner.waitForURL(/\/agents\/[^/]+\/chat\?/);
    await owner.getByRole('heading', { level: 1, name: 'Chat with demo-assistant' }).waitFor();
    const input = owner.getByLabel('Message', { exact: true });
    assert.equal(await input.inputValue(), DEMO_MESSAGE, 'the demo message is filled in');
    await owner.getByRole('button', { name: 'Send' }).click();
    // The address names the conversation begun (a reload reopens it), the message no longer.
    await owner.waitForURL(
      (u) => /^cnv_/.test(u.searchParams.get('conversation') ?? '') && !u.searchParams.has('message'),
    );

    // Streamed: A-1001 looked up, B-2002 refused by the grant's constraint, the refund waiting.
    const answer = owner.getByTestId('chat-answer').last();
    const calls = answer.getByTestId('tool-call');
    await until(
      async () => [
        await calls.getByTestId('tool-call-state').allTextContents(),
        await calls.allTextContents(),
      ],
      ([states]) => JSON.stringify(states) === JSON.stringify(['Allowed', 'Refused', 'Waiting for approval']),
      'the three calls stream in: allowed, refused, waiting',
    );
    assert.match((await calls.nth(0).textContent()) ?? '', /A-1001/);
    assert.match(
      (await calls.nth(1).getByTestId('tool-call-text').textContent()) ?? '',
      /No grant allows/,
      'the refusal carries its reason',
    );
    assert.match((await answer.textContent()) ?? '', /\(Replay\) Looking up order A-1001/);
    await answer.getByTestId('chat-run-status').filter({ hasText: 'Waiting for approval' }).waitFor();
    await shot(owner, 'chat-waiting.png');

    // Approved from the chat: the run resumes and its continuation streams into the answer.
    const card = calls.nth(2).getByTestId('approval-card');
    await card.getByLabel('Reason (optional)').fill('demo refund');
    await card.getByRole('button', { name: 'Approve' }).click();
    await card.getByText('You approved this call.').waitFor();
    const continued = answer.getByTestId('chat-continuation');
    await continued.getByText('(Replay) Order A-1001 is shipped', { exact: false }).waitFor();
    assert.equal(await continued.getAttribute('data-streamed'), 'true', 'the continuation streamed in');
    // The approved call shows what it did on its own card, as soon as it ran — not only once reopened.
    await until(
      () => calls.getByTestId('tool-call-state').allTextContents(),
      (states) => JSON.stringify(states) === JSON.stringify(['Allowed', 'Refused', 'Approved']),
      'the approved call turns Approved in place',
    );
    assert.match(
      (await calls.nth(2).getByTestId('tool-call-text').textContent()) ?? '',
      /Refunded 20 on A-1001/,
      'with its result',
    );
    assert.equal(await continued.getByTestId('tool-call').count(), 0, 'and not again below it');
    await answer.getByTestId('chat-run-status').filter({ hasText: 'Completed' }).waitFor();
    const chatRuns = (await (
      await owner.request.get(`${server?.url}/api/v1/orgs/${DESK.slug}/runs`)
    ).json()) as {
      runs: { via: string }[];
    };
    assert.equal(chatRuns.runs[0]?.via, 'chat', 'a run started in the chat is recorded as the chat’s');
    await owner.getByRole('navigation', { name: 'Your conversations' }).getByText(DEMO_MESSAGE).waitFor();
    await shot(owner, 'chat-completed.png');

    // Reopened later (a fresh page), the conversation reads as it ran: its tool calls and results.
    await owner.getByRole('navigation', { name: 'Your conversations' }).getByText(DEMO_MESSAGE).click();
    await owner.waitForURL(/\?conversation=/);
    await owner.reload();
    const reread = owner.getByTestId('chat-answer').last();
    const rereadCalls = reread.getByTestId('tool-call');
    await until(
      () => rereadCalls.getByTestId('tool-call-state').allTextContents(),
      (states) => JSON.stringify(states) === JSON.stringify(['Allowed', 'Refused', 'Approved']),
      'the reopened answer shows its three calls: allowed, refused, and the approved one with its result',
    );
    assert.match((await rereadCalls.nth(0).textContent()) ?? '', /A-1001/);
    assert.match(
      (await rereadCalls.nth(1).getByTestId('tool-call-text').textContent()) ?? '',
      /No grant allows/,
    );
    assert.doesNotMatch(
      (await rereadCalls.nth(2).getByTestId('tool-call-text').textContent()) ?? '',
      /Waiting for a person/,
      'the approved call shows what it answered once run, not the wait',
    );
    await reread.getByTestId('chat-run-status').filter({ hasText: 'Completed' }).waitFor();
    await shot(owner, 'chat-reopened.png');

    // The answer links to its run: status, steps, and every step in the audit trail.
    await answer.getByRole('link', { name: /^Run run_/ }).click();
    await owner.waitForURL(/\/orgs\/demo-desk\/runs\/run_/);
    await owner.getByTestId('run-status').filter({ hasText: 'Completed' }).waitFor();
    const actions = async () => {
      await owner.getByRole('table', { name: 'Audit entries of this run' }).waitFor();
      return owner.getByTestId('audit-action').allTextContents();
    };
    const seen = await until(
      async () => {
        const a = await actions();
        if (!a.includes('run.completed')) await owner.reload();
        return a;
      },
      (a) => a.includes('run.completed'),
      'the run page lists its audit entries',
    );
    for (const action of [
      'run.started',
      'tool.call.allowed',
      'tool.call.denied',
      'approval.requested',
      'approval.granted',
      'run.completed',
    ])
      assert.ok(seen.includes(action), `the run's trail has ${action}: ${seen.join(', ')}`);
    // Who allowed the refund, on the run's own page; its tools named by their connection.
    const granted = owner.locator('tr.audit-row').filter({ hasText: 'approval.granted' });
    assert.match((await granted.textContent()) ?? '', /Olive Owner/);
    assert.match(
      (await owner.locator('tr.audit-row').filter({ hasText: 'tool.call.allowed' }).first().textContent()) ??
        '',
      /demo · lookup_order/,
    );
    assert.match((await owner.getByTestId('run-output').textContent()) ?? '', /^\(Replay\)/);
    await shot(owner, 'run-page.png');

    // Flag the answer as wrong; the flag names the audit entry, and the agent's page lists it to resolve.
    await owner.getByRole('button', { name: 'Flag as wrong' }).click();
    const flag = owner.getByRole('form', { name: 'Flag this answer as wrong' });
    await flag.getByLabel('Correction').fill('Order A-1002 is team B’s: the lookup should not show it.');
    await flag.getByLabel('Why it is wrong').fill('Wrong team.');
    await flag.getByRole('button', { name: 'Flag as wrong' }).click();
    await owner.getByText(/Flagged: linked to audit entry #\d+/).waitFor();
    await owner.getByRole('link', { name: 'demo-assistant' }).first().click();
    const item = owner.getByTestId('feedback-item').first();
    await item.getByText('Wrong team.').waitFor();
    assert.match((await owner.getByTestId('flagged-rate').textContent()) ?? '', /1 flagged of 1 answer/);
    await item.getByLabel('Resolution note').fill('Grant constraint checked.');
    await item.getByRole('button', { name: 'Resolve' }).click();
    await owner.getByTestId('feedback-item').first().getByText('Grant constraint checked.').waitFor();
    await owner.goBack();

    // The Runs page lists it, filtered by status.
    await owner.getByRole('link', { name: 'Runs', exact: true }).click();
    await owner.waitForURL(`**/orgs/${DESK.slug}/runs`);
    await owner.getByTestId('run-row').first().waitFor();
    await owner.getByLabel('Status').selectOption('failed');
    await owner.getByText('No runs match these filters.').waitFor();
    await owner.getByLabel('Status').selectOption('completed');
    await owner.getByTestId('run-row').filter({ hasText: 'demo-assistant' }).first().waitFor();
    await shot(owner, 'runs-page.png');

    // The Overview no longer offers the demo; the agent form suggests the demo provider.
    await owner.getByRole('link', { name: 'Overview' }).click();
    await owner.getByRole('heading', { name: 'Organization' }).waitFor();
    assert.equal(await owner.getByRole('button', { name: 'Try the demo agent' }).count(), 0);
    await owner.getByRole('link', { name: 'Agents', exact: true }).click();
    await owner.getByRole('button', { name: 'New agent' }).click();
    assert.equal(await owner.locator('#agent-providers option[value="demo"]').count(), 1);
  });

  test('a model key carries its endpoint (baseUrl): set when added, shown, and changed', async () => {
    await owner.goto(`${server?.url}/orgs/${DESK.slug}/secrets`);
    const form = owner.getByRole('form', { name: 'Add a secret' });
    await form.getByLabel('Name').fill('local-llm');
    await form.getByLabel('Kind').selectOption('model_key');
    await form.getByLabel('Provider').selectOption('openai-compatible');
    await form.getByLabel('Endpoint (baseUrl)').fill('http://127.0.0.1:11434/v1');
    await form.getByLabel('Value').fill('sk-local-0123456789');
    await form.getByRole('button', { name: 'Add secret' }).click();
    const row = owner.getByTestId('secret-row').filter({ hasText: 'local-llm' });
    assert.equal(await row.getByTestId('secret-endpoint').textContent(), 'http://127.0.0.1:11434/v1');
    await form.getByLabel('Kind').selectOption('other');
    assert.equal(await form.getByLabel('Endpoint (baseUrl)').count(), 0, 'only model keys have an endpoint');

    await row.getByRole('button', { name: 'Change endpoint of local-llm' }).click();
    const edit = owner.getByRole('form', { name: 'Endpoint of local-llm' });
    await edit.getByLabel('Endpoint (baseUrl) of local-llm').fill('https://llm.example.com/v1');
    await edit.getByRole('button', { name: 'Save' }).click();
    await until(
      () => row.getByTestId('secret-endpoint').textContent(),
      (t) => t === 'https://llm.example.com/v1',
      'the new endpoint is listed',
    );
    await owner.getByText('now goes to https://llm.example.com/v1', { exact: false }).waitFor();
    await shot(owner, 'secrets-endpoint.png');
  });

  test('a member chats with the demo agent and waits for an approver; an auditor has no input', async () => {
    assert.ok(member, 'the member from the invitation test is still signed in');
    await member.goto(`${server?.url}/orgs/${DESK.slug}/agents`);
    await member.getByRole('link', { name: 'demo-assistant' }).click();
    await member.getByRole('link', { name: 'Chat with demo-assistant' }).click();
    await member.getByRole('heading', { level: 1, name: 'Chat with demo-assistant' }).waitFor();
    await member.getByLabel('Message', { exact: true }).fill('Check my orders, please.');
    await member.getByRole('button', { name: 'Send' }).click();
    const answer = member.getByTestId('chat-answer').last();
    const card = answer.getByTestId('approval-card');
    await card.getByText('Waiting for an approver', { exact: false }).waitFor();
    assert.equal(await answer.getByRole('button', { name: 'Approve' }).count(), 0, 'members do not decide');
    await shot(member, 'chat-member.png');

    // The conversation goes on: the second message continues it, as the list of conversations shows.
    const runs = async () =>
      (
        (await (await member!.request.get(`${server?.url}/api/v1/orgs/${DESK.slug}/runs`)).json()) as {
          runs: {
            id: string;
            conversationId: string;
            status: string;
            waitingFor: { approvalId: string }[];
          }[];
        }
      ).runs;
    const [waiting] = await runs();
    assert.ok(waiting && waiting.status === 'waiting_approval', 'the member’s run waits');

    // The owner watches the Runs page: the member's run goes from waiting to completed on it, live.
    await owner.goto(`${server?.url}/orgs/${DESK.slug}/runs`);
    const runStatus = owner.getByTestId('run-row').filter({ hasText: waiting.id }).getByTestId('run-status');
    await runStatus.getByText('Waiting for approval').waitFor();
    await owner.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });

    // An owner approves elsewhere: the member's chat picks the continuation up.
    const s = (await (await owner.request.get(`${server?.url}/api/v1/session`)).json()) as {
      csrfToken: string;
    };
    const approved = await owner.request.post(
      `${server?.url}/api/v1/orgs/${DESK.slug}/approvals/${waiting.waitingFor[0]!.approvalId}/approve`,
      { headers: { 'x-csrf-token': s.csrfToken }, data: {} },
    );
    assert.equal(approved.status(), 200, await approved.text());
    await answer
      .getByTestId('chat-continuation')
      .getByText('(Replay) Order A-1001 is shipped', { exact: false })
      .waitFor({ timeout: 20_000 });
    await until(
      () => runStatus.textContent(),
      (t) => t === 'Completed',
      'the run completed on the open Runs page',
    );
    assert.equal(
      await owner.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
      true,
      'without a reload',
    );
    await member.getByLabel('Message', { exact: true }).fill('And once more.');
    await member.getByRole('button', { name: 'Send' }).click();
    await member.getByTestId('chat-answer').nth(1).getByTestId('chat-run-status').waitFor();
    const after = await until(runs, (r) => r.length === 2, 'the member has two runs');
    assert.equal(
      after[0]!.conversationId,
      after[1]!.conversationId,
      'the second message continues the conversation',
    );

    // An auditor reads, and starts nothing: no input, a sentence instead.
    const auditor = await newPage('auditor');
    await auditor.goto(`${server?.url}/signin`);
    await auditor.getByLabel('Email').fill(AUDITOR.email);
    await auditor.getByLabel('Password').fill(AUDITOR.password);
    await auditor.getByRole('button', { name: 'Sign in', exact: true }).click();
    await auditor.waitForURL(`**/orgs/${DESK.slug}`);
    await auditor.getByRole('link', { name: 'Agents', exact: true }).click();
    await auditor.getByRole('link', { name: 'demo-assistant' }).click();
    await auditor.getByRole('link', { name: 'Chat with demo-assistant' }).click();
    await auditor.getByTestId('chat-read-only').waitFor();
    assert.equal(await auditor.getByLabel('Message', { exact: true }).count(), 0, 'no input for an auditor');
    await shot(auditor, 'chat-auditor.png');
    await auditor.getByRole('link', { name: 'Runs', exact: true }).click();
    await auditor.getByTestId('run-row').first().waitFor();
    await shot(auditor, 'chat-auditor-runs.png');
    // Back to the first org for the tests that follow.
    await owner.goto(`${server?.url}/orgs/${ORG.slug}`);
    await member.goto(`${server?.url}/orgs/${ORG.slug}`);
  });

  test('removing a person: the confirm step shows what ends and what is handed over, then everything they held ends', async () => {
    assert.ok(member, 'the member from the invitation test is still signed in');
    const base = `${server?.url}/api/v1/orgs/${ORG.slug}`;
    /** Calls the API as a signed-in page (its cookie and CSRF token). */
    const as = async (page: Page, method: 'post' | 'get', path: string, data?: unknown) => {
      const s = (await (await page.request.get(`${server?.url}/api/v1/session`)).json()) as {
        csrfToken: string;
      };
      const res = await page.request.fetch(`${base}${path}`, {
        method,
        headers: { 'x-csrf-token': s.csrfToken },
        ...(data === undefined ? {} : { data }),
      });
      assert.ok(res.ok(), `${method} ${path}: ${res.status()} ${await res.text()}`);
      return (await res.json()) as Record<string, any>;
    };
    const mcp = (token: string) =>
      fetch(`${server?.url}/mcp/${ORG.slug}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });

    // Mia becomes an admin, and holds what an admin leaving typically holds.
    await owner.getByRole('link', { name: 'People' }).click();
    await owner.waitForURL(`**/orgs/${ORG.slug}/people`);
    const row = owner.getByRole('row').filter({ hasText: MEMBER.email });
    await row.getByRole('combobox').selectOption('admin');
    await until(
      async () => (await as(owner, 'get', '/people')).people.find((p: any) => p.email === MEMBER.email).role,
      (r) => r === 'admin',
      'Mia is an admin',
    );
    const model = { provider: 'openai', model: 'gpt-5' };
    const mine = await as(member, 'post', '/agents', {
      name: 'mia-scratchpad',
      scope: 'private',
      instructions: 'x',
      model,
    });
    const laptop = await as(member, 'post', `/agents/${mine.id}/tokens`, { name: 'mia-laptop' });
    await as(member, 'post', '/connections', {
      name: 'mia-notes',
      transport: 'stdio',
      command: 'node',
      args: ['notes.js'],
      private: true,
    });
    const shared = await as(owner, 'post', '/agents', {
      name: 'release-bot',
      scope: 'organization',
      instructions: 'x',
      model,
    });
    const bot = await as(member, 'post', '/tokens', { name: 'mia-deploy-bot', role: 'admin', service: true });
    const ci = await fetch(`${base}/agents/${shared.id}/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bot.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ci-runner' }),
    });
    assert.equal(ci.status, 201);
    const ciToken = ((await ci.json()) as { token: string }).token;
    assert.equal((await mcp(laptop.token)).status, 200, "Mia's agent token works before");

    // The confirm step: nothing happens until it is confirmed.
    await owner.reload();
    await row.getByRole('button', { name: `Remove ${MEMBER.name}` }).click();
    const panel = owner.getByTestId('removal');
    await panel.getByRole('heading', { name: `Remove ${MEMBER.name}?` }).waitFor();
    const ends = panel.getByTestId('removal-ends');
    await ends.getByText('1 agent token they issued: mia-laptop (agent mia-scratchpad)').waitFor();
    await ends.getByText('dashboard session', { exact: false }).waitFor();
    const owned = panel.getByTestId('removal-owned');
    await owned.getByText('Agent mia-scratchpad').waitFor();
    await owned.getByText('Connection mia-notes').waitFor();
    await panel.getByText('Single sign-on will not add', { exact: false }).waitFor();
    const handTo = panel.getByLabel('Hand them to');
    assert.equal(
      await handTo.locator('option:checked').textContent(),
      `${OWNER.name} (Owner)`,
      'handed to the remover by default',
    );
    assert.equal(await panel.getByLabel('Hand over, stopped').isChecked(), true);
    await panel.getByLabel('Delete').check();
    await panel.getByText('This cannot be undone.').waitFor();
    assert.equal(await panel.getByLabel('Hand them to').count(), 0, 'no receiver when deleting');
    await panel.getByLabel('Hand over, stopped').check();
    const review = panel.getByTestId('removal-review');
    await review.getByLabel('Revoke service token mia-deploy-bot (Admin)').check();
    assert.equal(
      await review.getByLabel('Revoke agent token ci-runner (agent release-bot)').isChecked(),
      false,
    );
    assert.equal((await mcp(laptop.token)).status, 200, 'nothing ended before the confirm');
    await checkPage(owner, 'people-removal');

    await panel.getByRole('button', { name: `Remove ${MEMBER.name}` }).click();
    await owner.getByText(`${MEMBER.name} was removed:`, { exact: false }).waitFor();
    await row.waitFor({ state: 'detached' });
    assert.equal(await owner.getByTestId('removal').count(), 0, 'the confirm step is gone');

    // Everything Mia held has ended; what the owner chose to keep is kept.
    // Mia belongs to the order desk too: her session stays for it, and opens this org no more.
    const session = await member.request.get(`${server?.url}/api/v1/orgs/${ORG.slug}`);
    assert.equal(session.status(), 404, "Mia's session no longer opens this org");
    assert.equal((await mcp(laptop.token)).status, 401, "Mia's agent token is refused");
    assert.equal((await bearer(bot.token)).status, 401, 'the service token ticked for revocation is revoked');
    assert.equal((await mcp(ciToken)).status, 200, 'the agent token left unticked is kept');
    const scratchpad = await as(owner, 'get', `/agents/${mine.id}`);
    assert.equal(scratchpad.state, 'stopped');
    assert.equal(
      scratchpad.ownerId,
      (await as(owner, 'get', '/people')).people.find((p: any) => p.email === OWNER.email).id,
    );
  });

  test('no console errors or page errors (CSP violations included)', () => {
    assert.deepEqual(problems, []);
  });
});
