/**
 * Agent memory end to end, on SQLite and PostgreSQL: the built-in memory connection is added and
 * listed like any connection; an agent reaches it over /mcp/{org} only once granted (default
 * deny), every call decided and on record by the gate; hostile input is refused and changes
 * nothing; people see, edit, pin and delete entries as their role allows, on record without the
 * text; pinned entries ride with the instructions; one agent's memory and one person's data are
 * deleted on request with counts, and afterwards none of the text is in any table, export or (on
 * SQLite) the database's files, WAL included — and the log verifies.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { issueClientToken } from '../agents/index.ts';
import { verifyLog } from '../audit/index.ts';
import { personAccess, trustedScope } from '../identity/index.ts';
import { registerClient } from '../oauth/index.ts';
import { call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { databaseSnapshot } from '../testing/snapshot.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { MEMORY_LIMITS, pinnedMemory, withPinnedMemory } from './index.ts';

const MCP_HEADERS = { accept: 'application/json, text/event-stream' };
const ABOUT_MEMBER = 'MEMBER-LIKES-TEA-5f2a';
const GENERAL = 'DEPLOYS-ON-TUESDAYS-91c3';
const AGENT_TWO = 'SECOND-AGENT-NOTE-77ad';

for (const kind of STORE_KINDS) {
  describe(`agent memory [${kind}]`, () => {
    let t: TestStore;
    let deps: ReturnType<typeof testDeps>;
    let app: ReturnType<typeof createApp>;
    let acme: SeededOrg;
    let other: SeededOrg;
    let memoryId: string;
    const agents: Record<string, { id: string; token: string }> = {};
    let rpc = 0;

    const api = (method: string, path: string, token: string, body?: unknown) =>
      call(app, method, `/api/v1/orgs/acme${path}`, { token, ...(body === undefined ? {} : { body }) });
    const mcp = (agent: string, method: string, params: Record<string, unknown>) =>
      call(app, 'post', '/mcp/acme', {
        token: agents[agent]!.token,
        headers: MCP_HEADERS,
        body: { jsonrpc: '2.0', id: ++rpc, method, params },
      });
    const tool = async (agent: string, name: string, args: Record<string, unknown>) => {
      const r = await mcp(agent, 'tools/call', { name: `memory__${name}`, arguments: args });
      assert.equal(r.status, 200, r.text);
      return r.body.result as { content: Array<{ text: string }>; isError?: boolean };
    };
    const parsed = (r: { content: Array<{ text: string }> }) => JSON.parse(r.content[0]!.text);
    const rows = () => t.store.db.selectFrom('memories').selectAll().orderBy('created_at').execute();

    /** An org-wide agent made by `by`, with an agent token they issue (the calls are for them). */
    async function makeAgent(name: string, by = acme.people.admin.token) {
      const a = await api('post', '/agents', by, {
        name,
        scope: 'organization',
        instructions: 'Help.',
        model: { provider: 'openai', model: 'gpt-5' },
      });
      assert.equal(a.status, 201, a.text);
      const tok = await api('post', `/agents/${a.body.id}/tokens`, by, { name: 'mcp' });
      assert.equal(tok.status, 201, tok.text);
      agents[name] = { id: a.body.id, token: tok.body.token };
    }

    /** Everything an operator could read back: every table, the audit export and listing. */
    async function everything(): Promise<string> {
      await deps.audit.flush();
      return [
        JSON.stringify(await databaseSnapshot(t.store)),
        (await api('get', '/audit/export?format=jsonl', acme.people.owner.token)).text,
        (await api('get', '/audit?limit=500', acme.people.owner.token)).text,
      ].join('\n');
    }

    /** The database's own files (SQLite: the file and its WAL), as bytes read as text. */
    function files(): string {
      if (kind !== 'sqlite') return '';
      const db = join(t.home, 'paddock.db');
      return [db, `${db}-wal`]
        .filter((f) => existsSync(f))
        .map((f) => readFileSync(f).toString('latin1'))
        .join('\n');
    }

    before(async () => {
      t = await openTestStore(kind);
      deps = testDeps(t.store, t.home);
      app = createApp(deps);
      acme = await seedOrg(t.store, 'acme');
      other = await seedOrg(t.store, 'other');
      // The member's agent, used by everyone: its calls on the member's token are for the member.
      await makeAgent('helper', acme.people.member.token);
      await makeAgent('second');
      // The same agent as the admin holds it through an OAuth client (calls for the admin)…
      const ctx = await personAccess(t.store.db, acme.people.admin.id, acme.id, 'req_test');
      const client = await registerClient(t.store.db, {
        client_name: 'Desk Client',
        redirect_uris: ['http://127.0.0.1:9/callback'],
      });
      const issued = await issueClientToken(t.store.db, ctx, {
        agentId: agents.helper!.id,
        client: { id: client.id, name: client.name },
      });
      agents.mallory = { id: agents.helper!.id, token: issued.accessToken };
      // …and through a token a service token issued (calls for no person).
      const service = await api('post', '/tokens', acme.people.admin.token, {
        name: 'deploy-bot',
        role: 'admin',
        service: true,
      });
      assert.equal(service.status, 201, service.text);
      const viaService = await api('post', `/agents/${agents.helper!.id}/tokens`, service.body.token, {
        name: 'ci',
      });
      assert.equal(viaService.status, 201, viaService.text);
      agents.service = { id: agents.helper!.id, token: viaService.body.token };
    });
    after(async () => {
      await t?.cleanup();
    });

    test('the memory connection is added by an admin and lists its tools like any connection', async () => {
      const refused = await api('post', '/connections', acme.people.member.token, {
        name: 'memory',
        transport: 'builtin',
        server: 'memory',
      });
      assert.equal(refused.status, 403);
      const unknown = await api('post', '/connections', acme.people.admin.token, {
        name: 'memory',
        transport: 'builtin',
        server: 'shell',
      });
      assert.equal(unknown.status, 400);
      const made = await api('post', '/connections', acme.people.admin.token, {
        name: 'memory',
        transport: 'builtin',
        server: 'memory',
      });
      assert.equal(made.status, 201, made.text);
      assert.deepEqual([made.body.transport, made.body.command], ['builtin', 'memory']);
      memoryId = made.body.id;
      const listed = await api('post', `/connections/${memoryId}/tools/refresh`, acme.people.admin.token);
      assert.equal(listed.status, 200, listed.text);
      assert.deepEqual(listed.body.tools.map((x: { name: string }) => x.name).sort(), [
        'forget',
        'recall',
        'remember',
      ]);
    });

    test('an agent without a grant is refused, on record; granted, its calls pass the gate and are on record', async () => {
      const denied = await tool('helper', 'remember', { text: GENERAL });
      assert.equal(denied.isError, true);
      assert.match(denied.content[0]!.text, /denied|not granted|no grant/i);
      assert.equal((await rows()).length, 0, 'nothing was kept');

      for (const name of ['remember', 'recall', 'forget'])
        for (const agent of ['helper', 'second'])
          assert.equal(
            (
              await api('post', `/agents/${agents[agent]!.id}/grants`, acme.people.admin.token, {
                connectionId: memoryId,
                tool: name,
              })
            ).status,
            201,
          );
      const listed = await mcp('helper', 'tools/list', {});
      assert.deepEqual(listed.body.result.tools.map((x: { name: string }) => x.name).sort(), [
        'memory__forget',
        'memory__recall',
        'memory__remember',
      ]);

      const general = parsed(await tool('helper', 'remember', { text: GENERAL }));
      assert.equal(general.remembered, true);
      const aboutMember = parsed(
        await tool('helper', 'remember', { text: ABOUT_MEMBER, about: acme.people.member.email }),
      );
      await tool('second', 'remember', { text: AGENT_TWO });
      const recalled = parsed(await tool('helper', 'recall', { query: 'tea likes' }));
      assert.deepEqual(
        recalled.entries.map((e: { id: string }) => e.id),
        [aboutMember.id],
      );
      assert.equal(recalled.entries[0].about, acme.people.member.id);
      const newest = parsed(await tool('helper', 'recall', { query: '' }));
      assert.equal(newest.entries.length, 2, 'each agent recalls only its own memory');

      await deps.audit.flush();
      const log = await api('get', '/audit?limit=500', acme.people.auditor.token);
      const actions = log.body.events
        .filter((e: { target?: { id: string } }) => e.target?.id?.startsWith(`${memoryId}/`))
        .map((e: { action: string; target: { id: string } }) => `${e.action} ${e.target.id.split('/')[1]}`);
      assert.ok(actions.includes('tool.call.denied remember'), actions.join());
      assert.ok(actions.includes('tool.call.allowed remember'), actions.join());
      assert.ok(actions.includes('tool.call.allowed recall'), actions.join());
    });

    test('a call sees general entries and those about its own person only; "about" names only them; a forged caller is ignored', async () => {
      const before = await rows();
      const aboutMember = before.find((r) => r.text === ABOUT_MEMBER)!;
      const texts = (r: { content: Array<{ text: string }> }) =>
        (parsed(r).entries as Array<{ text: string }>).map((e) => e.text);
      // The member's own call finds what is about them (the control for what follows).
      assert.deepEqual(texts(await tool('helper', 'recall', { query: 'tea likes' })), [ABOUT_MEMBER]);

      // Mallory (the admin, through an OAuth client's token for the same agent) does not.
      assert.deepEqual(texts(await tool('mallory', 'recall', { query: 'tea likes' })), []);
      assert.deepEqual(texts(await tool('mallory', 'recall', { query: '' })), [GENERAL]);
      for (const [name, args] of [
        ['recall', { query: '', about: acme.people.member.email }],
        ['recall', { query: '', about: acme.people.member.id }],
        ['remember', { text: 'Member owes me money.', about: acme.people.member.email }],
      ] as const) {
        const r = await tool('mallory', name, args);
        assert.equal(r.isError, true, `${name} ${JSON.stringify(args)}`);
        assert.match(r.content[0]!.text, /only the person this call is for/);
      }
      assert.deepEqual(parsed(await tool('mallory', 'forget', { id: aboutMember.id })), { forgotten: false });
      // A caller in the client's own _meta is not the gate's: ignored.
      const forged = await mcp('mallory', 'tools/call', {
        name: 'memory__recall',
        arguments: { query: 'tea likes' },
        _meta: { 'paddock/caller': { personId: acme.people.member.id, runId: 'run_forged' } },
      });
      assert.equal(forged.status, 200, forged.text);
      assert.deepEqual(texts(forged.body.result), []);
      const forgedAbout = await mcp('mallory', 'tools/call', {
        name: 'memory__remember',
        arguments: { text: 'forged', about: acme.people.member.email },
        _meta: { 'paddock/caller': { personId: acme.people.member.id } },
      });
      assert.equal(forgedAbout.body.result.isError, true, forgedAbout.text);

      // A token a service token issued is for no person: general entries only, no "about".
      assert.deepEqual(texts(await tool('service', 'recall', { query: '' })), [GENERAL]);
      const noOne = await tool('service', 'remember', { text: 'x', about: acme.people.admin.email });
      assert.equal(noOne.isError, true);
      assert.match(noOne.content[0]!.text, /for no person/);
      assert.deepEqual(await rows(), before, 'nothing was kept or forgotten');

      // What Mallory keeps about herself is hers: the member does not see it, she may forget it.
      const own = parsed(
        await tool('mallory', 'remember', { text: 'ADMIN-OWN-3b1d', about: acme.people.admin.email }),
      );
      assert.deepEqual(texts(await tool('helper', 'recall', { query: 'admin own' })), []);
      assert.deepEqual(parsed(await tool('helper', 'forget', { id: own.id })), { forgotten: false });
      assert.deepEqual(texts(await tool('mallory', 'recall', { query: 'admin own' })), ['ADMIN-OWN-3b1d']);
      assert.deepEqual(parsed(await tool('mallory', 'forget', { id: own.id })), { forgotten: true });
    });

    test('hostile input is refused with a clear error and keeps nothing', async () => {
      const before = (await rows()).length;
      for (const [args, says] of [
        [{ text: 'x'.repeat(MEMORY_LIMITS.textChars + 1) }, /at most 2000 characters|too_big|Too big/i],
        [{ text: '   ' }, /needs some text/],
        [{ text: 'bell\u0007' }, /control characters/],
        [{ text: 'ok', about: 'nobody@else.test' }, /No person of this organization/],
        [{ text: 'ok', about: other.people.member.email }, /No person of this organization/],
        [{ text: 'ok', extra: 1 }, /Invalid|additional|Unrecognized/i],
      ] as const) {
        const r = await tool('helper', 'remember', args);
        assert.equal(r.isError, true, JSON.stringify(args));
        assert.match(r.content[0]!.text, says);
      }
      const html = parsed(await tool('helper', 'remember', { text: '<img src=x onerror=alert(1)>' }));
      assert.ok(html.id, 'markup is kept as text (the dashboard renders it as text)');
      assert.equal((await rows()).length, before + 1);
      assert.deepEqual(parsed(await tool('helper', 'forget', { id: html.id })), { forgotten: true });
      assert.equal((await rows()).length, before);
      // Another agent's entry is not this one's to forget.
      const theirs = (await rows()).find((r) => r.agent_id === agents.second!.id)!;
      assert.deepEqual(parsed(await tool('helper', 'forget', { id: theirs.id })), { forgotten: false });

      // Full: refused until some are forgotten.
      const now = new Date().toISOString();
      const filler = Array.from({ length: MEMORY_LIMITS.entriesPerAgent }, (_v, i) => ({
        id: `mem_fill${i}x`,
        org_id: acme.id,
        agent_id: agents.second!.id,
        person_id: null,
        text: `filler ${i}`,
        pinned: 0,
        updated_by: agents.second!.id,
        created_at: now,
        updated_at: now,
      }));
      for (let i = 0; i < filler.length; i += 200)
        await t.store.db
          .insertInto('memories')
          .values(filler.slice(i, i + 200))
          .execute();
      const full = await tool('second', 'remember', { text: 'one more' });
      assert.equal(full.isError, true);
      assert.match(full.content[0]!.text, /its limit/);
      await t.store.db.deleteFrom('memories').where('id', 'like', 'mem_fill%').execute();
    });

    test('people see, edit, pin and delete entries as their role allows; the log keeps no text', async () => {
      const helper = agents.helper!.id;
      const asAdmin = await api('get', `/agents/${helper}/memory`, acme.people.admin.token);
      assert.equal(asAdmin.status, 200, asAdmin.text);
      assert.equal(asAdmin.body.entries.length, 2);
      const general = asAdmin.body.entries.find((e: { text: string }) => e.text === GENERAL);
      const aboutMember = asAdmin.body.entries.find((e: { text: string }) => e.text === ABOUT_MEMBER);
      // A member sees general entries and those about themselves; the auditor reads all.
      const asMember = await api('get', `/agents/${helper}/memory`, acme.people.member.token);
      assert.equal(asMember.body.entries.length, 2);
      const asOwnerSearch = await api('get', `/agents/${helper}/memory?q=tuesdays`, acme.people.owner.token);
      assert.deepEqual(
        asOwnerSearch.body.entries.map((e: { id: string }) => e.id),
        [general.id],
      );
      // Another org cannot reach them, even by id.
      const stranger = await call(app, 'get', `/api/v1/orgs/other/agents/${helper}/memory`, {
        token: other.people.owner.token,
      });
      assert.equal(stranger.status, 404);
      const crossOrg = await call(app, 'patch', `/api/v1/orgs/other/agents/${helper}/memory/${general.id}`, {
        token: other.people.owner.token,
        body: { pinned: true },
      });
      assert.equal(crossOrg.status, 404);

      // Members cannot change an org agent they do not own; auditors change nothing.
      const theirs = (await rows()).find((r) => r.text === AGENT_TWO)!;
      for (const [who, agent, entry] of [
        ['member', agents.second!.id, theirs.id],
        ['auditor', helper, general.id],
      ] as const) {
        const r = await api('patch', `/agents/${agent}/memory/${entry}`, acme.people[who].token, {
          pinned: true,
        });
        assert.equal(r.status, 403, `${who}: ${r.text}`);
      }
      const bad = [
        {},
        { text: '' },
        { text: 'x'.repeat(MEMORY_LIMITS.textChars + 1) },
        { pinned: 'yes' },
        { text: 'ok', owner: 'me' },
      ];
      for (const body of bad) {
        const r = await api('patch', `/agents/${helper}/memory/${general.id}`, acme.people.admin.token, body);
        assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      }
      assert.equal(
        (await rows()).find((r) => r.id === general.id)!.text,
        GENERAL,
        'bad edits changed nothing',
      );

      const pinned = await api('patch', `/agents/${helper}/memory/${general.id}`, acme.people.admin.token, {
        pinned: true,
        text: `${GENERAL} (edited)`,
      });
      assert.equal(pinned.status, 200, pinned.text);
      assert.deepEqual([pinned.body.pinned, pinned.body.text], [true, `${GENERAL} (edited)`]);
      await api('patch', `/agents/${helper}/memory/${aboutMember.id}`, acme.people.admin.token, {
        pinned: true,
      });

      // Pinned entries ride with the runs' instructions: general ones, and those about the run's person.
      const scope = trustedScope(acme.id);
      assert.deepEqual(await pinnedMemory(t.store.db, scope, helper, acme.people.owner.id), [
        `${GENERAL} (edited)`,
      ]);
      assert.deepEqual(await pinnedMemory(t.store.db, scope, helper, acme.people.member.id), [
        `${GENERAL} (edited)`,
        ABOUT_MEMBER,
      ]);
      assert.equal(withPinnedMemory('Help.', []), 'Help.');
      assert.match(withPinnedMemory('Help.', ['a\nb']), /^Help\.\n\nWhat you remember .*\n- a\n {2}b$/s);

      const gone = await api('delete', `/agents/${helper}/memory/${general.id}`, acme.people.admin.token);
      assert.equal(gone.status, 204, gone.text);
      const again = await api('delete', `/agents/${helper}/memory/${general.id}`, acme.people.admin.token);
      assert.equal(again.status, 404);

      await deps.audit.flush();
      const log = await api('get', '/audit?limit=500', acme.people.auditor.token);
      const changes = log.body.events.filter((e: { action: string }) => e.action.startsWith('memory.entry.'));
      assert.deepEqual(changes.map((e: { action: string }) => e.action).sort(), [
        'memory.entry.deleted',
        'memory.entry.updated',
        'memory.entry.updated',
      ]);
      assert.ok(!JSON.stringify(changes).includes(GENERAL), 'no text in the change records');
    });

    test('deleting a person’s data takes memory about them, everywhere; the log verifies', async () => {
      const done = await api(
        'post',
        `/people/${acme.people.member.id}/data-deletion`,
        acme.people.admin.token,
      );
      assert.equal(done.status, 200, done.text);
      assert.equal(done.body.memory, 1);
      assert.ok(done.body.auditPayloads >= 1, 'the remember call about them is erased');
      const all = await everything();
      assert.ok(!all.includes(ABOUT_MEMBER), 'memory about them remains in the database or an export');
      assert.ok(all.includes(AGENT_TWO), 'other memory stays');
      assert.ok(!files().includes(ABOUT_MEMBER), 'memory about them remains in the database files');
      const report = await verifyLog(t.store.db, acme.id);
      assert.ok(report.ok, JSON.stringify(report));
    });

    test('one agent’s memory is deleted on request with counts, never content; the log verifies', async () => {
      const second = agents.second!.id;
      const member = await api('post', `/agents/${second}/memory-deletion`, acme.people.member.token);
      assert.equal(member.status, 403);
      const done = await api('post', `/agents/${second}/memory-deletion`, acme.people.admin.token);
      assert.equal(done.status, 200, done.text);
      assert.equal(done.body.entries, 1);
      assert.ok(done.body.auditPayloads >= 2, JSON.stringify(done.body));
      const all = await everything();
      assert.ok(!all.includes(AGENT_TWO), 'the agent’s memory remains in the database or an export');
      assert.ok(!files().includes(AGENT_TWO), 'the agent’s memory remains in the database files');
      const log = await api('get', '/audit?action=agent.memory.deleted', acme.people.auditor.token);
      assert.deepEqual(log.body.events[0].details, done.body);
      assert.equal(log.body.events[0].target.id, second);
      const report = await verifyLog(t.store.db, acme.id);
      assert.ok(report.ok, JSON.stringify(report));
    });

    test('an agent cannot forget an entry a person pinned: only a person unpins or deletes it', async () => {
      // A tool's output tells the agent to forget the note its owner pinned ("never pay IBAN X").
      const kept = parsed(await tool('helper', 'remember', { text: 'Never pay to IBAN GB00 ATTACKER.' }));
      const pin = await api(
        'patch',
        `/agents/${agents.helper!.id}/memory/${kept.id}`,
        acme.people.admin.token,
        {
          pinned: true,
        },
      );
      assert.equal(pin.status, 200, pin.text);
      const r = await tool('helper', 'forget', { id: kept.id });
      assert.equal(r.isError, true);
      assert.match(r.content[0]!.text, /pinned/);
      assert.ok(
        (await rows()).some((x) => x.id === kept.id),
        'the pinned entry is still there',
      );
      // Unpinned by a person, it is the agent's to forget again.
      const unpin = await api(
        'patch',
        `/agents/${agents.helper!.id}/memory/${kept.id}`,
        acme.people.admin.token,
        {
          pinned: false,
        },
      );
      assert.equal(unpin.status, 200, unpin.text);
      assert.deepEqual(parsed(await tool('helper', 'forget', { id: kept.id })), { forgotten: true });
    });
  });
}
