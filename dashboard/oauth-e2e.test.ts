/**
 * OAuth sign-in for an MCP client, in a real browser (Chromium): the client's authorization URL
 * sends a signed-out person to Paddock's sign-in page, which brings them back to the consent
 * page; they pick their agent and allow, and the browser lands on the client's loopback redirect
 * URI with a code — through the consent page's own Content-Security-Policy, which must let the
 * form's answer redirect there. The code then becomes an agent token that opens `/mcp/{org}`.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { loadConfig } from '../src/config/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { type RunningServer, startServer } from '../src/server/index.ts';
import { dashboardBuilt } from '../src/server/static.ts';
import { launchChromium } from '../src/testing/browser.ts';
import { type SeededOrg, seedOrg } from '../src/testing/fixtures.ts';

describe('OAuth sign-in for an MCP client, in the browser', () => {
  let home: string;
  let server: RunningServer;
  let browser: Browser;
  let callback: Server;
  let redirect: string;
  let acme: SeededOrg;
  let agentId: string;
  const arrived: URL[] = [];

  before(async () => {
    assert.ok(dashboardBuilt(), 'run `npm run build:dashboard` first');
    home = mkdtempSync(join(tmpdir(), 'paddock-oauth-e2e-'));
    server = await startServer(loadConfig({ home, port: 0 }), silentLogger);
    acme = await seedOrg(server.deps.store, 'acme');
    const base = server.deps.config.publicUrl;
    const a = await fetch(`${base}/api/v1/orgs/acme/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${acme.people.member.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Laptop helper',
        scope: 'private',
        instructions: 'x',
        model: { provider: 'openai', model: 'gpt-5' },
      }),
    });
    assert.equal(a.status, 201);
    agentId = ((await a.json()) as { id: string }).id;
    // The client's loopback redirect URI, as a desktop client listens on one.
    callback = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      // The browser also asks for a favicon.
      if (u.pathname === '/callback') arrived.push(u);
      res.end('signed in');
    });
    await new Promise<void>((r) => callback.listen(0, '127.0.0.1', r));
    redirect = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await new Promise<void>((r) => (callback ? callback.close(() => r()) : r()));
    await server?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test('sign in, choose the agent, allow: the client gets a code at its redirect URI, and a working token', async () => {
    const base = server.deps.config.publicUrl;
    const reg = await fetch(`${base}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Desk Client', redirect_uris: [redirect] }),
    });
    assert.equal(reg.status, 201);
    const clientId = ((await reg.json()) as { client_id: string }).client_id;
    const verifier = randomBytes(32).toString('base64url');
    const at = new URL(`${base}/oauth/authorize`);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirect,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: 'xyz',
      resource: `${base}/mcp/acme`,
    }))
      at.searchParams.set(k, v);

    const context = await browser.newContext();
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(at.href);
    await page.waitForURL(/\/signin\?next=/);
    await page.getByLabel('Email').fill(acme.people.member.email);
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Connect Desk Client to Paddock' }).waitFor();
    assert.equal(await page.getByRole('radio', { name: /Laptop helper/ }).isChecked(), true);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.href.startsWith(redirect));
    await context.close();
    assert.deepEqual(violations, []);

    assert.equal(arrived.length, 1);
    const code = arrived[0]!.searchParams.get('code');
    assert.equal(arrived[0]!.searchParams.get('state'), 'xyz');
    assert.ok(code);
    const tok = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        client_id: clientId,
        redirect_uri: redirect,
        code_verifier: verifier,
      }).toString(),
    });
    assert.equal(tok.status, 200);
    const { access_token } = (await tok.json()) as { access_token: string };
    const mcp = await fetch(`${base}/mcp/acme`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    assert.equal(mcp.status, 200);
    const list = await fetch(`${base}/api/v1/orgs/acme/agents/${agentId}/tokens`, {
      headers: { authorization: `Bearer ${acme.people.member.token}` },
    });
    const tokens = ((await list.json()) as { tokens: Array<{ client: { name: string } | null }> }).tokens;
    assert.deepEqual(
      tokens.map((x) => x.client?.name),
      ['Desk Client'],
    );
  });
});
