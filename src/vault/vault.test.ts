/** The vault on SQLite and PostgreSQL: envelope encryption, key rotation, secrets that never come back out. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { PLATFORM_LOG } from '../audit/index.ts';
import { initOrg, operatorCaller, trustedScope } from '../identity/index.ts';
import { createLogger } from '../log/index.ts';
import { allAuditEntries, call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { databaseSnapshot, snapshotDiff } from '../testing/snapshot.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { keyFile, localKeyring, openSecret, rewrapDataKeys, Vault, writeKeyFile } from './index.ts';

for (const kind of STORE_KINDS) {
  describe(`vault [${kind}]`, () => {
    let t: TestStore;
    let orgA: string;
    let orgB: string;
    before(async () => {
      t = await openTestStore(kind);
      orgA = (await initOrg(t.store.db, operatorCaller(), { slug: 'a', ownerEmail: 'o@a.test' })).org.id;
      orgB = (await initOrg(t.store.db, operatorCaller(), { slug: 'b', ownerEmail: 'o@b.test' })).org.id;
    });
    after(async () => t?.cleanup());

    test('the key file is made once, readable by its owner only', () => {
      const id = localKeyring(t.home, {}).current().id;
      assert.equal(statSync(keyFile(t.home)).mode & 0o777, 0o600);
      assert.equal(localKeyring(t.home, {}).current().id, id);
    });

    test('a sealed value opens only for its own org, secret id and version', async () => {
      const vault = new Vault(localKeyring(t.home, {}));
      const ref = { orgId: orgA, secretId: 'sec_1', version: 1 };
      const sealed = await vault.seal(t.store.db, ref, 'canary-model-key-77');
      assert.ok(!sealed.includes('canary'));
      assert.equal(await vault.open(t.store.db, ref, sealed), 'canary-model-key-77');
      assert.equal(
        await new Vault(localKeyring(t.home, {})).open(t.store.db, ref, sealed),
        'canary-model-key-77',
      );
      await assert.rejects(vault.open(t.store.db, { ...ref, orgId: orgB }, sealed));
      await assert.rejects(vault.open(t.store.db, { ...ref, secretId: 'sec_2' }, sealed));
      await assert.rejects(vault.open(t.store.db, { ...ref, version: 2 }, sealed));
      const keys = await t.store.db.selectFrom('vault_keys').selectAll().execute();
      assert.equal(new Set(keys.map((k) => k.org_id)).size, keys.length, 'one data key per org');
    });

    test('a wrong master key opens nothing; a malformed one is refused', async () => {
      const ref = { orgId: orgA, secretId: 'sec_1', version: 1 };
      const sealed = await new Vault(localKeyring(t.home, {})).seal(t.store.db, ref, 'x'.repeat(10));
      const other = new Vault(
        localKeyring(t.home, { PADDOCK_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') }),
      );
      await assert.rejects(other.open(t.store.db, ref, sealed));
      assert.throws(() => localKeyring(t.home, { PADDOCK_MASTER_KEY: 'short' }), /32 bytes/);
    });

    test('rotating the KEK re-wraps data keys only; every secret still opens; the old key can then go', async () => {
      const vault = new Vault(localKeyring(t.home, {}));
      const ref = { orgId: orgB, secretId: 'sec_r', version: 1 };
      const sealed = await vault.seal(t.store.db, ref, 'rotate-me-please');
      const before = await t.store.db.selectFrom('vault_keys').selectAll().orderBy('org_id').execute();
      const oldKeys = readFileSync(keyFile(t.home), 'utf8')
        .trim()
        .split('\n')
        .map((l) => Buffer.from(l, 'base64'));
      writeKeyFile(t.home, [randomBytes(32), ...oldKeys]);
      const ring = localKeyring(t.home, {});
      const r = await rewrapDataKeys(t.store.db, ring);
      assert.equal(r.rewrapped, before.length);
      const afterRows = await t.store.db.selectFrom('vault_keys').selectAll().orderBy('org_id').execute();
      assert.ok(afterRows.every((k) => k.kek_id === ring.current().id));
      assert.ok(afterRows.every((k, i) => k.wrapped_key !== before[i]!.wrapped_key));
      assert.equal((await rewrapDataKeys(t.store.db, ring)).rewrapped, 0, 'running it again changes nothing');
      writeKeyFile(t.home, [Buffer.from(readFileSync(keyFile(t.home), 'utf8').split('\n')[0]!, 'base64')]);
      assert.equal(
        await new Vault(localKeyring(t.home, {})).open(t.store.db, ref, sealed),
        'rotate-me-please',
      );
    });
  });

  describe(`secrets over the API [${kind}]`, () => {
    let t: TestStore;
    let app: ReturnType<typeof createApp>;
    let deps: ReturnType<typeof testDeps>;
    let acmeId: string;
    let owner: string;
    let admin: string;
    let auditor: string;
    let member: string;
    let other: SeededOrg;
    const logged: string[] = [];
    const canary = `sk-canary${randomBytes(12).toString('hex')}`;

    before(async () => {
      t = await openTestStore(kind);
      const sink = new Writable({
        write(c, _e, cb) {
          logged.push(String(c));
          cb();
        },
      });
      deps = testDeps(t.store, t.home, { log: createLogger({ destination: sink, level: 'debug' }) });
      app = createApp(deps);
      const org = await seedOrg(t.store, 'acme');
      acmeId = org.id;
      owner = org.people.owner.token;
      admin = org.people.admin.token;
      auditor = org.people.auditor.token;
      member = org.people.member.token;
      other = await seedOrg(t.store, 'other');
    });
    after(async () => t?.cleanup());

    test('a model key goes in, only metadata comes out, and it never appears anywhere in clear', async () => {
      const made = await call(app, 'post', '/api/v1/orgs/acme/secrets', {
        token: admin,
        body: { name: 'OpenAI production', kind: 'model_key', provider: 'openai', value: canary },
      });
      assert.equal(made.status, 201, made.text);
      assert.equal(made.body.hint, `…${canary.slice(-4)}`);
      assert.equal(made.body.version, 1);
      const id = made.body.id;
      const rotated = await call(app, 'put', `/api/v1/orgs/acme/secrets/${id}/value`, {
        token: owner,
        body: { value: `${canary}-v2` },
      });
      assert.equal(rotated.status, 200, rotated.text);
      assert.equal(rotated.body.version, 2);
      assert.ok(rotated.body.rotatedAt);
      const listed = await call(app, 'get', '/api/v1/orgs/acme/secrets', { token: auditor });
      const one = await call(app, 'get', `/api/v1/orgs/acme/secrets/${id}`, { token: auditor });
      const audit = await call(app, 'get', '/api/v1/orgs/acme/audit/export?format=jsonl', { token: auditor });
      const db = JSON.stringify([
        await t.store.db.selectFrom('secrets').selectAll().execute(),
        await t.store.db.selectFrom('vault_keys').selectAll().execute(),
        await allAuditEntries(t.store),
      ]);
      // A refused request that carries the key must not echo it back either.
      const bad = await call(app, 'post', '/api/v1/orgs/acme/secrets', {
        token: admin,
        body: { name: 'x', kind: 'nope', value: canary },
      });
      assert.equal(bad.status, 400);
      for (const [where, text] of [
        ['create response', made.text],
        ['rotate response', rotated.text],
        ['list', listed.text],
        ['read', one.text],
        ['audit export', audit.text],
        ['database', db],
        ['logs', logged.join('')],
        ['error response', bad.text],
      ] as const) {
        assert.ok(!text.includes(canary.slice(0, 20)), `the key appears in the ${where}`);
      }
      // Still there for the org's own cell: sealed, version 2.
      assert.equal(await openSecret(t.store.db, deps.vault, trustedScope(acmeId), id), `${canary}-v2`);
    });

    test('who may do what: members and auditors cannot manage; other orgs cannot see', async () => {
      const agent = async (org: string, name: string, token: string) => {
        const r = await call(app, 'post', `/api/v1/orgs/${org}/agents`, {
          token,
          body: {
            name,
            scope: 'organization',
            instructions: 'x',
            model: { provider: 'openai', model: 'gpt-5' },
          },
        });
        assert.equal(r.status, 201, r.text);
        return r.body.id as string;
      };
      const [a, b] = [await agent('acme', 'a', owner), await agent('acme', 'b', owner)];
      const made = await call(app, 'post', '/api/v1/orgs/acme/secrets', {
        token: owner,
        body: {
          name: 'GitHub app',
          kind: 'connector_credential',
          value: 'ghs_0123456789abcdef',
          agentIds: [b, a],
        },
      });
      assert.equal(made.status, 201, made.text);
      assert.deepEqual(made.body.agentIds, [a, b].sort());
      // Scoped to agents of its own org only: another org's agent is no agent here.
      const theirs = await agent('other', 'theirs', other.people.owner.token);
      for (const [method, path, body] of [
        [
          'post',
          '/api/v1/orgs/acme/secrets',
          { name: 'x', kind: 'other', value: '12345678', agentIds: [theirs] },
        ],
        ['patch', `/api/v1/orgs/acme/secrets/${made.body.id}`, { agentIds: [a, theirs] }],
      ] as const) {
        const refused = await call(app, method, path, { token: owner, body });
        assert.equal(refused.status, 404, refused.text);
        assert.equal(refused.body.error.code, 'agent_not_found');
      }
      assert.equal((await call(app, 'get', '/api/v1/orgs/acme/secrets', { token: member })).status, 403);
      assert.equal(
        (await call(app, 'post', '/api/v1/orgs/acme/secrets', { token: auditor, body: {} })).status,
        403,
      );
      // Another org's owner, on their own org's path, cannot name this org's secret.
      const foreign = await call(app, 'get', `/api/v1/orgs/other/secrets/${made.body.id}`, {
        token: other.people.owner.token,
      });
      assert.equal(foreign.status, 404);
      assert.equal(foreign.body.error.code, 'secret_not_found');
      const dup = await call(app, 'post', '/api/v1/orgs/acme/secrets', {
        token: owner,
        body: { name: 'GitHub app', kind: 'other', value: '12345678' },
      });
      assert.equal(dup.status, 409);
      const scoped = await call(app, 'patch', `/api/v1/orgs/acme/secrets/${made.body.id}`, {
        token: admin,
        body: { agentIds: null },
      });
      assert.equal(scoped.body.agentIds, null);
      const gone = await call(app, 'delete', `/api/v1/orgs/acme/secrets/${made.body.id}`, { token: admin });
      assert.equal(gone.status, 204);
      const actions = (
        await call(app, 'get', '/api/v1/orgs/acme/audit?action=secret.*&order=asc', { token: auditor })
      ).body.events.map((e: any) => e.action);
      for (const a of ['secret.created', 'secret.rotated', 'secret.scope.changed', 'secret.deleted'])
        assert.ok(actions.includes(a), a);
    });

    test("a model key names a provider Paddock can call; a typo is refused, and a secret's provider can be corrected, on record", async () => {
      const add = (body: Record<string, unknown>) =>
        call(app, 'post', '/api/v1/orgs/acme/secrets', {
          token: admin,
          body: { kind: 'model_key', value: 'sk-provider-0123456789', ...body },
        });
      for (const provider of ['opneai', null, undefined, 'demo']) {
        const r = await add({ name: `typo-${provider}`, ...(provider === undefined ? {} : { provider }) });
        assert.deepEqual([r.status, r.body.error?.code], [400, 'unknown_provider'], String(provider));
        assert.match(r.body.error.message, /openai, anthropic, google, openai-compatible/);
      }
      const vendor = await call(app, 'post', '/api/v1/orgs/acme/secrets', {
        token: admin,
        body: { name: 'gh-token', kind: 'connector_credential', provider: 'githbu', value: '0123456789ab' },
      });
      assert.equal(vendor.status, 201, 'another secret names its vendor freely');
      const fixed = await call(app, 'patch', `/api/v1/orgs/acme/secrets/${vendor.body.id}`, {
        token: admin,
        body: { provider: 'github' },
      });
      assert.equal(fixed.status, 200, fixed.text);
      assert.equal(fixed.body.provider, 'github');
      const key = await add({ name: 'anthropic-prod', provider: 'anthropic' });
      assert.equal(key.status, 201, key.text);
      const wrong = await call(app, 'patch', `/api/v1/orgs/acme/secrets/${key.body.id}`, {
        token: admin,
        body: { provider: 'anthropics' },
      });
      assert.deepEqual([wrong.status, wrong.body.error?.code], [400, 'unknown_provider']);
      const moved = await call(app, 'patch', `/api/v1/orgs/acme/secrets/${key.body.id}`, {
        token: admin,
        body: { provider: 'openai-compatible' },
      });
      assert.equal(moved.body.provider, 'openai-compatible');
      const changes = (await allAuditEntries(t.store)).filter((e) => e.action === 'secret.provider.changed');
      assert.equal(changes.length, 2, 'each correction is on record');
    });

    test("a refused scope (another org's agent, or a made-up id) changes nothing at all", async () => {
      const agent = async (org: string, name: string, token: string) => {
        const r = await call(app, 'post', `/api/v1/orgs/${org}/agents`, {
          token,
          body: {
            name,
            scope: 'organization',
            instructions: 'x',
            model: { provider: 'openai', model: 'gpt-5' },
          },
        });
        assert.equal(r.status, 201, r.text);
        return r.body.id as string;
      };
      const ours = await agent('acme', 'scoped-ours', owner);
      const theirs = await agent('other', 'scoped-theirs', other.people.owner.token);
      const made = await call(app, 'post', '/api/v1/orgs/acme/secrets', {
        token: admin,
        body: { name: 'scoped', kind: 'other', value: '0123456789', agentIds: [ours] },
      });
      assert.equal(made.status, 201, made.text);
      // The trail settled (entries placed, both heads signed): a checkpoint it would sign on its
      // own a moment later (`checkpointIntervalMs`) is not something these requests changed. The
      // platform's log grew too, when the orgs were made.
      await deps.audit.checkpoint(acmeId);
      await deps.audit.checkpoint(other.id);
      await deps.audit.checkpoint(PLATFORM_LOG);
      const before = await databaseSnapshot(t.store);
      for (const agentIds of [[theirs], [ours, theirs], ['agt_madeup']]) {
        const created = await call(app, 'post', '/api/v1/orgs/acme/secrets', {
          token: admin,
          body: { name: `scoped ${agentIds.length}`, kind: 'other', value: '0123456789', agentIds },
        });
        const widened = await call(app, 'patch', `/api/v1/orgs/acme/secrets/${made.body.id}`, {
          token: admin,
          body: { agentIds },
        });
        for (const r of [created, widened]) {
          assert.equal(r.status, 404, r.text);
          assert.equal(r.body.error.code, 'agent_not_found');
        }
      }
      await deps.audit.flush();
      assert.deepEqual(snapshotDiff(before, await databaseSnapshot(t.store)), []);
    });
  });
}
