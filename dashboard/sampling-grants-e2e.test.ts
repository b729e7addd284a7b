/**
 * Sampling and elicitation grants from the agent's grants page, in real Chromium against a real
 * server: an owner allows a connection's server to ask the agent's model (the form says what that
 * allows and offers no approval or constraints), and a sampling request that the real
 * server-everything sends during a granted tool call reaches the agent's MCP client (the official
 * SDK client over HTTP on /mcp/{org}) and is answered; revoked on the same page, the next request
 * is refused in words and never reaches the client. Each grant change and each decision is on the
 * audit trail. Checked for accessibility (axe-core, light and dark) and photographed.
 *
 *   PATH=$PWD/node_modules/.bin:$PATH node --test dashboard/sampling-grants-e2e.test.ts
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type CallToolResult, CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Browser, Page } from 'playwright-core';
import { loadConfig } from '../src/config/index.ts';
import { ensureUser, initOrg, operatorCaller } from '../src/identity/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { type RunningServer, startServer } from '../src/server/index.ts';
import { launchChromium } from '../src/testing/browser.ts';
import { until, untilRead } from '../src/testing/until.ts';
import { ensureDashboardBuilt } from './e2e-build.ts';
import { checkPage } from './e2e-check.ts';
import { signIn, watchedPage } from './e2e-session.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const SLUG = 'askco';
const OWNER = { email: 'owner@askco.test', password: 'owner-password-0001' };
const MODEL_ANSWER = {
  model: 'test-model',
  role: 'assistant' as const,
  content: { type: 'text' as const, text: 'the model says hi' },
};

const text = (r: unknown) => ((r as CallToolResult).content[0] as { text?: string } | undefined)?.text ?? '';

describe('sampling and elicitation grants on the agent’s page', { timeout: 240_000 }, () => {
  let home = '';
  let server: RunningServer;
  let browser: Browser | undefined;
  let owner: Page;
  let client: Client;
  let agentId = '';
  let connectionId = '';
  const sampled: unknown[] = [];
  const problems: string[] = [];
  const api = () => `${server.url}/api/v1/orgs/${SLUG}`;
  let headers: Record<string, string> = {};

  const post = async (path: string, data?: unknown) => {
    const r = await owner.request.post(`${api()}${path}`, {
      ...(data === undefined ? {} : { data }),
      headers,
    });
    assert.ok(r.ok(), `${path}: ${await r.text()}`);
    return (await r.json()) as Record<string, unknown>;
  };
  /** Audit entries of one action, once the log's writer has placed them. */
  const entries = async (action: string) =>
    (
      (await (await owner.request.get(`${api()}/audit?action=${action}`)).json()) as {
        events: Array<{ action: string; target: { id: string } | null; details: Record<string, unknown> }>;
      }
    ).events;
  const sample = () =>
    client.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'hello' } });

  before(async () => {
    ensureDashboardBuilt();
    home = mkdtempSync(join(tmpdir(), 'paddock-e2e-asks-'));
    server = await startServer(loadConfig({ home, port: 0 }), silentLogger);
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

    // The real server-everything in the org's sandbox; its sampling tool granted, sampling not.
    connectionId = String(
      (
        await post('/connections', {
          name: 'everything',
          transport: 'stdio',
          command: 'node',
          args: [EVERYTHING, 'stdio'],
        })
      ).id,
    );
    await post(`/connections/${connectionId}/tools/refresh`);
    agentId = String(
      (
        await post('/agents', {
          name: 'asker',
          scope: 'organization',
          instructions: 'Answer.',
          model: { provider: 'openai', model: 'gpt-5' },
        })
      ).id,
    );
    await post(`/agents/${agentId}/grants`, { connectionId, tool: 'trigger-sampling-request' });
    const token = String((await post(`/agents/${agentId}/tokens`, { name: 'mcp' })).token);

    // The agent's MCP client: the official SDK over HTTP, declaring sampling, answering with a model stand-in.
    client = new Client({ name: 'agent', version: '1' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
      sampled.push(req.params);
      return MODEL_ANSWER;
    });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${server.url}/mcp/${SLUG}`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test('without a sampling grant, the server’s request is refused in words and never reaches the client', async () => {
    const refused = await sample();
    assert.match(
      text(refused),
      /sampling_denied: No grant allows this agent to pass on requests for its model/,
    );
    assert.deepEqual(sampled, []);
  });

  test('an owner grants sampling from the grants form, which says what it allows; the next request reaches the client and is answered', async () => {
    await owner.goto(`${server.url}/orgs/${SLUG}/agents/${agentId}`);
    const form = owner.getByRole('form', { name: 'Add a grant' });
    assert.equal(await form.getByLabel('Connection').inputValue(), connectionId);
    await form.getByLabel('Grant of').selectOption('sampling');
    await form
      .getByTestId('grant-ask-hint')
      .getByText(/may ask the agent’s model for a completion/)
      .waitFor();
    // Allowed or denied only: no tool, no argument constraints, no approval to wait on.
    assert.equal(await form.getByLabel('Requires approval').count(), 0);
    assert.equal(await form.getByLabel('Tool', { exact: true }).count(), 0);
    assert.equal(await form.getByRole('button', { name: 'Add constraint' }).count(), 0);
    await checkPage(owner, 'agent-grant-sampling-form');
    await form.getByRole('button', { name: 'Add grant' }).click();
    const row = owner
      .getByTestId('grant-row')
      .filter({ hasText: 'Its server may ask the agent’s model (sampling)' });
    await row.waitFor();
    assert.equal(await row.getByTestId('grant-status').textContent(), 'Active');
    await row.getByText('everything').waitFor();
    // What the grants add up to says so too, beside the tools.
    const ask = owner.getByTestId('ask-permission-row').filter({ hasText: 'The agent’s model (sampling)' });
    await ask.getByText('Allowed', { exact: true }).waitFor();
    await ask.getByText('everything').waitFor();
    await checkPage(owner, 'agent-grant-sampling');

    const answered = await sample();
    assert.equal(answered.isError, false, text(answered));
    assert.match(text(answered), /the model says hi/);
    assert.equal(sampled.length, 1, 'the request reached the agent’s client once');
    const created = await until(
      async () =>
        (await entries('grant.created')).find(
          (e) => (e.details.grant as { kind?: string })?.kind === 'sampling',
        ),
      { what: 'the sampling grant’s grant.created entry' },
    );
    assert.ok(created);
    await until(async () => (await entries('sampling.request.allowed')).length === 1, {
      what: 'sampling.request.allowed on the trail',
    });
    assert.deepEqual(problems, []);
  });

  test('revoked on the same page, the next request is refused and never reaches the client', async () => {
    const row = owner
      .getByTestId('grant-row')
      .filter({ hasText: 'Its server may ask the agent’s model (sampling)' });
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByRole('button', { name: 'Yes, revoke' }).click();
    await owner.getByText('Grant revoked.').waitFor();
    // The list is read again after the notice shows: wait for the row to say so.
    await untilRead(
      () => row.getByTestId('grant-status').textContent(),
      (t) => t === 'Revoked',
      'the grant row to say Revoked',
    );
    await owner.getByTestId('ask-permission-row').waitFor({ state: 'detached' });
    await checkPage(owner, 'agent-grant-sampling-revoked');

    const refused = await sample();
    assert.match(
      text(refused),
      /sampling_denied: No grant allows this agent to pass on requests for its model/,
    );
    assert.equal(sampled.length, 1, 'nothing more reached the client');
    await until(async () => (await entries('grant.revoked')).length === 1, { what: 'grant.revoked' });
    await until(async () => (await entries('sampling.request.denied')).length === 2, {
      what: 'both refusals on the trail',
    });
    assert.deepEqual(problems, []);
  });

  test('elicitation is offered the same way, in its own words', async () => {
    const form = owner.getByRole('form', { name: 'Add a grant' });
    await form.getByLabel('Grant of').selectOption('elicitation');
    await form
      .getByTestId('grant-ask-hint')
      .getByText(/may ask the person using the agent a question/)
      .waitFor();
    await form.getByRole('button', { name: 'Add grant' }).click();
    await owner
      .getByTestId('grant-row')
      .filter({ hasText: 'Its server may ask the agent’s person (elicitation)' })
      .getByText('Active')
      .waitFor();
    const grants = (
      (await (await owner.request.get(`${api()}/agents/${agentId}/grants`)).json()) as {
        grants: Array<{ kind: string; status: string; requiresApproval: boolean; constraints: unknown[] }>;
      }
    ).grants.filter((g) => g.kind === 'elicitation');
    assert.deepEqual(
      grants.map((g) => [g.status, g.requiresApproval, g.constraints]),
      [['active', false, []]],
    );
    assert.deepEqual(problems, []);
  });
});
