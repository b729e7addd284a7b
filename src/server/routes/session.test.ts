/**
 * The sign-in limit with its real numbers, as `paddock up` builds it (not the raised limit other
 * tests use): 10 attempts per email and 10 per client address in 15 minutes, then 429 — even with
 * the right password. Over real sockets from distinct loopback addresses, on both engines.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type ServerType, serve } from '@hono/node-server';
import { Agent, fetch } from 'undici';
import { loadConfig } from '../../config/index.ts';
import { silentLogger } from '../../log/index.ts';
import { createApp, type SeededOrg, seedOrg } from '../../testing/fixtures.ts';
import { onCleanup, openTestStore, STORE_KINDS, type TestStore } from '../../testing/stores.ts';
import { buildDeps, type Deps } from '../deps.ts';

/** The password `seedOrg` gives its admin, member and auditor. */
const PASSWORD = 'correct horse battery staple';
const PER_EMAIL = 10;
const PER_ADDRESS = 10;

for (const kind of STORE_KINDS) {
  describe(`the sign-in limit [${kind}]`, () => {
    let t: TestStore;
    let deps: Deps;
    let server: ServerType;
    let url: string;
    let acme: SeededOrg;
    const agents: Agent[] = [];

    /** Signs in from a loopback address of its own, as a distinct client machine would. */
    async function signIn(from: string, email: string, password: string) {
      const dispatcher = new Agent({ localAddress: from });
      agents.push(dispatcher);
      const r = await fetch(`${url}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
        dispatcher,
      });
      const body = (await r.json()) as { error?: { code: string } };
      return `${r.status} ${body.error?.code ?? 'signed in'}`;
    }

    before(async () => {
      t = await openTestStore(kind);
      deps = buildDeps(loadConfig({ home: t.home, port: 0 }, {}), silentLogger, t.store, {});
      onCleanup(t.store, async () => {
        await deps.gateway.close();
        deps.siem.close();
        await deps.audit.close();
      });
      acme = await seedOrg(t.store, 'acme');
      server = await new Promise<ServerType>((resolve) => {
        const s = serve({ fetch: createApp(deps).fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
      });
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await Promise.all(agents.map((a) => a.close()));
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      await t?.cleanup();
    });

    test('attempts are counted over a window of 15 minutes', () => {
      assert.equal(deps.signInLimiter.windowMs, 15 * 60_000);
    });

    test('after 10 attempts for one email, the next is refused with 429 even with the right password, from any address', async () => {
      const email = acme.people.admin.email;
      for (let i = 0; i < PER_EMAIL; i++)
        assert.equal(
          await signIn('127.0.0.2', email, `wrong-${i}`),
          '401 bad_credentials',
          `attempt ${i + 1}`,
        );
      assert.equal(await signIn('127.0.0.2', email, PASSWORD), '429 rate_limited');
      assert.equal(await signIn('127.0.0.3', email, PASSWORD), '429 rate_limited', 'the email is limited');
      assert.equal(
        await signIn('127.0.0.3', acme.people.member.email, PASSWORD),
        '200 signed in',
        'another email from another address is not',
      );
    });

    test('after 10 attempts from one address, any email from it is refused with 429; other addresses are not', async () => {
      for (let i = 0; i < PER_ADDRESS; i++)
        assert.equal(
          await signIn('127.0.0.4', `nobody-${i}@acme.test`, PASSWORD),
          '401 bad_credentials',
          `attempt ${i + 1}`,
        );
      const email = acme.people.auditor.email;
      assert.equal(await signIn('127.0.0.4', email, PASSWORD), '429 rate_limited');
      assert.equal(await signIn('127.0.0.5', email, PASSWORD), '200 signed in', 'the email itself is fine');
    });
  });
}
