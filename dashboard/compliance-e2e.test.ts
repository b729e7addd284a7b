/**
 * End-to-end test of the compliance page and the Overview: a real Paddock server in this process,
 * the built dashboard, real Chromium through playwright-core. An org whose agent is granted a
 * destructive tool with no approval rule; the owner collects evidence from the page, the grid
 * shows the states the collection stored, the failing control its reason; the evidence package
 * downloaded from the page passes `paddock evidence verify` with the key the page shows; an
 * access review is opened and decided; the auditor sees all of it and can change nothing (no
 * buttons, and the API refuses them); the Overview shows the org's figures, and an approval
 * asked for after it opened appears without a reload. Fails on any console or page error.
 *
 *   PATH=$PWD/node_modules/.bin:$PATH node --test dashboard/compliance-e2e.test.ts
 *
 * Each page shown is checked for accessibility (axe-core, light and dark) and photographed into
 * dashboard/screenshots/ (or E2E_SCREENSHOT_DIR): compliance-page, compliance-auditor and overview.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { requestApproval } from '../src/approvals/approvals.ts';
import { verifyPackage } from '../src/compliance/package/verify.ts';
import { loadConfig } from '../src/config/index.ts';
import { toolDigest } from '../src/connections/index.ts';
import { addMembership, ensureUser, initOrg, operatorCaller, trustedScope } from '../src/identity/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { policyVersion } from '../src/policy/engine.ts';
import { type RunningServer, startServer } from '../src/server/index.ts';
import { launchChromium } from '../src/testing/browser.ts';
import { untilRead as until } from '../src/testing/until.ts';
import { ensureDashboardBuilt } from './e2e-build.ts';
import { checkPage } from './e2e-check.ts';
import { signIn, watchedPage } from './e2e-session.ts';

const SLUG = 'acme';
const OWNER = { email: 'owner@acme.test', password: 'owner-password-0001' };
const AUDITOR = { email: 'auditor@acme.test', password: 'auditor-password-0003' };

describe('compliance page and Overview end to end', { timeout: 240_000 }, () => {
  let home = '';
  let server: RunningServer;
  let browser: Browser | undefined;
  let owner: Page;
  let auditor: Page;
  let token = '';
  let orgId = '';
  let agentId = '';
  let connectionId = '';
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${server.url}/api/v1/orgs/${SLUG}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };

  async function signedIn(who: string, person: { email: string; password: string }): Promise<Page> {
    assert.ok(browser);
    const context = await browser.newContext({ acceptDownloads: true });
    contexts.push(context);
    const page = await watchedPage(context, problems, { who });
    await signIn(page, server.url, person, SLUG);
    return page;
  }

  async function shot(page: Page, name: string): Promise<void> {
    await checkPage(page, name);
  }

  /** A request with the page's own session cookie and CSRF token: what a crafted click would send. */
  async function fromPage(page: Page, method: string, path: string, body?: unknown): Promise<number> {
    const cookie = (await page.context().cookies(server.url)).map((c) => `${c.name}=${c.value}`).join('; ');
    const session = await fetch(`${server.url}/api/v1/session`, { headers: { cookie } });
    const { csrfToken } = (await session.json()) as { csrfToken: string };
    const r = await fetch(`${server.url}/api/v1/orgs/${SLUG}${path}`, {
      method,
      headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    await r.text();
    return r.status;
  }

  before(async () => {
    ensureDashboardBuilt();
    home = mkdtempSync(join(tmpdir(), 'paddock-e2e-compliance-'));
    server = await startServer(loadConfig({ home, port: 0 }), silentLogger);
    // The daily collection's first run comes 5–65 s after start: here the page collects, when the
    // test says (it found evidence already collected once, in a slow CI run).
    await server.deps.scheduler.close();
    const db = server.deps.store.db;
    // The owner's account first, with a password; the org then makes it its owner.
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
    await db.transaction().execute(async (trx) => {
      const user = await ensureUser(trx, { email: AUDITOR.email, password: AUDITOR.password });
      await addMembership(trx, operatorCaller(), trustedScope(orgId), user.id, 'auditor', 'test');
    });

    // An agent granted a destructive tool with no approval rule: PAD-GATE-02 must fail, naming it.
    const agent = await api('POST', '/agents', {
      name: 'cleaner',
      scope: 'organization',
      instructions: 'Tidy the warehouse.',
      model: { provider: 'openai', model: 'gpt-5' },
    });
    agentId = agent.id;
    const conn = await api('POST', '/connections', {
      name: 'warehouse',
      transport: 'stdio',
      command: 'npx',
      args: ['-y', '@acme/warehouse-mcp@1.0.0'],
    });
    connectionId = conn.id;
    for (const t of [
      { name: 'list_items', description: 'List the items' },
      { name: 'purgeItems', description: 'Removes every item of a shelf' },
    ]) {
      const def = {
        name: t.name,
        description: t.description,
        inputSchema: { type: 'object', properties: {} },
      };
      await db
        .insertInto('connection_tools')
        .values({
          org_id: orgId,
          connection_id: conn.id,
          name: t.name,
          description: t.description,
          input_schema: JSON.stringify(def.inputSchema),
          digest: toolDigest(def),
          seen_at: new Date().toISOString(),
        })
        .execute();
    }
    await api('POST', `/agents/${agentId}/grants`, {
      connectionId: conn.id,
      tool: 'list_items',
      requiresApproval: true,
    });
    await api('POST', `/agents/${agentId}/grants`, { connectionId: conn.id, tool: 'purgeItems' });
    // The agent at work, as the gate records it.
    const actor = { type: 'agent' as const, id: agentId };
    for (let i = 0; i < 7; i++)
      await server.deps.audit.append({
        orgId,
        actor,
        action: 'tool.call.allowed',
        target: { type: 'tool', id: `${conn.id}/list_items` },
      });
    for (let i = 0; i < 2; i++)
      await server.deps.audit.append({
        orgId,
        actor,
        action: 'tool.call.denied',
        outcome: 'denied',
        target: { type: 'tool', id: `${conn.id}/purgeItems` },
      });

    browser = await launchChromium();
    owner = await signedIn('owner', OWNER);
    auditor = await signedIn('auditor', AUDITOR);
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await server?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test('the owner collects from the page; the grid shows the stored states and the failing control its reason', async () => {
    await owner.getByRole('link', { name: 'Compliance', exact: true }).click();
    await owner.waitForURL(`**/orgs/${SLUG}/compliance`);
    await owner.getByText('No evidence collected yet').waitFor();
    const grid = owner.getByTestId('criteria-grid');
    assert.equal(
      (await grid.locator('[data-state="not_tested"]').count()) > 0,
      true,
      'before collecting: not tested',
    );
    assert.equal(await grid.locator('[data-state="pass"]').count(), 0, 'before collecting: nothing passes');

    await owner.getByRole('button', { name: 'Collect now' }).click();
    await owner.getByText(/^Collected \d+ evidence records at log size/).waitFor();

    // The trend's collections all share (nearly) one instant: its time axis is an hour of that
    // day, labelled with times of day — not years (uPlot's own widening of one instant).
    const trendPlot = owner
      .getByRole('figure')
      .filter({ hasText: 'Controls by result, per collection' })
      .locator('.chart-plot');
    // The trend is read again after the collection's notice shows: on a loaded machine, a while after.
    await trendPlot.waitFor({ timeout: 60_000 });
    const ticks = await until(
      () => trendPlot.getAttribute('data-x-ticks'),
      (t) => Boolean(t),
      'the trend drawn',
      60_000,
    );
    const labels = (ticks ?? '').split(' | ');
    assert.ok(labels.length >= 2, `a few ticks: ${ticks}`);
    for (const label of labels)
      assert.match(label, /\d{1,2}:\d{2}\s?(am|pm)?/i, `each tick a time of day: ${ticks}`);
    assert.ok(
      !labels.some((l) => /^(19|20)\d\d$|^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b/.test(l)),
      `no year or month ticks: ${ticks}`,
    );

    // Every tile says what the stored results say.
    const stored = (await api('GET', '/compliance/criteria')) as {
      criteria: { id: string; state: string }[];
    };
    assert.equal(stored.criteria.length, 61);
    const states = new Set(stored.criteria.map((c) => c.state));
    for (const s of ['fail', 'pass', 'customer'])
      assert.ok(states.has(s), `the collection yields ${s} criteria`);
    const shown = await grid
      .locator('.criterion-tile')
      .evaluateAll((tiles) => tiles.map((t) => ({ id: t.textContent, state: t.getAttribute('data-state') })));
    assert.deepEqual(
      shown,
      stored.criteria.map((c) => ({ id: c.id, state: c.state })),
    );

    // The gaps list puts failures first; the destructive grant is among them, with its reason.
    const first = owner.getByTestId('gap').first();
    assert.equal(await first.locator('.state-fail').count(), 1, 'a failing control comes first');
    const gate = owner.locator('[data-testid="gap"][data-control="PAD-GATE-02"]');
    await gate.waitFor();
    assert.match(
      (await gate.locator('.gap-reason').textContent()) ?? '',
      /high-risk tool granted with no approval rule: cleaner may call purgeItems/,
    );

    // Opening a criterion the control supports shows the control, its reason, evidence and history.
    const control = (await api('GET', '/compliance/controls/PAD-GATE-02')) as {
      control: { criteria: string[]; latest: { reason: string } };
    };
    await grid
      .getByRole('button', { name: new RegExp(`^${control.control.criteria[0]!.replace('.', '\\.')} `) })
      .click();
    const panel = owner.getByTestId('criterion-panel');
    await panel.getByRole('button', { name: 'PAD-GATE-02' }).click();
    const detail = panel.getByTestId('control-panel');
    await detail.getByRole('heading', { name: /PAD-GATE-02/ }).waitFor();
    assert.equal(await detail.getByTestId('control-reason').textContent(), control.control.latest.reason);
    assert.ok(
      (await detail.getByRole('table', { name: 'Evidence of PAD-GATE-02' }).getByRole('row').count()) > 1,
    );
    await detail.getByRole('table', { name: 'History of PAD-GATE-02' }).getByText('Fail').waitFor();

    // A customer-responsibility criterion takes the customer's own documents.
    const customer = stored.criteria.find((c) => c.state === 'customer')!;
    await grid.getByRole('button', { name: new RegExp(`^${customer.id.replace('.', '\\.')} `) }).click();
    await owner.getByLabel('Document (up to 50 MB)').setInputFiles({
      name: 'board-minutes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('The board met and reviewed the security programme.\n'),
    });
    await owner.getByRole('button', { name: 'Attach' }).click();
    await owner.getByText(/board-minutes\.txt attached \(SHA-256/).waitFor();
    await owner.getByRole('link', { name: 'board-minutes.txt' }).waitFor();
    await shot(owner, 'compliance-page.png');
  });

  test('the evidence package downloaded from the page passes verification with the key the page shows', async () => {
    const key = ((await owner.getByTestId('verifier-key').textContent()) ?? '').trim();
    const published = (await api('GET', '/audit/key')) as { verifierKey: string };
    assert.equal(key, published.verifierKey);
    assert.match(
      (await owner.getByTestId('verify-command').textContent()) ?? '',
      /^paddock evidence verify paddock-evidence-acme-.*\.zip --key '/,
    );
    const [download] = await Promise.all([
      owner.waitForEvent('download'),
      owner.getByRole('link', { name: 'Download the package' }).click(),
    ]);
    const zip = join(home, 'package.zip');
    await download.saveAs(zip);
    assert.match(
      download.suggestedFilename(),
      /^paddock-evidence-acme-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.zip$/,
    );
    const verified = await verifyPackage(zip, key);
    assert.deepEqual(verified.problems, []);
    assert.equal(verified.ok, true);
    assert.ok(verified.entries > 0, 'the package carries the entries behind its figures');
    // The same package under another org's key proves nothing.
    const other = await verifyPackage(zip, key.replace(/\+[0-9a-f]{8}\+/, '+00000000+'));
    assert.equal(other.ok, false);
  });

  test('the owner opens an access review of agents and decides its lines', async () => {
    await owner.getByRole('button', { name: 'Review agents' }).click();
    const review = owner.getByTestId('review-detail');
    await review.waitFor();
    const lines = review.getByTestId('review-line');
    assert.equal(await lines.count(), 2, 'one line per grant');
    const purge = lines.filter({ hasText: 'purgeItems' });
    // The decision as the line shows it: exactly "Revoked". Not `getByText('Revoked')`, a
    // case-insensitive substring: the undecided line's buttons read "Sign offRevokeDefer" as one
    // text, so that wait matched before the click and the grant was read while the revocation was
    // still on its way (one CI run read it active).
    const revoked = purge.getByText('Revoked', { exact: true });
    assert.equal(await revoked.count(), 0, 'the line is undecided before the click');
    // The decision answered late, as on a loaded machine: the grant is read only once the page
    // shows the answer, so a wait that does not wait fails here every time.
    await owner.route(
      '**/compliance/reviews/*/lines/*',
      async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        await route.continue();
      },
      { times: 1 },
    );
    await purge.getByRole('button', { name: 'Revoke' }).click();
    await revoked.waitFor();
    assert.equal(await purge.getByRole('button').count(), 0, 'a revoked line offers no decision');
    const grants = (await api('GET', `/agents/${agentId}/grants`)) as {
      grants: { tool: string; status: string }[];
    };
    assert.equal(
      grants.grants.find((g) => g.tool === 'purgeItems')?.status,
      'revoked',
      'Revoke is the real revocation: revoked before the page shows the line decided',
    );
  });

  test('the auditor sees everything and can change nothing: no buttons, and the API refuses', async () => {
    await auditor.getByRole('link', { name: 'Compliance', exact: true }).click();
    await auditor.waitForURL(`**/orgs/${SLUG}/compliance`);
    const grid = auditor.getByTestId('criteria-grid');
    await grid.locator('[data-state="fail"]').first().waitFor();
    await auditor.locator('[data-testid="gap"][data-control="PAD-GATE-02"]').waitFor();
    await auditor.getByTestId('review-row').first().waitFor();
    await auditor.getByTestId('verifier-key').waitFor();
    for (const name of ['Collect now', 'Review agents', 'Review people', 'Open incident', 'Mark reviewed'])
      assert.equal(await auditor.getByRole('button', { name }).count(), 0, `no ${name} for the auditor`);

    await auditor.getByTestId('review-row').first().getByRole('button', { name: 'Open' }).click();
    const review = auditor.getByTestId('review-detail');
    await review.getByTestId('review-line').first().waitFor();
    for (const name of ['Sign off', 'Revoke', 'Defer', 'Sign off the review'])
      assert.equal(
        await review.getByRole('button', { name, exact: true }).count(),
        0,
        `no ${name} for the auditor`,
      );
    // The one thing an auditor adds: a comment.
    await review.getByRole('textbox', { name: 'Comment' }).fill('Why was list_items kept without use?');
    await review.getByRole('button', { name: 'Add comment' }).click();
    await review.getByText('Why was list_items kept without use?').waitFor();

    const reviews = (await api('GET', '/compliance/reviews')) as { reviews: { id: string }[] };
    const full = (await api('GET', `/compliance/reviews/${reviews.reviews[0]!.id}`)) as {
      lines: { id: string; decision: string | null }[];
    };
    const open = full.lines.find((l) => l.decision === null)!;
    assert.equal(await fromPage(auditor, 'POST', '/compliance/collect'), 403);
    assert.equal(
      await fromPage(auditor, 'POST', `/compliance/reviews/${reviews.reviews[0]!.id}/lines/${open.id}`, {
        decision: 'keep',
      }),
      403,
    );
    assert.equal(
      await fromPage(auditor, 'POST', '/compliance/incidents', { title: 'x', severity: 'low' }),
      403,
    );
    assert.equal(
      await fromPage(auditor, 'POST', `/compliance/reviews/${reviews.reviews[0]!.id}/comments`, {
        body: 'ok',
      }),
      201,
    );
    await shot(auditor, 'compliance-auditor.png');
  });

  test('the Overview shows calls, denials, the checkpoint and control states; an approval appears without a reload', async () => {
    await owner.getByRole('link', { name: 'Overview' }).click();
    await owner.waitForURL(`**/orgs/${SLUG}`);
    const tile = (id: string) => owner.getByTestId(id).locator('dd');
    await until(
      () => tile('tile-calls').locator('.stat-value').textContent(),
      (t) => t === '9',
      'tool calls today: 7 allowed + 2 denied',
    );
    assert.match((await tile('tile-calls').textContent()) ?? '', /2 denied/);
    const controls = (await api('GET', '/compliance/controls')) as {
      controls: { latest: { status: string } | null }[];
    };
    const pass = controls.controls.filter((c) => c.latest?.status === 'pass').length;
    await until(
      () => tile('tile-controls').textContent(),
      (t) => (t ?? '').startsWith(`${pass} of ${controls.controls.length} pass`),
      'control states',
    );
    const cp = (await api('GET', '/audit/checkpoint')) as { treeSize: number };
    const shownSize = Number(
      ((await tile('tile-checkpoint').textContent()) ?? '').replace(/\D.*$/, '').replace(/,/g, ''),
    );
    assert.ok(shownSize > 0 && shownSize <= cp.treeSize, `checkpoint ${shownSize} of ${cp.treeSize}`);
    assert.equal((await tile('tile-approvals').textContent())?.trim(), '0');
    // The charts are drawn (uPlot's canvas), their figures in the table behind them.
    assert.ok((await owner.locator('.chart canvas').count()) >= 2, 'two charts drawn');
    const perDay = owner.getByRole('table', { name: 'Per day, last 14 days' });
    assert.equal(await perDay.getByRole('row').last().getByRole('cell').nth(1).textContent(), '9');

    // A call asks for approval after the page opened: the tile counts it within a poll.
    await requestApproval(server.deps.store.db, {
      orgId,
      agentId,
      connectionId,
      tool: 'list_items',
      args: {},
      policyVersion: policyVersion(
        await server.deps.store.db
          .selectFrom('grants')
          .select('id')
          .where('agent_id', '=', agentId)
          .where('status', '=', 'active')
          .execute(),
      ),
      requestedBy: null,
      requestId: 'req_overview',
      minutes: 30,
    });
    await until(
      () => tile('tile-approvals').textContent(),
      (t) => t?.trim() === '1',
      'the approval appears',
      12_000,
    );
    await shot(owner, 'overview.png');
  });

  test('no console errors or page errors (CSP violations included)', () => {
    assert.deepEqual(problems, []);
  });
});
