/**
 * Removing a person, through the API on both engines: every credential they issued stops working,
 * the preview shows exactly what the removal then ends, their private agents and connections are
 * handed over or deleted as chosen, service tokens are kept or revoked as chosen, and bad input
 * changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createAgentToken } from '../agents/index.ts';
import {
  addMembership,
  authenticateSession,
  authenticateToken,
  createSession,
  createSigninLink,
  holdMembership,
  operatorCaller,
  orgAccess,
  trustedScope,
} from '../identity/index.ts';
import { allAuditEntries, call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { databaseSnapshot, snapshotDiff } from '../testing/snapshot.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';

const MODEL = { provider: 'openai', model: 'gpt-5' };
const MCP_HEADERS = { accept: 'application/json, text/event-stream' };

for (const kind of STORE_KINDS) {
  describe(`removing a person [${kind}]`, () => {
    let t: TestStore;
    let deps: ReturnType<typeof testDeps>;
    let app: ReturnType<typeof createApp>;

    before(async () => {
      t = await openTestStore(kind);
      deps = testDeps(t.store, t.home);
      app = createApp(deps);
    });
    after(async () => {
      await t?.cleanup();
    });

    const api = (
      org: SeededOrg,
      method: 'get' | 'post' | 'delete' | 'patch',
      path: string,
      token: string,
      body?: unknown,
    ) =>
      call(app, method, `/api/v1/orgs/${org.slug}${path}`, {
        token,
        ...(body === undefined ? {} : { body }),
      });

    async function agent(org: SeededOrg, token: string, name: string, scope = 'organization') {
      const a = await api(org, 'post', '/agents', token, { name, scope, instructions: 'x', model: MODEL });
      assert.equal(a.status, 201, a.text);
      return a.body.id as string;
    }

    async function agentToken(org: SeededOrg, token: string, agentId: string, name: string) {
      const r = await api(org, 'post', `/agents/${agentId}/tokens`, token, { name });
      assert.equal(r.status, 201, r.text);
      return { id: r.body.info.id as string, token: r.body.token as string };
    }

    /** What the MCP endpoint answers to an agent token (401 once it is revoked). */
    const mcp = (org: SeededOrg, token: string) =>
      call(app, 'post', `/mcp/${org.slug}`, {
        token,
        headers: MCP_HEADERS,
        body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
      });

    /** The admin of a fresh org, holding one of every credential and resource removal deals with. */
    async function leaver(slug: string) {
      const org = await seedOrg(t.store, slug);
      const admin = org.people.admin;
      const shared = await agent(org, org.people.owner.token, 'shared');
      const laptop = await agentToken(org, admin.token, shared, 'laptop');
      const privateAgent = await agent(org, admin.token, 'my-helper', 'private');
      const conn = await api(org, 'post', '/connections', admin.token, {
        name: 'my-files',
        transport: 'stdio',
        command: 'node',
        args: ['x.js'],
        private: true,
      });
      assert.equal(conn.status, 201, conn.text);
      const invitation = await api(org, 'post', '/invitations', admin.token, {
        email: `friend@${slug}.test`,
        role: 'admin',
      });
      assert.equal(invitation.status, 201, invitation.text);
      const service = await api(org, 'post', '/tokens', admin.token, {
        name: 'deploy-bot',
        role: 'admin',
        service: true,
      });
      assert.equal(service.status, 201, service.text);
      const viaService = await agentToken(org, service.body.token, shared, 'ci-runner');
      // One session of this org's single sign-on (it ends), one that opens all their orgs (it
      // stays, without this org: another org's admin must not sign them out of their own).
      const session = await createSession(t.store.db, admin.id, 'sso', org.id);
      const wide = await createSession(t.store.db, admin.id, 'password');
      // They belong to another org too (so their session of all orgs is not this org's alone to end).
      const elsewhere = await seedOrg(t.store, `${slug}-elsewhere`);
      await addMembership(
        t.store.db,
        operatorCaller(),
        trustedScope(elsewhere.id),
        admin.id,
        'member',
        'test',
      );
      const link = await t.store.db
        .transaction()
        .execute((trx) => createSigninLink(trx, operatorCaller(), trustedScope(org.id), admin.email));
      return {
        org,
        admin,
        shared,
        laptop,
        privateAgent,
        connection: conn.body.id as string,
        invitationUrl: invitation.body.url as string,
        invitationId: invitation.body.invitation.id as string,
        service: { id: service.body.info.id as string, token: service.body.token as string },
        viaService,
        session,
        wide,
        link,
      };
    }

    test('after removal no credential they issued works: API token, agent token, session, invitation, sign-in link', async () => {
      const l = await leaver('creds');
      assert.equal((await api(l.org, 'get', '', l.admin.token)).status, 200);
      assert.equal((await mcp(l.org, l.laptop.token)).status, 200, 'the agent token works before');
      // Their Slack link, and a link code made but not yet sent to the app (rows as src/slack makes them).
      const now = new Date().toISOString();
      await t.store.db
        .insertInto('slack_links')
        .values([
          { org_id: l.org.id, slack_user_id: 'U0LEAVER01', person_id: l.admin.id, linked_at: now },
          { org_id: l.org.id, slack_user_id: 'U0STAYER01', person_id: l.org.people.owner.id, linked_at: now },
        ])
        .execute();
      await t.store.db
        .insertInto('slack_link_codes')
        .values({
          code_hash: `code-of-${l.admin.id}`,
          org_id: l.org.id,
          person_id: l.admin.id,
          expires_at: new Date(Date.now() + 600_000).toISOString(),
        })
        .execute();

      const r = await api(l.org, 'delete', `/people/${l.admin.id}`, l.org.people.owner.token);
      assert.equal(r.status, 204, r.text);
      // No Slack account stands for them any more (a re-added person links again), nor can their
      // pending code link one; the owner's link stays.
      const links = await t.store.db
        .selectFrom('slack_links')
        .select('slack_user_id')
        .where('org_id', '=', l.org.id)
        .execute();
      assert.deepEqual(
        links.map((x) => x.slack_user_id),
        ['U0STAYER01'],
      );
      const codes = await t.store.db
        .selectFrom('slack_link_codes')
        .select('code_hash')
        .where('org_id', '=', l.org.id)
        .execute();
      assert.deepEqual(codes, []);

      const apiToken = await api(l.org, 'get', '', l.admin.token);
      assert.equal(apiToken.status, 401);
      assert.equal(apiToken.body.error.code, 'token_revoked');
      const laptop = await mcp(l.org, l.laptop.token);
      assert.equal(laptop.status, 401);
      assert.equal(laptop.body.error.code, 'token_revoked');
      await assert.rejects(
        authenticateSession(t.store.db, l.session.secret),
        (e: any) => e.code === 'session_invalid',
      );
      const wide = await call(app, 'get', `/api/v1/orgs/${l.org.slug}`, {
        headers: { cookie: `paddock_session=${l.wide.secret}` },
      });
      assert.equal(wide.status, 404, 'a session of all their orgs no longer opens this one');
      assert.equal(
        (await authenticateSession(t.store.db, l.wide.secret)).userId,
        l.admin.id,
        'and is not ended',
      );
      const invitation = await call(app, 'post', '/api/v1/invitations/accept', {
        body: { secret: l.invitationUrl.split('#')[1], password: 'a long enough password' },
      });
      assert.equal(invitation.status, 404, 'an invitation the removed admin sent lets nobody in');
      assert.equal(invitation.body.error.code, 'link_invalid');
      const link = await call(app, 'post', '/api/v1/session/link', { body: { secret: l.link } });
      assert.equal(link.status, 404);
      assert.equal(link.body.error.code, 'link_invalid');
      // Not theirs, so kept: the service token they made and the agent token made with it.
      assert.equal((await api(l.org, 'get', '', l.service.token)).status, 200);
      assert.equal((await mcp(l.org, l.viaService.token)).status, 200);
      // Another person's agent token on the same agent is untouched.
      const owners = await agentToken(l.org, l.org.people.owner.token, l.shared, 'owner-laptop');
      assert.equal((await mcp(l.org, owners.token)).status, 200);
    });

    test('the preview lists exactly what removal ends, hands over and leaves for review; the audit entry counts it', async () => {
      const l = await leaver('preview');
      const owner = l.org.people.owner;
      const p = await api(l.org, 'get', `/people/${l.admin.id}/removal`, owner.token);
      assert.equal(p.status, 200, p.text);
      assert.equal(p.body.person.email, l.admin.email);
      assert.equal(p.body.sessions, 1);
      assert.deepEqual(
        p.body.apiTokens.map((x: any) => x.name),
        ['admin token'],
      );
      assert.deepEqual(
        p.body.agentTokens.map((x: any) => [x.id, x.name, x.agentName]),
        [[l.laptop.id, 'laptop', 'shared']],
      );
      assert.deepEqual(
        p.body.invitations.map((x: any) => x.id),
        [l.invitationId],
      );
      assert.equal(p.body.signinLinks, 1);
      assert.deepEqual(
        p.body.privateAgents.map((x: any) => [x.id, x.name, x.state]),
        [[l.privateAgent, 'my-helper', 'active']],
      );
      assert.deepEqual(
        p.body.privateConnections.map((x: any) => x.id),
        [l.connection],
      );
      assert.deepEqual(
        p.body.review.serviceTokens.map((x: any) => x.id),
        [l.service.id],
      );
      assert.deepEqual(
        p.body.review.agentTokens.map((x: any) => [x.id, x.createdBy]),
        [[l.viaService.id, l.service.id]],
      );
      assert.deepEqual(p.body.transferTargets.map((x: any) => x.id).sort(), [owner.id]);
      assert.equal(p.body.defaultTransferTo, owner.id);
      // The preview changes nothing.
      assert.equal((await api(l.org, 'get', '', l.admin.token)).status, 200);

      const r = await api(l.org, 'delete', `/people/${l.admin.id}`, owner.token);
      assert.equal(r.status, 204, r.text);
      const audit = await api(l.org, 'get', '/audit?action=person.removed', owner.token);
      assert.equal(audit.body.events.length, 1);
      const d = audit.body.events[0].details;
      assert.equal(d.tokensRevoked, 1);
      assert.equal(d.sessionsEnded, 1);
      assert.equal(d.agentTokensRevoked, 1);
      assert.deepEqual(d.agentTokenIds, [l.laptop.id]);
      assert.equal(d.invitationsRevoked, 1);
      assert.equal(d.signinLinksRevoked, 1);
      assert.deepEqual(d.privateResources, {
        action: 'transfer',
        to: owner.id,
        agents: [l.privateAgent],
        connections: [l.connection],
      });
      assert.deepEqual(d.reviewed, { revoked: [], kept: [l.service.id, l.viaService.id] });
      const gone = await api(l.org, 'get', `/people/${l.admin.id}/removal`, owner.token);
      assert.equal(gone.status, 404, 'nobody left to preview');
    });

    test('by default their private agents are stopped and handed to the remover, their connections too', async () => {
      const l = await leaver('handover');
      const owner = l.org.people.owner;
      const r = await api(l.org, 'delete', `/people/${l.admin.id}`, owner.token);
      assert.equal(r.status, 204, r.text);
      const a = await api(l.org, 'get', `/agents/${l.privateAgent}`, owner.token);
      assert.equal(a.body.state, 'stopped');
      assert.equal(a.body.ownerId, owner.id);
      assert.equal(a.body.scope, 'private');
      const versions = await api(l.org, 'get', `/agents/${l.privateAgent}/versions`, owner.token);
      assert.equal(versions.body.versions[0].snapshot.ownerId, owner.id, 'the hand-over is a new version');
      const c = await api(l.org, 'get', '/connections', owner.token);
      assert.equal(c.body.connections.find((x: any) => x.id === l.connection).ownerId, owner.id);
      const entries = (await allAuditEntries(t.store)).filter((e) => e.log_id === l.org.id);
      const updated = entries.find((e) => e.action === 'agent.updated' && e.target_id === l.privateAgent);
      assert.deepEqual(JSON.parse(updated!.details!).changes, {
        ownerId: { before: l.admin.id, after: owner.id },
        state: { before: 'active', after: 'stopped' },
      });
      assert.ok(entries.some((e) => e.action === 'connection.owner.changed' && e.target_id === l.connection));
    });

    test('they can be handed to another admin named in the request, or deleted', async () => {
      const l = await leaver('choices');
      const owner = l.org.people.owner;
      // A second admin to receive them.
      const invite = await api(l.org, 'post', '/invitations', owner.token, {
        email: 'second@choices.test',
        role: 'admin',
      });
      const joined = await call(app, 'post', '/api/v1/invitations/accept', {
        body: { secret: invite.body.url.split('#')[1], password: 'a long enough password' },
      });
      assert.equal(joined.status, 200, joined.text);
      const people = await api(l.org, 'get', '/people', owner.token);
      const second = people.body.people.find((p: any) => p.email === 'second@choices.test').id;
      const r = await api(l.org, 'delete', `/people/${l.admin.id}`, owner.token, {
        privateResources: 'transfer',
        transferTo: second,
      });
      assert.equal(r.status, 204, r.text);
      assert.equal((await api(l.org, 'get', `/agents/${l.privateAgent}`, owner.token)).body.ownerId, second);

      const d = await leaver('deleting');
      const del = await api(d.org, 'delete', `/people/${d.admin.id}`, d.org.people.owner.token, {
        privateResources: 'delete',
      });
      assert.equal(del.status, 204, del.text);
      assert.equal(
        (await api(d.org, 'get', `/agents/${d.privateAgent}`, d.org.people.owner.token)).status,
        404,
      );
      const conns = await api(d.org, 'get', '/connections', d.org.people.owner.token);
      assert.ok(!conns.body.connections.some((c: any) => c.id === d.connection));
      const audit = await api(d.org, 'get', '/audit?action=person.removed', d.org.people.owner.token);
      assert.deepEqual(audit.body.events[0].details.privateResources, {
        action: 'delete',
        agents: [d.privateAgent],
        connections: [d.connection],
      });
    });

    test('service tokens they made, and agent tokens made with those, are revoked only when the remover says so', async () => {
      const l = await leaver('review');
      const r = await api(l.org, 'delete', `/people/${l.admin.id}`, l.org.people.owner.token, {
        revokeTokens: [l.viaService.id],
      });
      assert.equal(r.status, 204, r.text);
      assert.equal((await mcp(l.org, l.viaService.token)).status, 401, 'the chosen agent token is revoked');
      assert.equal((await api(l.org, 'get', '', l.service.token)).status, 200, 'the service token is kept');
      const audit = await api(l.org, 'get', '/audit?action=person.removed', l.org.people.owner.token);
      assert.deepEqual(audit.body.events[0].details.reviewed, {
        revoked: [l.viaService.id],
        kept: [l.service.id],
      });
    });

    test('bad choices are refused with a code, and nothing changes', async () => {
      const l = await leaver('refusals');
      const owner = l.org.people.owner;
      const cases: Array<[unknown, number, string, string?]> = [
        [{ transferTo: l.org.people.member.id }, 400, 'transfer_to_not_admin'],
        [{ transferTo: l.org.people.auditor.id }, 400, 'transfer_to_not_admin'],
        [{ transferTo: 'usr_nobody00000000' }, 404, 'person_not_found'],
        [{ transferTo: l.admin.id }, 400, 'transfer_to_removed'],
        [{ privateResources: 'delete', transferTo: owner.id }, 400, 'unexpected_transfer_to'],
        [{ privateResources: 'archive' }, 400, 'validation_failed'],
        [{ revokeTokens: [l.laptop.id] }, 400, 'not_for_review'],
        [{ revokeTokens: ['tok_nobody0000000000'] }, 404, 'token_not_found'],
        [{ why: 'left' }, 400, 'unknown_field'],
        // A service token acts for nobody, so cannot receive them by default.
        [{}, 400, 'transfer_to_required', l.service.token],
      ];
      // The trail's own work placed and signed first (every log): only a request could move the snapshot now.
      for (const log of await t.store.db.selectFrom('audit_logs').select('id').execute())
        await deps.audit.checkpoint(log.id);
      const before = await databaseSnapshot(t.store);
      for (const [body, status, code, token] of cases) {
        const r = await api(l.org, 'delete', `/people/${l.admin.id}`, token ?? owner.token, body);
        assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.text}`);
        assert.equal(r.body.error.code, code, JSON.stringify(body));
        assert.deepEqual(snapshotDiff(before, await databaseSnapshot(t.store)), [], JSON.stringify(body));
      }
      // With the receiver named, the service token can remove them.
      const ok = await api(l.org, 'delete', `/people/${l.admin.id}`, l.service.token, {
        transferTo: owner.id,
      });
      assert.equal(ok.status, 204, ok.text);
    });

    test('a member cannot preview or remove; an admin cannot remove an owner', async () => {
      const org = await seedOrg(t.store, 'rights');
      const asMember = await api(
        org,
        'get',
        `/people/${org.people.admin.id}/removal`,
        org.people.member.token,
      );
      assert.equal(asMember.status, 403);
      const asAdmin = await api(org, 'get', `/people/${org.people.owner.id}/removal`, org.people.admin.token);
      assert.equal(asAdmin.status, 403);
      assert.equal(asAdmin.body.error.code, 'role_too_high');
    });

    test('a credential being made in their name while they are removed is refused, or revoked with the rest', async () => {
      // Refused: the request's access check came before the removal, its transaction after.
      const org = await seedOrg(t.store, 'stale');
      const shared = await agent(org, org.people.owner.token, 'shared');
      const principal = {
        kind: 'token' as const,
        token: await authenticateToken(t.store.db, org.people.admin.token),
      };
      const stale = await orgAccess(t.store.db, principal, 'stale', 'req_stale');
      const r = await api(org, 'delete', `/people/${org.people.admin.id}`, org.people.owner.token);
      assert.equal(r.status, 204, r.text);
      await assert.rejects(
        createAgentToken(t.store.db, stale, shared, { name: 'late', expiresInDays: 30 }),
        (e: any) => e.code === 'org_not_found',
      );

      // Revoked: the token's transaction holds the membership; the removal waits for it, then revokes it.
      const org2 = await seedOrg(t.store, 'racing');
      const shared2 = await agent(org2, org2.people.owner.token, 'shared');
      const ctx = await orgAccess(
        t.store.db,
        { kind: 'token', token: await authenticateToken(t.store.db, org2.people.admin.token) },
        'racing',
        'req_racing',
      );
      let commit = () => {};
      const held = new Promise<void>((resolve) => {
        commit = resolve;
      });
      let holding = () => {};
      const isHolding = new Promise<void>((resolve) => {
        holding = resolve;
      });
      const making = t.store.db.transaction().execute(async (trx) => {
        await holdMembership(trx, ctx, ctx.scope);
        await trx
          .insertInto('agent_tokens')
          .values({
            id: 'atk_racing000000001',
            org_id: org2.id,
            agent_id: shared2,
            name: 'racing',
            token_hash: 'racing-digest',
            created_by: org2.people.admin.id,
            created_at: new Date().toISOString(),
            expires_at: null,
            revoked_at: null,
          })
          .execute();
        holding();
        await held;
      });
      await isHolding;
      const removing = api(org2, 'delete', `/people/${org2.people.admin.id}`, org2.people.owner.token);
      try {
        if (kind === 'postgres') {
          // Wait until the removal is blocked on the membership the token's transaction holds.
          await until(
            async () =>
              (
                await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
                  where wait_event_type = 'Lock' and datname = current_database()`.execute(t.store.db)
              ).rows[0]!.n > 0,
            { what: 'the removal to wait for the membership' },
          );
        }
      } finally {
        // Whatever happened, the token's transaction ends (a test left hanging tells nothing).
        commit();
        await making;
      }
      assert.equal((await removing).status, 204);
      const row = await t.store.db
        .selectFrom('agent_tokens')
        .select('revoked_at')
        .where('id', '=', 'atk_racing000000001')
        .executeTakeFirstOrThrow();
      assert.ok(row.revoked_at, 'the token made while the removal waited is revoked too');
    });
  });
}
