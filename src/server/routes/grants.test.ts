/** Grants over the API on SQLite and PostgreSQL: the dry-run check names only connections the caller can see. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, createApp, type SeededOrg, seedOrg, testDeps } from '../../testing/fixtures.ts';
import { EVERYTHING } from '../../testing/served.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../../testing/stores.ts';

for (const kind of STORE_KINDS) {
  describe(`grants check [${kind}]`, () => {
    let t: TestStore;
    let app: ReturnType<typeof createApp>;
    let acme: SeededOrg;
    let other: SeededOrg;

    before(async () => {
      t = await openTestStore(kind);
      app = createApp(testDeps(t.store, t.home));
      acme = await seedOrg(t.store, 'acme');
      other = await seedOrg(t.store, 'other');
    });
    after(async () => t?.cleanup());

    /** Made without starting it: a connection's row is all the check reads. */
    async function newConnection(org: SeededOrg, name: string, token: string, priv = false) {
      const made = await call(app, 'post', `/api/v1/orgs/${org.slug}/connections`, {
        token,
        body: {
          name,
          transport: 'stdio',
          command: 'node',
          args: EVERYTHING,
          ...(priv ? { private: true } : {}),
        },
      });
      assert.equal(made.status, 201, made.text);
      return made.body.id as string;
    }

    test("another org's connection, or someone's private one for a member, is 404 connection_not_found", async () => {
      const agent = await call(app, 'post', '/api/v1/orgs/acme/agents', {
        token: acme.people.owner.token,
        body: {
          name: 'checker',
          scope: 'organization',
          instructions: 'x',
          model: { provider: 'openai', model: 'gpt-5' },
        },
      });
      assert.equal(agent.status, 201, agent.text);
      const ours = await newConnection(acme, 'ours', acme.people.admin.token);
      const theirs = await newConnection(other, 'theirs', other.people.admin.token);
      const adminsOwn = await newConnection(acme, 'admins-own', acme.people.admin.token, true);
      const check = (connectionId: string, token: string) =>
        call(app, 'post', `/api/v1/orgs/acme/agents/${agent.body.id}/grants/check`, {
          token,
          body: { connectionId, tool: 'echo', args: { message: 'hi' } },
        });

      const own = await check(ours, acme.people.member.token);
      assert.equal(own.status, 200, own.text);
      assert.equal(own.body.allowed, false, 'default deny');

      for (const token of [acme.people.owner.token, acme.people.member.token, acme.people.auditor.token]) {
        const foreign = await check(theirs, token);
        assert.equal(foreign.status, 404, foreign.text);
        assert.equal(foreign.body.error.code, 'connection_not_found');
      }
      const hidden = await check(adminsOwn, acme.people.member.token);
      assert.equal(hidden.status, 404, hidden.text);
      assert.equal(hidden.body.error.code, 'connection_not_found');
      assert.equal((await check(adminsOwn, acme.people.admin.token)).status, 200);
      // Granting names connections the same way.
      const grant = await call(app, 'post', `/api/v1/orgs/acme/agents/${agent.body.id}/grants`, {
        token: acme.people.owner.token,
        body: { connectionId: theirs, tool: 'echo' },
      });
      assert.equal(grant.status, 404, grant.text);
      assert.equal(grant.body.error.code, 'connection_not_found');
    });

    test('a grant on an argument the tool lacks is refused naming the arguments it has, and nothing is made', async () => {
      const agent = await call(app, 'post', '/api/v1/orgs/acme/agents', {
        token: acme.people.owner.token,
        body: {
          name: 'reader',
          scope: 'organization',
          instructions: 'x',
          model: { provider: 'openai', model: 'gpt-5' },
        },
      });
      assert.equal(agent.status, 201, agent.text);
      const connectionId = await newConnection(acme, 'files', acme.people.admin.token);
      // As a listing stores it (listing needs the sandbox; the grant reads the stored schema only).
      await t.store.db
        .insertInto('connection_tools')
        .values({
          org_id: acme.id,
          connection_id: connectionId,
          name: 'read_file',
          description: 'Reads a file',
          input_schema: JSON.stringify({
            type: 'object',
            properties: { path: { type: 'string' }, encoding: { type: 'string' } },
          }),
          extras: null,
          digest: 'v3:test',
          seen_at: new Date().toISOString(),
        })
        .execute();
      const grant = await call(app, 'post', `/api/v1/orgs/acme/agents/${agent.body.id}/grants`, {
        token: acme.people.owner.token,
        body: { connectionId, tool: 'read_file', constraints: [{ arg: 'file', prefix: '/srv/' }] },
      });
      assert.equal(grant.status, 400, grant.text);
      assert.equal(grant.body.error.code, 'invalid_grant');
      assert.equal(
        grant.body.error.message,
        '"read_file" has no argument "file". Its arguments: "path", "encoding".',
      );
      const list = await call(app, 'get', `/api/v1/orgs/acme/agents/${agent.body.id}/grants`, {
        token: acme.people.owner.token,
      });
      assert.deepEqual(list.body.grants, [], 'no grant made');
    });

    test('a connection may be granted sampling or elicitation, with no constraints or approval, and listed by kind', async () => {
      const agent = await call(app, 'post', '/api/v1/orgs/acme/agents', {
        token: acme.people.owner.token,
        body: {
          name: 'asked',
          scope: 'organization',
          instructions: 'x',
          model: { provider: 'openai', model: 'gpt-5' },
        },
      });
      const connectionId = await newConnection(acme, 'askers', acme.people.admin.token);
      const path = `/api/v1/orgs/acme/agents/${agent.body.id}/grants`;
      const post = (body: Record<string, unknown>) =>
        call(app, 'post', path, { token: acme.people.owner.token, body });
      const sampling = await post({ connectionId, sampling: true });
      assert.equal(sampling.status, 201, sampling.text);
      assert.equal(sampling.body.kind, 'sampling');
      assert.equal(sampling.body.tool, undefined);
      const elicitation = await post({ connectionId, elicitation: true, effect: 'deny' });
      assert.equal(elicitation.body.kind, 'elicitation');
      assert.equal(elicitation.body.effect, 'deny');
      for (const bad of [
        { connectionId, sampling: true, requiresApproval: true },
        { connectionId, elicitation: true, constraints: [{ arg: 'x', prefix: 'y' }] },
      ]) {
        const r = await post(bad);
        assert.equal(r.status, 400, r.text);
        assert.equal(r.body.error.code, 'invalid_grant');
      }
      const both = await post({ connectionId, sampling: true, tool: 'x' });
      assert.equal(both.status, 400, both.text);
      const list = await call(app, 'get', path, { token: acme.people.owner.token });
      assert.deepEqual(list.body.grants.map((g: { kind: string }) => g.kind).sort(), [
        'elicitation',
        'sampling',
      ]);
      const checked = await call(app, 'post', `${path}/check`, {
        token: acme.people.owner.token,
        body: { connectionId, tool: 'anything' },
      });
      assert.equal(checked.body.allowed, false, 'a sampling grant allows no tool');
      // What they add up to, per connection and kind: sampling allowed; elicitation denied by its deny grant.
      const permissions = await call(app, 'get', `/api/v1/orgs/acme/agents/${agent.body.id}/permissions`, {
        token: acme.people.member.token,
      });
      assert.equal(permissions.status, 200, permissions.text);
      assert.deepEqual(
        permissions.body.asks.map((a: any) => [a.ask, a.connectionName, a.access, a.grants]),
        [
          ['sampling', 'askers', 'allowed', [sampling.body.id]],
          ['elicitation', 'askers', 'denied', [elicitation.body.id]],
        ],
      );
      assert.deepEqual(permissions.body.tools, [], 'no tool from either');
      const revoked = await call(app, 'delete', `${path}/${sampling.body.id}`, {
        token: acme.people.owner.token,
      });
      assert.equal(revoked.status, 200, revoked.text);
      const after = await call(app, 'get', `/api/v1/orgs/acme/agents/${agent.body.id}/permissions`, {
        token: acme.people.owner.token,
      });
      assert.deepEqual(
        after.body.asks.map((a: any) => a.ask),
        ['elicitation'],
        'a revoked grant adds nothing',
      );
    });
  });
}
