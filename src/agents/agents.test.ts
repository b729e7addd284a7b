/** Agents on SQLite and PostgreSQL: scopes, versions with diffs, the kill switch state, tokens. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';
import { authenticateAgentToken } from './tokens.ts';

const body = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  scope: 'organization',
  instructions: 'Triage new GitHub issues.',
  model: { provider: 'openai', model: 'gpt-5' },
  ...extra,
});

for (const kind of STORE_KINDS) {
  describe(`agents [${kind}]`, () => {
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

    test('an agent is created with its own identity, versioned on every change, with the diff audited', async () => {
      const made = await call(app, 'post', '/api/v1/orgs/acme/agents', {
        token: acme.people.admin.token,
        body: body('triage', { outputSchema: { type: 'object', properties: { label: { type: 'string' } } } }),
      });
      assert.equal(made.status, 201, made.text);
      assert.match(made.body.id, /^agt_/);
      assert.equal(made.body.state, 'active');
      const id = made.body.id;
      const changed = await call(app, 'patch', `/api/v1/orgs/acme/agents/${id}`, {
        token: acme.people.admin.token,
        body: {
          instructions: 'Triage and label new issues.',
          model: { provider: 'anthropic', model: 'claude-sonnet-5' },
        },
      });
      assert.equal(changed.body.version, 2);
      const versions = await call(app, 'get', `/api/v1/orgs/acme/agents/${id}/versions`, {
        token: acme.people.auditor.token,
      });
      assert.deepEqual(
        versions.body.versions.map((v: any) => v.version),
        [2, 1],
      );
      assert.equal(versions.body.versions[1].snapshot.instructions, 'Triage new GitHub issues.');
      const audit = await call(app, 'get', '/api/v1/orgs/acme/audit?action=agent.updated', {
        token: acme.people.auditor.token,
      });
      const changes = audit.body.events[0].details.changes;
      assert.deepEqual(Object.keys(changes).sort(), ['instructions', 'model']);
      assert.equal(changes.instructions.before, 'Triage new GitHub issues.');
      assert.equal(changes.model.after.provider, 'anthropic');
      const same = await call(app, 'patch', `/api/v1/orgs/acme/agents/${id}`, {
        token: acme.people.admin.token,
        body: { name: 'triage' },
      });
      assert.equal(same.body.version, 2, 'no change, no new version');
      const bad = await call(app, 'post', '/api/v1/orgs/acme/agents', {
        token: acme.people.admin.token,
        body: body('x', { outputSchema: { nope: 1 } }),
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'invalid_output_schema');
    });

    test('an output schema Ajv cannot compile, and checks that could not run safely, are refused when saved; good ones are kept and versioned', async () => {
      const as = (method: 'post' | 'patch', path: string, b: unknown) =>
        call(app, method, `/api/v1/orgs/acme${path}`, { token: acme.people.admin.token, body: b });
      const badSchema = await as('post', '/agents', body('schema-x', { outputSchema: { type: 'objekt' } }));
      assert.deepEqual([badSchema.status, badSchema.body.error.code], [400, 'invalid_output_schema']);
      const unsafe = await as(
        'post',
        '/agents',
        body('checks-x', {
          checks: {
            rules: [{ name: 'nested', match: 'pattern', pattern: '^(\\w+\\s?)+!$', action: 'block' }],
          },
        }),
      );
      assert.deepEqual([unsafe.status, unsafe.body.error.code], [400, 'unsafe_check_pattern'], unsafe.text);
      assert.match(unsafe.body.error.message, /nested.*catastrophically/);
      const unknown = await as(
        'post',
        '/agents',
        body('checks-y', { checks: { rules: [{ name: 'x', match: 'phone_numbers', action: 'block' }] } }),
      );
      assert.equal(unknown.status, 400);
      const listed = await call(app, 'get', '/api/v1/orgs/acme/agents', { token: acme.people.admin.token });
      assert.ok(!listed.body.agents.some((a: any) => /^(schema|checks)-/.test(a.name)), 'nothing was saved');

      const made = await as(
        'post',
        '/agents',
        body('checked', {
          scope: 'private',
          checks: {
            rules: [
              { name: 'cards', match: 'card_numbers', action: 'block', on: ['output', 'tool_args'] },
              { name: 'ticket', match: 'pattern', pattern: 'ACME-[0-9]{6}', flags: 'i', action: 'redact' },
            ],
          },
        }),
      );
      assert.equal(made.status, 201, made.text);
      assert.deepEqual(made.body.checks.rules[1].on, ['output'], 'a rule checks answers unless told');
      assert.equal(made.body.checks.streaming, 'hold_back');
      assert.equal(made.body.checks.holdBackChars, 256);
      const changed = await as('patch', `/agents/${made.body.id}`, {
        checks: { ...made.body.checks, streaming: 'final' },
      });
      assert.equal(changed.body.version, 2);
      assert.equal(changed.body.checks.streaming, 'final');
      const versions = await call(app, 'get', `/api/v1/orgs/acme/agents/${made.body.id}/versions`, {
        token: acme.people.auditor.token,
      });
      assert.equal(versions.body.versions[1].snapshot.checks.streaming, 'hold_back');
      const gone = await call(app, 'delete', `/api/v1/orgs/acme/agents/${made.body.id}`, {
        token: acme.people.admin.token,
      });
      assert.equal(gone.status, 204);
    });

    test('scope decides who sees an agent; members change only their own', async () => {
      const member = acme.people.member.token;
      const mine = await call(app, 'post', '/api/v1/orgs/acme/agents', {
        token: member,
        body: body('mine', { scope: 'private' }),
      });
      assert.equal(mine.status, 201, mine.text);
      const theirs = await call(app, 'post', '/api/v1/orgs/acme/agents', {
        token: acme.people.admin.token,
        body: body('admins-private', { scope: 'private' }),
      });
      const team = await call(app, 'post', '/api/v1/orgs/acme/teams', {
        token: acme.people.admin.token,
        body: { name: 'support' },
      });
      const teamAgent = await call(app, 'post', '/api/v1/orgs/acme/agents', {
        token: acme.people.admin.token,
        body: body('support-bot', { scope: 'team', teamId: team.body.id }),
      });
      assert.equal(teamAgent.status, 201, teamAgent.text);
      const seen = async () =>
        (await call(app, 'get', '/api/v1/orgs/acme/agents', { token: member })).body.agents
          .map((a: any) => a.name)
          .sort();
      assert.deepEqual(await seen(), ['mine', 'triage']);
      await call(app, 'put', `/api/v1/orgs/acme/teams/${team.body.id}/members/${acme.people.member.id}`, {
        token: acme.people.admin.token,
      });
      assert.deepEqual(await seen(), ['mine', 'support-bot', 'triage']);
      assert.equal(
        (await call(app, 'get', `/api/v1/orgs/acme/agents/${theirs.body.id}`, { token: member })).status,
        404,
      );
      const notMine = await call(app, 'patch', `/api/v1/orgs/acme/agents/${teamAgent.body.id}`, {
        token: member,
        body: { instructions: 'x' },
      });
      assert.equal(notMine.status, 403);
      assert.equal(
        (await call(app, 'get', '/api/v1/orgs/acme/agents', { token: acme.people.auditor.token })).body.agents
          .length,
        4,
      );
      // Leaving team scope drops the team; an explicit team with another scope is refused.
      const toOrg = await call(app, 'patch', `/api/v1/orgs/acme/agents/${teamAgent.body.id}`, {
        token: acme.people.admin.token,
        body: { scope: 'organization' },
      });
      assert.equal(toOrg.status, 200, toOrg.text);
      assert.equal(toOrg.body.teamId, null);
      const mixed = await call(app, 'patch', `/api/v1/orgs/acme/agents/${teamAgent.body.id}`, {
        token: acme.people.admin.token,
        body: { scope: 'private', teamId: team.body.id },
      });
      assert.equal(mixed.status, 400);
      const back = await call(app, 'patch', `/api/v1/orgs/acme/agents/${teamAgent.body.id}`, {
        token: acme.people.admin.token,
        body: { scope: 'team', teamId: team.body.id },
      });
      assert.equal(back.body.teamId, team.body.id);
      assert.equal(
        (
          await call(app, 'post', '/api/v1/orgs/acme/agents', {
            token: acme.people.auditor.token,
            body: body('aud'),
          })
        ).status,
        403,
      );
      // Another org's owner, on their own org's path, cannot name this org's agent.
      for (const [method, path, body] of [
        ['get', `/agents/${mine.body.id}`, undefined],
        ['get', `/agents/${mine.body.id}/versions`, undefined],
        ['patch', `/agents/${mine.body.id}`, { name: 'taken' }],
        ['post', `/agents/${mine.body.id}/stop`, undefined],
        ['post', `/agents/${mine.body.id}/tokens`, { name: 'stolen' }],
        ['delete', `/agents/${mine.body.id}`, undefined],
      ] as const) {
        const r = await call(app, method, `/api/v1/orgs/other${path}`, {
          token: other.people.owner.token,
          body,
        });
        assert.equal(r.status, 404, `${method} ${path}: ${r.text}`);
        assert.equal(r.body.error.code, 'agent_not_found');
      }
      const still = await call(app, 'get', `/api/v1/orgs/acme/agents/${mine.body.id}`, { token: member });
      assert.deepEqual([still.body.name, still.body.state], ['mine', 'active']);
    });

    test("an agent's model key is a secret of its own org", async () => {
      const secret = async (org: SeededOrg) => {
        const r = await call(app, 'post', `/api/v1/orgs/${org.slug}/secrets`, {
          token: org.people.owner.token,
          body: { name: 'openai', kind: 'model_key', provider: 'openai', value: `sk-${org.slug}-0123456789` },
        });
        assert.equal(r.status, 201, r.text);
        return r.body.id as string;
      };
      const ours = await secret(acme);
      const theirs = await secret(other);
      const model = (secretId: string) => ({ provider: 'openai', model: 'gpt-5', secretId });
      const made = await call(app, 'post', '/api/v1/orgs/acme/agents', {
        token: acme.people.owner.token,
        body: body('byok', { model: model(ours) }),
      });
      assert.equal(made.status, 201, made.text);
      for (const [method, path] of [
        ['post', '/api/v1/orgs/acme/agents'],
        ['patch', `/api/v1/orgs/acme/agents/${made.body.id}`],
      ] as const) {
        const r = await call(app, method, path, {
          token: acme.people.owner.token,
          body: body('byok-theirs', { model: model(theirs) }),
        });
        assert.equal(r.status, 404, `${method} ${path}: ${r.text}`);
        assert.equal(r.body.error.code, 'secret_not_found');
      }
    });

    test('stop and resume are audited and idempotent', async () => {
      const list = (await call(app, 'get', '/api/v1/orgs/acme/agents', { token: acme.people.admin.token }))
        .body.agents;
      const id = list.find((a: any) => a.name === 'triage').id;
      const stopped = await call(app, 'post', `/api/v1/orgs/acme/agents/${id}/stop`, {
        token: acme.people.admin.token,
      });
      assert.equal(stopped.body.state, 'stopped');
      await call(app, 'post', `/api/v1/orgs/acme/agents/${id}/stop`, { token: acme.people.admin.token });
      const resumed = await call(app, 'post', `/api/v1/orgs/acme/agents/${id}/resume`, {
        token: acme.people.owner.token,
      });
      assert.equal(resumed.body.state, 'active');
      const actions = (
        await call(app, 'get', '/api/v1/orgs/acme/audit?action=agent.*&order=asc', {
          token: acme.people.auditor.token,
        })
      ).body.events.map((e: any) => e.action);
      assert.equal(actions.filter((a: string) => a === 'agent.stopped').length, 1);
      assert.ok(actions.includes('agent.resumed'));
    });

    test('agent tokens: shown once, stored hashed, revocable, bound to their agent', async () => {
      const list = (await call(app, 'get', '/api/v1/orgs/acme/agents', { token: acme.people.admin.token }))
        .body.agents;
      const id = list.find((a: any) => a.name === 'triage').id;
      const made = await call(app, 'post', `/api/v1/orgs/acme/agents/${id}/tokens`, {
        token: acme.people.admin.token,
        body: { name: 'claude code' },
      });
      assert.equal(made.status, 201);
      assert.match(made.body.token, /^pda_/);
      const who = await authenticateAgentToken(t.store.db, made.body.token);
      assert.equal(who.agentId, id);
      const listed = await call(app, 'get', `/api/v1/orgs/acme/agents/${id}/tokens`, {
        token: acme.people.auditor.token,
      });
      assert.ok(!listed.text.includes(made.body.token));
      const stored = JSON.stringify(await t.store.db.selectFrom('agent_tokens').selectAll().execute());
      assert.ok(!stored.includes(made.body.token.slice(4)));
      const revoked = await call(
        app,
        'delete',
        `/api/v1/orgs/acme/agents/${id}/tokens/${made.body.info.id}`,
        { token: acme.people.admin.token },
      );
      assert.ok(revoked.body.revokedAt);
      await assert.rejects(
        authenticateAgentToken(t.store.db, made.body.token),
        (e: any) => e.code === 'token_revoked',
      );
      // An agent token is not an API token: it opens nothing on the management API.
      assert.equal((await call(app, 'get', '/api/v1/orgs/acme', { token: made.body.token })).status, 401);
    });

    test('a token checked lately is checked afresh once anything changed: a stop or resume here at once, a revocation by another process (a CLI command) within a second', async () => {
      const admin = { token: acme.people.admin.token };
      const agent = await call(app, 'post', '/api/v1/orgs/acme/agents', { ...admin, body: body('fresh') });
      const id = agent.body.id;
      const made = await call(app, 'post', `/api/v1/orgs/acme/agents/${id}/tokens`, {
        ...admin,
        body: { name: 'fresh' },
      });
      const standing = async () => (await authenticateAgentToken(t.store.db, made.body.token)).standing;
      assert.equal((await standing()).agentState, 'active');
      assert.equal((await standing()).agentState, 'active', 'checked again, unchanged');
      await call(app, 'post', `/api/v1/orgs/acme/agents/${id}/stop`, admin);
      assert.equal((await standing()).agentState, 'stopped', 'the stop seen at once');
      await call(app, 'post', `/api/v1/orgs/acme/agents/${id}/resume`, admin);
      assert.equal((await standing()).agentState, 'active', 'the resume seen at once');
      // Another process writes the database: a second connection, as a CLI command's.
      const revokedAt = new Date().toISOString();
      if (kind === 'sqlite') {
        const other = new DatabaseSync(join(t.home, 'paddock.db'));
        other
          .prepare('UPDATE agent_tokens SET revoked_at = ? WHERE id = ?')
          .run(revokedAt, made.body.info.id);
        other.close();
      } else
        await t.store.db
          .updateTable('agent_tokens')
          .set({ revoked_at: revokedAt })
          .where('id', '=', made.body.info.id)
          .execute();
      const started = Date.now();
      await until(
        () =>
          authenticateAgentToken(t.store.db, made.body.token).then(
            () => false,
            (e: { code?: string }) => e.code === 'token_revoked',
          ),
        { what: 'the revocation seen', timeoutMs: 3000 },
      );
      assert.ok(Date.now() - started < 1500, `seen after ${Date.now() - started} ms`);
    });
  });
}
