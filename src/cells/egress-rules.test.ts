/** An org's egress rules: its explicit allowlist, its remote connections' hosts, its model providers' APIs. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig } from '../config/index.ts';
import { silentLogger } from '../log/index.ts';
import { buildDeps } from '../server/deps.ts';
import { call, createApp, type SeededOrg, seedOrg } from '../testing/fixtures.ts';
import { openTestStore, type TestStore } from '../testing/stores.ts';
import { egressRulesFor } from './egress-rules.ts';

let t: TestStore;
let app: ReturnType<typeof createApp>;
let deps: ReturnType<typeof buildDeps>;
let acme: SeededOrg;
let beta: SeededOrg;

before(async () => {
  t = await openTestStore('sqlite');
  deps = buildDeps(loadConfig({ home: t.home, port: 7070 }, {}), silentLogger, t.store, {});
  app = createApp(deps);
  acme = await seedOrg(t.store, 'acme');
  beta = await seedOrg(t.store, 'beta');
});
after(async () => {
  await deps?.audit.close();
  await t?.cleanup();
});

test('what an org declared it talks to is admitted; private addresses only by an explicit entry', async () => {
  const token = acme.people.admin.token;
  assert.deepEqual(await egressRulesFor(t.store.db, acme.id), [], 'nothing by default');
  await call(app, 'patch', '/api/v1/orgs/acme', {
    token: acme.people.owner.token,
    body: { settings: { egressAllowlist: [{ host: 'ollama.lan', port: 11434, allowPrivate: true }] } },
  });
  const key = await call(app, 'post', '/api/v1/orgs/acme/secrets', {
    token,
    body: { name: 'openai-prod', kind: 'model_key', provider: 'openai', value: 'sk-test-0123456789abcdef' },
  });
  assert.equal(key.status, 201, key.text);
  const conn = await call(app, 'post', '/api/v1/orgs/acme/connections', {
    token,
    body: { name: 'wiki', transport: 'http', url: 'https://MCP.Example.com:8443/mcp' },
  });
  assert.equal(conn.status, 201, conn.text);
  const rules = await egressRulesFor(t.store.db, acme.id);
  assert.deepEqual(rules, [
    { host: 'ollama.lan', port: 11434, allowPrivate: true },
    { host: 'mcp.example.com', port: 8443 },
    { host: 'api.openai.com', port: 443 },
  ]);
  assert.deepEqual(
    await egressRulesFor(t.store.db, beta.id),
    [],
    "one org's declarations open nothing for another",
  );
  assert.deepEqual(
    await egressRulesFor(t.store.db, acme.id, true),
    [
      { host: 'ollama.lan', port: 11434, allowPrivate: true },
      { host: 'api.openai.com', port: 443 },
    ],
    'the cell does not get the remote connections: only the gateway reaches them, under grants',
  );
});
