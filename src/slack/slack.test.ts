/**
 * Slack end to end, on both engines: a local fake Slack speaking the real wire formats (signed
 * Events API and interactivity requests in, Web API calls out through Bolt's own WebClient),
 * real runs in a real org cell (bubblewrap) thinking with a scripted model, and a real MCP
 * server behind the gate. A mention starts a run as the person Slack says wrote it and the
 * answer goes to the thread; a blocked answer never reaches Slack; approval cards are decided
 * only by explicitly linked approvers; every refused request changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bubblewrap } from '../cells/index.ts';
import { AttemptLimiter } from '../identity/index.ts';
import { createLogger } from '../log/index.ts';
import { applyRecordRetention } from '../runtime/index.ts';
import { type FakeSlack, slackSigned, startFakeSlack } from '../testing/fake-slack.ts';
import {
  allAuditEntries,
  call,
  createApp,
  type SeededOrg,
  seedOrg,
  testDeps,
  useModelServer,
} from '../testing/fixtures.ts';
import {
  type ModelRequest,
  type ModelServer,
  type ModelTurn,
  startModelServer,
} from '../testing/model-server/index.ts';
import { addStdioConnection } from '../testing/served.ts';
import { databaseSnapshot, snapshotDiff } from '../testing/snapshot.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';
import { EVENT_IDS_KEPT_MS, forgetOldSlackEvents, SlackService } from './index.ts';

/** A key-shaped string a provider's error quotes (Google's shape): not the org's key, a key all the same. */
const LEAKED_KEY = 'AIzaSyDq7YxW3vU9tS1rP5oN2mL8kJ4hG6fE0dC';
const KEY = 'sk-slack-e2e-5a0c2f9d81b7e346';
/** A Luhn-valid test card number: the agent's blocking check must keep it out of Slack. */
const CARD = '4111 1111 1111 1111';
const CHANNEL = 'C0PADDOCK01';
const APPROVALS = 'C0APPROVALS';

for (const kind of STORE_KINDS) {
  describe(`Slack [${kind}]`, () => {
    let t: TestStore;
    let deps: ReturnType<typeof testDeps>;
    let app: ReturnType<typeof createApp>;
    let models: ModelServer;
    let slack: FakeSlack;
    let acme: SeededOrg;
    let agentId: string;
    let seq = 0;
    const scripts = new Map<string, ModelTurn[]>();
    /** The last request the model saw for each user text (what history a run carried). */
    const seen = new Map<string, ModelRequest>();
    /** Slack users: the member and the admin by email; a stranger whose email Paddock does not know. */
    const MEMBER = 'U0MEMBER01';
    const ADMIN = 'U0ADMIN001';
    const STRANGER = 'U0STRANGER';
    const EXTERNAL = 'U0EXTERNAL';
    const UNCONFIRMED = 'U0UNCONFRM';

    const api = (method: string, path: string, body?: unknown, token = acme.people.admin.token) =>
      call(app, method, `/api/v1/orgs/acme${path}`, { token, ...(body === undefined ? {} : { body }) });

    before(async () => {
      const check = await bubblewrap.check();
      assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
      models = await startModelServer((req) => {
        // A provider that fails, quoting a key in its error (as some echo a key they refuse).
        if (req.lastUserText === 'fail loudly') throw new Error(`Upstream refused key ${LEAKED_KEY}.`);
        seen.set(req.lastUserText, req);
        return scripts.get(req.lastUserText)?.shift() ?? { text: `You said: ${req.lastUserText}` };
      });
      slack = await startFakeSlack();
      t = await openTestStore(kind);
      deps = testDeps(
        t.store,
        t.home,
        { log: createLogger({ level: 'silent' }) },
        { provider: bubblewrap, problem: null },
      );
      deps.config.slackApiUrl = slack.url;
      app = createApp(deps);
      acme = await seedOrg(t.store, 'acme');
      await seedOrg(t.store, 'other');
      slack.users.set(MEMBER, { email: 'Member@acme.test' });
      slack.users.set(ADMIN, { email: 'admin@acme.test' });
      slack.users.set(STRANGER, { email: 'someone@elsewhere.test' });
      // Another workspace's user (a Slack Connect channel) claiming a member's email.
      slack.users.set(EXTERNAL, { email: 'member@acme.test', team: 'T0OTHERTEAM' });
      // Someone of the workspace whose profile claims the owner's email, never confirmed (a
      // workspace admin set it, or the change is pending): a claim, not proof.
      slack.users.set(UNCONFIRMED, { email: 'owner@acme.test', emailConfirmed: false });
      await useModelServer(app, acme, models.url, KEY);
      const everything = await addStdioConnection(app, acme, { by: acme.people.admin.token });
      const agent = await api('post', '/agents', {
        name: 'helper',
        scope: 'organization',
        instructions: 'Help briefly.',
        model: { provider: 'openai', model: 'gpt-test' },
        checks: { rules: [{ name: 'cards', match: 'card_numbers', action: 'block' }], streaming: 'final' },
      });
      assert.equal(agent.status, 201, agent.text);
      agentId = agent.body.id;
      for (const body of [
        { connectionId: everything, tool: 'echo' },
        { connectionId: everything, tool: 'get-sum', requiresApproval: true },
      ])
        assert.equal((await api('post', `/agents/${agentId}/grants`, body)).status, 201);
    });

    after(async () => {
      await models?.close();
      await slack?.close();
      await t?.cleanup();
    });

    /** A request as Slack sends it to the events URL, signed unless told otherwise. */
    async function send(
      body: string,
      opts: {
        contentType?: string;
        timestamp?: number;
        secret?: string;
        org?: string;
        headers?: Record<string, string>;
      } = {},
    ) {
      const res = await app.request(`/slack/${opts.org ?? 'acme'}/events`, {
        method: 'POST',
        headers: {
          'content-type': opts.contentType ?? 'application/json',
          ...slackSigned(opts.secret ?? slack.signingSecret, body, opts.timestamp),
          ...opts.headers,
        },
        body,
      });
      const text = await res.text();
      return { status: res.status, text, body: text ? JSON.parse(text) : null };
    }
    const eventBody = (event: Record<string, unknown>, over: Record<string, unknown> = {}) =>
      JSON.stringify({
        token: 'legacy-verification-token',
        team_id: slack.teamId,
        api_app_id: 'A0PADDOCK',
        type: 'event_callback',
        event_id: `Ev${String(++seq).padStart(8, '0')}`,
        event_time: Math.floor(Date.now() / 1000),
        authorizations: [{ team_id: slack.teamId, user_id: slack.botUserId, is_bot: true }],
        event: {
          event_ts: `${Date.now() / 1000}`,
          ts: `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, '0')}`,
          ...event,
        },
        ...over,
      });
    const mention = (user: string, text: string, over: Record<string, unknown> = {}) =>
      eventBody({ type: 'app_mention', user, channel: CHANNEL, text: `<@${slack.botUserId}> ${text}` }, over);
    /** A plain message in a channel's thread (Slack sends it as message.channels). */
    const inThread = (user: string, text: string, threadTs: string, over: Record<string, unknown> = {}) =>
      eventBody({
        type: 'message',
        channel_type: 'channel',
        user,
        channel: CHANNEL,
        text,
        thread_ts: threadTs,
        ...over,
      });
    const dm = (user: string, text: string) =>
      eventBody({ type: 'message', channel_type: 'im', user, channel: 'D0DIRECT01', text });
    const click = (user: string, actionId: string, approvalId: string) =>
      `payload=${encodeURIComponent(
        JSON.stringify({
          type: 'block_actions',
          team: { id: slack.teamId, domain: 'paddock-test' },
          user: { id: user, team_id: slack.teamId },
          api_app_id: 'A0PADDOCK',
          token: 'legacy-verification-token',
          trigger_id: '1.2.3',
          container: { type: 'message', message_ts: '1.1', channel_id: APPROVALS, is_ephemeral: false },
          channel: { id: APPROVALS, name: 'approvals' },
          message: { ts: '1.1', text: 'card' },
          response_url: 'http://127.0.0.1:9/unused',
          actions: [
            {
              type: 'button',
              action_id: actionId,
              block_id: 'paddock_decision',
              value: approvalId,
              action_ts: '1.2',
            },
          ],
        }),
      )}`;
    const posts = (pred: (args: any) => boolean = () => true) =>
      slack.calls.filter((c) => c.method === 'chat.postMessage' && pred(c.args));
    const threadPost = (ts: string) =>
      until(() => posts((a) => a.thread_ts === ts).at(-1), { what: `a post in thread ${ts}` });
    const runCount = async () =>
      Number(
        (
          await t.store.db
            .selectFrom('runs')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const entries = async (action: string) => {
      await deps.audit.flush();
      return (await allAuditEntries(t.store))
        .filter((e) => e.action === action)
        .map((e) => ({ actor: e.actor_id, details: JSON.parse(e.details ?? '{}') }));
    };
    /** Everything but the audit trail (which records refusals). */
    const state = async () => {
      const all = await databaseSnapshot(t.store);
      return Object.fromEntries(
        Object.entries(all).filter(([table]) => !table.startsWith('audit_') && table !== 'sqlite_sequence'),
      );
    };

    test('installing checks the token with Slack and validates; secrets are never shown or recorded', async () => {
      const bad = await api('put', '/slack', { signingSecret: 'short', botToken: slack.botToken });
      assert.deepEqual([bad.status, bad.body.error.code], [400, 'slack_signing_secret_invalid']);
      const rejected = await api('put', '/slack', {
        signingSecret: slack.signingSecret,
        botToken: 'xoxb-0000000000-wrong-token',
      });
      assert.deepEqual([rejected.status, rejected.body.error.code], [400, 'slack_token_rejected']);
      const member = await api(
        'put',
        '/slack',
        { signingSecret: slack.signingSecret, botToken: slack.botToken },
        acme.people.member.token,
      );
      assert.equal(member.status, 403, member.text);
      assert.deepEqual((await api('get', '/slack')).body, { slack: null });
      const ok = await api('put', '/slack', {
        signingSecret: slack.signingSecret,
        botToken: slack.botToken,
        approvalsChannel: APPROVALS,
      });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.teamId, slack.teamId);
      assert.equal(ok.body.eventsPath, '/slack/acme/events');
      const badChannel = await api('put', '/slack/channels', { channelId: '#general', agentId });
      assert.equal(badChannel.status, 400, badChannel.text);
      assert.equal((await api('put', '/slack/channels', { channelId: 'C0UNBOUND1', agentId })).status, 204);
      assert.equal(
        (await api('put', '/slack/channels', { channelId: 'C0UNBOUND1', agentId: null })).status,
        204,
      );
      const gone = await api('put', '/slack/channels', { channelId: 'C0UNBOUND1', agentId: null });
      assert.deepEqual([gone.status, gone.body.error.code], [404, 'slack_binding_not_found']);
      assert.equal((await api('put', '/slack/channels', { channelId: CHANNEL, agentId })).status, 204);
      assert.equal((await api('put', '/slack/channels', { channelId: 'dm', agentId })).status, 204);
      const got = await api('get', '/slack', undefined, acme.people.auditor.token);
      assert.equal(got.status, 200, got.text);
      assert.deepEqual(got.body.slack.bindings.map((b: any) => b.channelId).sort(), [CHANNEL, 'dm'].sort());
      await deps.audit.flush();
      const trail = JSON.stringify(await allAuditEntries(t.store));
      for (const secret of [slack.signingSecret, slack.botToken]) {
        assert.ok(!trail.includes(secret), 'a secret reached the trail');
        assert.ok(!got.text.includes(secret) && !ok.text.includes(secret), 'a secret was shown');
      }
      assert.equal((await entries('slack.installed')).length, 1);
      assert.equal((await entries('slack.channel_bound')).length, 3);
      assert.equal((await entries('slack.channel_unbound')).length, 1);
      // Slack's URL check is answered.
      const challenge = await send(
        JSON.stringify({ type: 'url_verification', challenge: 'abc123', token: 'x' }),
      );
      assert.deepEqual([challenge.status, challenge.body], [200, { challenge: 'abc123' }]);
    });

    test('a mention starts a run as the person matched by email; the answer and its tool calls go to the thread', async () => {
      scripts.set('echo this please', [
        { toolCalls: [{ name: 'everything__echo', args: { message: 'hi' } }] },
        { text: 'Echoed: hi.' },
      ]);
      const body = mention(MEMBER, 'echo this please');
      const ts = JSON.parse(body).event.ts;
      const r = await send(body);
      assert.deepEqual([r.status, r.body], [200, { ok: true }], r.text);
      const answer = await threadPost(ts);
      assert.equal(answer.args.channel, CHANNEL);
      assert.equal(answer.token, slack.botToken);
      assert.match(answer.args.text, /Echoed: hi\./);
      const blocks = JSON.stringify(answer.args.blocks);
      assert.match(blocks, /called `everything__echo`/);
      const run = await t.store.db
        .selectFrom('runs')
        .selectAll()
        .orderBy('created_at', 'desc')
        .executeTakeFirstOrThrow();
      assert.deepEqual([run.via, run.person_id, run.status], ['slack', acme.people.member.id, 'completed']);
      // Slack retries a delivery it thinks was lost: the same event id starts nothing more.
      const before = await runCount();
      const again = await send(body);
      assert.deepEqual([again.status, again.body], [200, { ok: true, duplicate: true }]);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await runCount(), before);
      // Past Slack's retry window the id is forgotten by the scheduled job, and not before.
      const eventId = JSON.parse(body).event_id;
      const kept = () =>
        t.store.db.selectFrom('slack_events').select('event_id').where('event_id', '=', eventId).execute();
      assert.deepEqual(await forgetOldSlackEvents(t.store.db), { events: 0, codes: 0 });
      assert.equal((await kept()).length, 1);
      await forgetOldSlackEvents(t.store.db, new Date(Date.now() + EVENT_IDS_KEPT_MS + 60_000));
      assert.equal((await kept()).length, 0);
    });

    test('an event id is kept only once its event was handled: Slack’s retry after a failure or a crash is handled', async () => {
      const events = () =>
        t.store.db.selectFrom('slack_events').select(['event_id']).orderBy('event_id').execute();
      // A signed event callback Bolt cannot route (no event in it): refused, its id not kept.
      const before = await events();
      const odd = JSON.stringify({ ...JSON.parse(eventBody({})), event: undefined });
      const r = await send(odd);
      assert.deepEqual([r.status, r.body?.error?.code], [400, 'slack_payload_invalid'], r.text);
      assert.deepEqual(await events(), before, 'a refused event leaves its id unused');
      // A server killed after taking an event id and before the run started (the claim is
      // left unhandled): Slack's retry a minute later is handled, once.
      const body = mention(MEMBER, 'after a crash');
      const { event_id: eventId, event } = JSON.parse(body);
      const claimed = new Date(Date.now() - 60_000).toISOString();
      await t.store.db
        .insertInto('slack_events')
        .values({ org_id: acme.id, event_id: eventId, received_at: claimed, handled_at: null })
        .execute();
      const runs = await runCount();
      const retried = await send(body);
      assert.deepEqual([retried.status, retried.body], [200, { ok: true }], retried.text);
      assert.match((await threadPost(event.ts)).args.text, /You said: .*after a crash/);
      assert.equal(await runCount(), runs + 1);
      const again = await send(body);
      assert.deepEqual([again.status, again.body], [200, { ok: true, duplicate: true }]);
      // An event another replica took just now and is still handling: Slack is told to try
      // again later (503), nothing starts here.
      const busy = mention(MEMBER, 'being handled elsewhere');
      await t.store.db
        .insertInto('slack_events')
        .values({
          org_id: acme.id,
          event_id: JSON.parse(busy).event_id,
          received_at: new Date().toISOString(),
          handled_at: null,
        })
        .execute();
      const inProgress = await send(busy);
      assert.deepEqual([inProgress.status, inProgress.body?.error?.code], [503, 'slack_event_in_progress']);
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(await runCount(), runs + 1);
    });

    test('a tool the agent may not call shows as a refused context line', async () => {
      scripts.set('get the env', [
        { toolCalls: [{ name: 'everything__get-env', args: {} }] },
        { text: 'Could not.' },
      ]);
      const body = mention(MEMBER, 'get the env');
      await send(body);
      const answer = await threadPost(JSON.parse(body).event.ts);
      assert.match(JSON.stringify(answer.args.blocks), /`everything__get-env` was refused or failed/);
    });

    test('a blocked pattern never reaches Slack: the run fails on record, the thread hears only why', async () => {
      scripts.set('card please', [{ text: `Sure, it is ${CARD}.` }]);
      const body = mention(MEMBER, 'card please');
      await send(body);
      const answer = await threadPost(JSON.parse(body).event.ts);
      assert.match(answer.args.text, /failed/);
      const everything = JSON.stringify(slack.calls);
      assert.ok(!everything.includes('4111'), 'the blocked answer reached Slack');
    });

    test('a provider error quoting a key reaches the thread, the run record and the API scrubbed, the same text', async () => {
      const body = mention(MEMBER, 'fail loudly');
      await send(body);
      const answer = await threadPost(JSON.parse(body).event.ts);
      assert.match(answer.args.text, /failed/);
      assert.match(answer.args.text, /\[REDACTED\]/, answer.args.text);
      assert.ok(!JSON.stringify(slack.calls).includes(LEAKED_KEY), 'the key reached Slack');
      const row = await t.store.db
        .selectFrom('runs')
        .selectAll()
        .where('org_id', '=', acme.id)
        .orderBy('created_at', 'desc')
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'failed');
      assert.ok(!row.error_message?.includes(LEAKED_KEY), row.error_message ?? '');
      const shown = await api('get', `/runs/${row.id}`);
      assert.equal(shown.status, 200, shown.text);
      assert.ok(!shown.text.includes(LEAKED_KEY), 'the key is in the run as the API shows it');
      assert.ok(
        answer.args.text.includes(shown.body.run.error.message),
        'the thread says what the record says',
      );
    });

    test('unknown people, another workspace’s people and forged user ids are refused politely; no run starts, the refusal is recorded', async () => {
      for (const user of [STRANGER, EXTERNAL, UNCONFIRMED, 'U0NOSUCHONE']) {
        const before = await runCount();
        const body = mention(user, 'hello there');
        const r = await send(body);
        assert.equal(r.status, 200, r.text);
        const reply = await threadPost(JSON.parse(body).event.ts);
        assert.match(reply.args.text, /don't know who you are/);
        assert.equal(await runCount(), before);
        assert.ok(
          (await entries('slack.refused')).some(
            (e) => e.details.reason === 'person_unknown' && e.details.slackUserId === user,
          ),
        );
      }
    });

    test('bad signatures, old timestamps and hostile payloads are answered with clear errors and change nothing', async () => {
      const good = () => mention(MEMBER, 'never runs');
      const cases: [string, () => ReturnType<typeof send>, number, string][] = [
        [
          'wrong secret',
          () => send(good(), { secret: 'ffffffffffffffffffffffffffffffff' }),
          401,
          'slack_signature_invalid',
        ],
        [
          'old timestamp',
          () => send(good(), { timestamp: Math.floor(Date.now() / 1000) - 301 }),
          401,
          'slack_timestamp_too_old',
        ],
        [
          'future timestamp',
          () => send(good(), { timestamp: Math.floor(Date.now() / 1000) + 400 }),
          401,
          'slack_timestamp_too_new',
        ],
        [
          'no signature',
          () => send(good(), { headers: { 'x-slack-signature': '' } }),
          400,
          'slack_headers_invalid',
        ],
        ['malformed JSON', () => send('{"type": "event_callback",'), 400, 'slack_payload_invalid'],
        ['a JSON array', () => send('[1,2]'), 400, 'slack_payload_invalid'],
        [
          'a form without payload',
          () => send('a=b', { contentType: 'application/x-www-form-urlencoded' }),
          400,
          'slack_payload_invalid',
        ],
        [
          'another workspace',
          () => send(good().replaceAll(slack.teamId, 'T0OTHERTEAM')),
          403,
          'slack_team_mismatch',
        ],
        ['an org with no Slack', () => send(good(), { org: 'other' }), 401, 'slack_signature_invalid'],
        ['an unknown org', () => send(good(), { org: 'nosuchorg' }), 401, 'slack_signature_invalid'],
        [
          'a huge body',
          () => send(JSON.stringify({ type: 'event_callback', pad: 'x'.repeat(300 * 1024) })),
          413,
          'payload_too_large',
        ],
      ];
      // The earlier tests' runs settled first, so that only a refused request could change anything.
      await until(async () =>
        (await t.store.db.selectFrom('runs').select('id').where('status', '=', 'running').execute())
          .length === 0
          ? true
          : undefined,
      );
      await deps.audit.flush();
      for (const [what, go, status, code] of cases) {
        const before = await state();
        const calls = slack.calls.length;
        const r = await go();
        assert.deepEqual([r.status, r.body?.error?.code], [status, code], `${what}: ${r.text}`);
        await new Promise((res) => setTimeout(res, 50));
        assert.deepEqual(snapshotDiff(before, await state()), [], `${what} changed something`);
        assert.equal(slack.calls.length, calls, `${what} made Paddock call Slack`);
      }
      const reasons = (await entries('slack.refused')).map((e) => e.details.reason);
      for (const reason of [
        'signature_invalid',
        'timestamp_too_old',
        'headers_invalid',
        'payload_invalid',
        'team_mismatch',
      ])
        assert.ok(reasons.includes(reason), `${reason} was not recorded`);
    });

    test('approval cards: only an explicitly linked approver’s click counts; others change nothing and are recorded', async () => {
      scripts.set('add two and three', [
        { toolCalls: [{ name: 'everything__get-sum', args: { a: 2, b: 3 } }] },
        { text: 'The sum is 5.' },
      ]);
      const body = mention(MEMBER, 'add two and three');
      const ts = JSON.parse(body).event.ts;
      await send(body);
      const card = await until(() => posts((a) => a.channel === APPROVALS).at(-1), {
        what: 'an approval card',
      });
      const approvalId = card.args.blocks[2].elements[0].value as string;
      assert.match(approvalId, /^apr_/);
      assert.ok(!JSON.stringify(card.args).includes('"a":2'), 'the arguments are not put in Slack');
      assert.match((await threadPost(ts)).args.text, /waiting for an approval/);
      const status = async () =>
        (
          await t.store.db
            .selectFrom('approvals')
            .select('status')
            .where('id', '=', approvalId)
            .executeTakeFirstOrThrow()
        ).status;

      // The admin is matched by email, but not linked: the click changes nothing.
      const before = await state();
      const r = await send(click(ADMIN, 'paddock_approve', approvalId), {
        contentType: 'application/x-www-form-urlencoded',
      });
      assert.equal(r.status, 200, r.text);
      const told = await until(() =>
        slack.calls.find((c) => c.method === 'chat.postEphemeral' && c.args.user === ADMIN),
      );
      assert.match(String(told.args.text), /linked to a Paddock approver/);
      assert.equal(await status(), 'pending');
      assert.deepEqual(snapshotDiff(before, await state()), []);
      assert.ok(
        (await entries('slack.refused')).some(
          (e) => e.details.reason === 'not_linked' && e.details.approvalId === approvalId,
        ),
      );

      // A linked member may not decide approvals: refused, on record in their name.
      const memberCode = await api('post', '/slack/link', undefined, acme.people.member.token);
      assert.equal(memberCode.status, 201, memberCode.text);
      await send(dm(MEMBER, `link ${memberCode.body.code}`));
      await until(() => posts((a) => /now linked/.test(a.text)).length >= 1);
      await send(click(MEMBER, 'paddock_approve', approvalId), {
        contentType: 'application/x-www-form-urlencoded',
      });
      await until(async () =>
        (await entries('slack.refused')).find(
          (e) => e.details.reason === 'not_allowed' && e.actor === acme.people.member.id,
        ),
      );
      assert.equal(await status(), 'pending');

      // A code that is wrong links nothing.
      await send(dm(ADMIN, 'link notavalidcode'));
      await until(() => posts((a) => /not valid or has expired/.test(a.text)).length >= 1);

      // The admin links their account from Paddock; then their click approves, the card updates, the run answers.
      const code = await api('post', '/slack/link');
      await send(dm(ADMIN, `link ${code.body.code}`));
      await until(() => posts((a) => /now linked/.test(a.text)).length >= 2);
      assert.equal((await api('get', '/slack/link')).body.link.slackUserId, ADMIN);
      await send(click(ADMIN, 'paddock_approve', approvalId), {
        contentType: 'application/x-www-form-urlencoded',
      });
      const updated = await until(
        () => slack.calls.find((c) => c.method === 'chat.update' && c.args.ts === card.answer.ts),
        { what: 'the card updated' },
      );
      assert.match(JSON.stringify(updated.args.blocks), /approved\* by .* in Slack/);
      // The run resumed and made the call: the approval is used up.
      await until(async () => ((await status()) === 'used' ? true : undefined), {
        what: 'the approval used',
      });
      const answer = await until(
        () => posts((a) => a.thread_ts === ts && /The sum is 5/.test(a.text)).at(-1),
        { what: 'the answer after approval' },
      );
      assert.ok(answer);
      assert.equal((await entries('approval.granted')).at(-1)!.actor, acme.people.admin.id);
    });

    /** A member's message whose sum waits for an approval: its new card in the approvals channel. */
    const cardFor = async (message: string, a: number, b: number, answer: string) => {
      scripts.set(message, [
        { toolCalls: [{ name: 'everything__get-sum', args: { a, b } }] },
        { text: answer },
      ]);
      await send(mention(MEMBER, message));
      const card = await until(
        () =>
          posts((p) => p.channel === APPROVALS && /get-sum/.test(p.text)).find(
            (c) => !slack.calls.some((u) => u.method === 'chat.update' && u.args.ts === c.answer.ts),
          ),
        { what: 'a new card' },
      );
      return { card, approvalId: card.args.blocks[2].elements[0].value as string };
    };

    test('a card updates when its call is decided elsewhere (the API)', async () => {
      const { card, approvalId } = await cardFor('add four and four', 4, 4, 'Eight.');
      const denied = await api(
        'post',
        `/approvals/${approvalId}/deny`,
        { reason: 'no' },
        acme.people.owner.token,
      );
      assert.equal(denied.status, 200, denied.text);
      const updated = await until(
        () => slack.calls.find((c) => c.method === 'chat.update' && c.args.ts === card.answer.ts),
        { what: 'the card updated' },
      );
      assert.match(JSON.stringify(updated.args.blocks), /denied\* by .* in Paddock/);
    });

    test('a card whose run is stopped while it waits says it expired, and why', async () => {
      const { card, approvalId } = await cardFor('add three and seven', 3, 7, 'Ten.');
      const listed = await api('get', '/approvals?status=pending', undefined, acme.people.owner.token);
      const runId = listed.body.approvals.find((a: { id: string }) => a.id === approvalId)?.runId;
      assert.ok(runId, 'the request names its run');
      const stopped = await api('post', `/runs/${runId}/stop`, undefined, acme.people.owner.token);
      assert.equal(stopped.status, 200, stopped.text);
      const updated = await until(
        () => slack.calls.find((c) => c.method === 'chat.update' && c.args.ts === card.answer.ts),
        { what: 'the card updated' },
      );
      assert.match(JSON.stringify(updated.args.blocks), /expired\*: the run that asked for it ended\./);
      // Its thread hears that the run stopped (owed until then, which later tests would meet).
      await until(() => posts((a) => /The run stopped: stopped by a person/.test(a.text)).at(-1), {
        what: 'the thread told the run stopped',
      });
    });

    test('a card a click claimed but never updated (killed between, Slack unreachable) is updated by the sweep after a while', async () => {
      const { card, approvalId } = await cardFor('add six and six', 6, 6, 'Twelve.');
      // As a click leaves it: the card claimed, the decision made in Slack, and then nothing. The
      // card's row is written just after Slack took the post: the claim waits for it.
      const claim = (at: number) =>
        until(
          async () => {
            const r = await t.store.db
              .updateTable('slack_cards')
              .set({ closed_at: new Date(at).toISOString() })
              .where('approval_id', '=', approvalId)
              .executeTakeFirst();
            return Number(r.numUpdatedRows) === 1 ? true : undefined;
          },
          { what: 'the card’s row, to claim' },
        );
      await claim(Date.now());
      const decided = await api(
        'post',
        `/approvals/${approvalId}/approve`,
        { reason: 'decided in Slack' },
        acme.people.admin.token,
      );
      assert.equal(decided.status, 200, decided.text);
      // The run goes on and answers its thread: nothing else of it moves the cards after this.
      await until(() => posts((a) => /Twelve\./.test(a.text)).at(-1), { what: 'the run’s answer' });
      const updates = () =>
        slack.calls.filter((c) => c.method === 'chat.update' && c.args.ts === card.answer.ts);
      await deps.slack.refreshAll();
      assert.equal(
        updates().length,
        0,
        `a claim just made is its click’s to finish ${JSON.stringify(updates())}`,
      );
      await claim(Date.now() - 3 * 60_000);
      await deps.slack.refreshAll();
      // Taken up by this sweep, or by one the org's log growing set off meanwhile: once either way.
      await until(() => (updates().length > 0 ? true : undefined), { what: 'the card updated' });
      assert.equal(updates().length, 1, 'a claim left unfinished is taken up');
      assert.match(JSON.stringify(updates()[0]!.args.blocks), /approved\* by .* in Slack/);
      await deps.slack.refreshAll();
      assert.equal(updates().length, 1, 'and updated once');
    });

    test('the answer goes back to the thread when the approval is decided in Paddock, once', async () => {
      scripts.set('add five and five', [
        { toolCalls: [{ name: 'everything__get-sum', args: { a: 5, b: 5 } }] },
        { text: 'Ten, approved in Paddock.' },
      ]);
      const body = mention(MEMBER, 'add five and five');
      const ts = JSON.parse(body).event.ts;
      await send(body);
      assert.match((await threadPost(ts)).args.text, /waiting for an approval/);
      const waiting = await t.store.db
        .selectFrom('runs')
        .select(['id', 'pending'])
        .where('status', '=', 'waiting_approval')
        .where('input', 'like', '%add five and five%')
        .executeTakeFirstOrThrow();
      const approvalId = JSON.parse(waiting.pending!)[0].approvalId as string;
      const approved = await api('post', `/approvals/${approvalId}/approve`, {}, acme.people.owner.token);
      assert.equal(approved.status, 200, approved.text);
      const answer = await until(
        () => posts((a) => a.thread_ts === ts && /Ten, approved in Paddock/.test(a.text)).at(-1),
        { what: 'the answer after the approval in Paddock' },
      );
      assert.equal(answer.args.channel, CHANNEL);
      // The scheduled backstop finds nothing more to post: it was posted once.
      assert.equal((await deps.slack.refreshAll()).answered, 0);
      assert.equal(posts((a) => a.thread_ts === ts && /Ten, approved/.test(a.text)).length, 1);
      const owed = await t.store.db.selectFrom('slack_waiting_runs').selectAll().execute();
      assert.deepEqual(owed, []);
    });

    test('a run that resumes and waits again gets a new card and says so in its thread; its answer follows', async () => {
      scripts.set('add twice', [
        { toolCalls: [{ name: 'everything__get-sum', args: { a: 1, b: 1 } }] },
        { toolCalls: [{ name: 'everything__get-sum', args: { a: 2, b: 2 } }] },
        { text: 'Two, then four.' },
      ]);
      const body = mention(MEMBER, 'add twice');
      const ts = JSON.parse(body).event.ts;
      await send(body);
      assert.match((await threadPost(ts)).args.text, /waiting for an approval/);
      const pendingOf = async () => {
        const r = await t.store.db
          .selectFrom('runs')
          .select(['status', 'pending'])
          .where('input', '=', 'add twice')
          .executeTakeFirstOrThrow();
        return r.status === 'waiting_approval' ? (JSON.parse(r.pending!)[0].approvalId as string) : undefined;
      };
      const first = await until(pendingOf, { what: 'the first wait' });
      const cardFor = (approvalId: string) =>
        posts((a) => a.channel === APPROVALS && JSON.stringify(a.blocks ?? '').includes(approvalId));
      await until(() => cardFor(first).at(-1), { what: 'the first card' });
      assert.equal(
        (await api('post', `/approvals/${first}/approve`, {}, acme.people.owner.token)).status,
        200,
      );
      const second = await until(
        async () => {
          const id = await pendingOf();
          return id && id !== first ? id : undefined;
        },
        { what: 'the second wait' },
      );
      await until(() => cardFor(second).at(-1), { what: 'a card for the second approval' });
      await until(() => posts((a) => a.thread_ts === ts && /another approval/.test(a.text)).at(-1));
      assert.equal(
        (await api('post', `/approvals/${second}/approve`, {}, acme.people.owner.token)).status,
        200,
      );
      await until(() => posts((a) => a.thread_ts === ts && /Two, then four\./.test(a.text)).at(-1), {
        what: 'the answer after both approvals',
      });
      await deps.slack.refreshAll();
      assert.equal(cardFor(second).length, 1, 'the second card was posted once');
      assert.equal(posts((a) => a.thread_ts === ts && /another approval/.test(a.text)).length, 1);
    });

    test('two replicas, one hearing the decision and one running the scheduled job, post the answer once', async () => {
      scripts.set('add six and six', [
        { toolCalls: [{ name: 'everything__get-sum', args: { a: 6, b: 6 } }] },
        { text: 'Twelve, later.' },
      ]);
      // Another replica (its own service, hearing no signals) starts the run and owes the answer.
      const usual = deps.slack;
      const other = new SlackService({
        db: t.store.db,
        vault: deps.vault,
        audit: deps.audit,
        runs: deps.runs,
        log: deps.log,
        signals: { subscribe: () => () => undefined },
        publicUrl: () => deps.config.publicUrl,
        slackApiUrl: () => slack.url,
      });
      deps.slack = other;
      const body = mention(MEMBER, 'add six and six');
      const ts = JSON.parse(body).event.ts;
      try {
        await send(body);
        assert.match((await threadPost(ts)).args.text, /waiting for an approval/);
      } finally {
        deps.slack = usual;
      }
      const waiting = await t.store.db
        .selectFrom('runs')
        .select(['id', 'pending'])
        .where('status', '=', 'waiting_approval')
        .where('input', 'like', '%add six and six%')
        .executeTakeFirstOrThrow();
      const approvalId = JSON.parse(waiting.pending!)[0].approvalId as string;
      const denied = await api(
        'post',
        `/approvals/${approvalId}/deny`,
        { reason: 'no' },
        acme.people.owner.token,
      );
      assert.equal(denied.status, 200, denied.text);
      // The other replica's job runs again and again while this one hears the run end.
      await until(
        async () => {
          await other.refreshAll();
          return posts((a) => a.thread_ts === ts && /Twelve, later/.test(a.text)).at(-1);
        },
        { what: 'the answer after the denial' },
      );
      await other.refreshAll();
      await new Promise((res) => setTimeout(res, 500));
      assert.equal(posts((a) => a.thread_ts === ts && /Twelve, later/.test(a.text)).length, 1);
    });

    test('an answer Slack could not take stays owed, and is posted once Slack is back', async () => {
      const ended = await t.store.db
        .selectFrom('runs')
        .select('id')
        .where('input', '=', 'add five and five')
        .executeTakeFirstOrThrow();
      const thread = { channel: CHANNEL, thread_ts: '1700000001.000042' };
      await t.store.db
        .insertInto('slack_waiting_runs')
        .values({
          run_id: ended.id,
          org_id: acme.id,
          channel_id: thread.channel,
          thread_ts: thread.thread_ts,
          noted_at: new Date().toISOString(),
        })
        .execute();
      const unreachable = new SlackService({
        db: t.store.db,
        vault: deps.vault,
        audit: deps.audit,
        runs: deps.runs,
        log: deps.log,
        signals: { subscribe: () => () => undefined },
        publicUrl: () => deps.config.publicUrl,
        slackApiUrl: () => 'http://127.0.0.1:9/api/',
      });
      await assert.rejects(unreachable.answerOwed(acme.id));
      assert.deepEqual((await unreachable.refreshAll()).answered, 0);
      const owed = await t.store.db.selectFrom('slack_waiting_runs').select('run_id').execute();
      assert.deepEqual(
        owed.map((r) => r.run_id),
        [ended.id],
      );
      assert.equal(await deps.slack.answerOwed(acme.id), 1);
      assert.match(
        posts((a) => a.thread_ts === thread.thread_ts).at(-1)!.args.text,
        /Ten, approved in Paddock/,
      );
      assert.deepEqual(await t.store.db.selectFrom('slack_waiting_runs').select('run_id').execute(), []);
    });

    test('a follow-up in the thread continues the conversation, as whoever wrote it', async () => {
      scripts.set('echo the code word', [
        // A step's words beside its call (never shown in the thread: only the last step's text is).
        {
          text: 'Your files say plum-2209; echoing it.',
          toolCalls: [{ name: 'everything__echo', args: { message: 'kiwi-7731' } }],
        },
        { text: 'Done, echoed.' },
      ]);
      const first = mention(MEMBER, 'echo the code word');
      const ts = JSON.parse(first).event.ts;
      await send(first);
      assert.match((await threadPost(ts)).args.text, /Done, echoed\./);
      assert.ok(
        !JSON.stringify(posts((a) => a.thread_ts === ts)).includes('plum-2209'),
        'the thread showed it',
      );
      const runOf = (text: string) =>
        until(
          () =>
            t.store.db
              .selectFrom('runs')
              .selectAll()
              .where('input', '=', text)
              .where('status', '=', 'completed')
              .executeTakeFirst(),
          { what: `the run for ${text}` },
        );
      const started = await runOf('echo the code word');

      // The same person replies in the thread, no mention: the same conversation, its whole history.
      const mine = inThread(MEMBER, 'what did the tool say?', ts);
      const r = await send(mine);
      assert.deepEqual([r.status, r.body], [200, { ok: true }], r.text);
      await until(() =>
        posts((a) => a.thread_ts === ts && /You said: what did the tool say\?/.test(a.text)).at(-1),
      );
      const followed = await runOf('what did the tool say?');
      assert.deepEqual(
        [followed.conversation_id, followed.person_id, followed.via],
        [started.conversation_id, acme.people.member.id, 'slack'],
      );
      const heard = seen.get('what did the tool say?')!;
      assert.ok(JSON.stringify(heard.body).includes('kiwi-7731'), 'the history carried the tool result');
      // (OpenAI's answer rides as a reference to the stored response, as the runtime sends it for any follow-up.)
      assert.ok(
        JSON.stringify(heard.body).includes('echo the code word'),
        'the history carried the question',
      );

      // Slack delivers it again: nothing more starts.
      const runs = await runCount();
      const again = await send(mine);
      assert.deepEqual([again.status, again.body], [200, { ok: true, duplicate: true }]);
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(await runCount(), runs);

      // Someone else in the thread: the same conversation, as themselves (the admin's run), carrying
      // what the thread shows — not the member's tool calls and results.
      scripts.set('and what did we agree?', [
        { toolCalls: [{ name: 'everything__echo', args: { message: 'fig-4410' } }] },
        { text: 'You said: and what did we agree?' },
      ]);
      await send(inThread(ADMIN, 'and what did we agree?', ts));
      await until(() =>
        posts((a) => a.thread_ts === ts && /You said: and what did we agree\?/.test(a.text)).at(-1),
      );
      const theirs = await runOf('and what did we agree?');
      assert.deepEqual(
        [theirs.conversation_id, theirs.person_id],
        [started.conversation_id, acme.people.admin.id],
      );
      const told = JSON.stringify(seen.get('and what did we agree?')!.body);
      assert.ok(told.includes('echo the code word') && told.includes('Done, echoed.'), told);
      assert.ok(!told.includes('kiwi-7731'), 'another person’s tool result reached the run');
      assert.ok(!told.includes('plum-2209'), 'words of another person’s step the thread never showed');
      // Who wrote in the member's thread is on record (a deletion of the admin's data finds it there).
      assert.deepEqual(
        (
          await t.store.db
            .selectFrom('conversation_writers')
            .select(['conversation_id', 'person_id'])
            .where('org_id', '=', acme.id)
            .execute()
        ).map((r) => ({ ...r })),
        [{ conversation_id: started.conversation_id, person_id: acme.people.admin.id }],
      );
      // From then on the member too hears what the thread shows (the admin's run is in it now).
      await send(inThread(MEMBER, 'and once more', ts));
      await until(() => posts((a) => a.thread_ts === ts && /You said: and once more/.test(a.text)).at(-1));
      assert.ok(!JSON.stringify(seen.get('and once more')!.body).includes('kiwi-7731'));
      assert.ok(
        !JSON.stringify(seen.get('and once more')!.body).includes('fig-4410'),
        'the admin’s tool result reached the member',
      );
      assert.equal((await runOf('and once more')).conversation_id, started.conversation_id);
      // Not through the API, even by the member who started it: what is added there would reach
      // whoever writes in the thread next, who never saw it.
      const viaApi = await api(
        'post',
        `/agents/${agentId}/runs`,
        { message: 'from the API now', conversationId: started.conversation_id },
        acme.people.member.token,
      );
      assert.deepEqual([viaApi.status, viaApi.body.error.code], [409, 'conversation_in_slack'], viaApi.text);
      assert.equal(seen.get('from the API now'), undefined);
      // Nor by someone else (another person's conversation reads as missing there).
      const notTheirs = await api('post', `/agents/${agentId}/runs`, {
        message: 'let me in',
        conversationId: started.conversation_id,
      });
      assert.deepEqual([notTheirs.status, notTheirs.body.error.code], [404, 'conversation_not_found']);

      // A mention inside the thread continues it too; its twin message event is left to it.
      const twinRuns = await runCount();
      await send(inThread(MEMBER, `<@${slack.botUserId}> mentioned in the thread`, ts));
      await send(
        eventBody({
          type: 'app_mention',
          user: MEMBER,
          channel: CHANNEL,
          text: `<@${slack.botUserId}> mentioned in the thread`,
          thread_ts: ts,
        }),
      );
      await until(() =>
        posts((a) => a.thread_ts === ts && /You said: mentioned in the thread/.test(a.text)).at(-1),
      );
      assert.equal((await runOf('mentioned in the thread')).conversation_id, started.conversation_id);
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(await runCount(), twinRuns + 1, 'the mention and its message twin started one run');

      // Someone Paddock does not know, in the thread: refused politely as themselves, nothing starts.
      const before = await runCount();
      await send(inThread(STRANGER, 'let me in', ts));
      await until(() => posts((a) => a.thread_ts === ts && /don't know who you are/.test(a.text)).at(-1));
      assert.equal(await runCount(), before);
    });

    test('a shared thread’s conversation keeps what the thread shows: once its runs are deleted (retention), the one who started it is not handed another’s tool results', async () => {
      const first = mention(MEMBER, 'a thread to share');
      const ts = JSON.parse(first).event.ts;
      await send(first);
      await until(() =>
        posts((a) => a.thread_ts === ts && /You said: a thread to share/.test(a.text)).at(-1),
      );
      // The admin reads something through a tool in the member's thread.
      scripts.set('look it up for us', [
        { toolCalls: [{ name: 'everything__echo', args: { message: 'pear-5512' } }] },
        { text: 'Looked it up.' },
      ]);
      await send(inThread(ADMIN, 'look it up for us', ts));
      await until(() => posts((a) => a.thread_ts === ts && /Looked it up\./.test(a.text)).at(-1));
      const conversationId = (
        await until(() =>
          t.store.db
            .selectFrom('runs')
            .select('conversation_id')
            .where('input', '=', 'look it up for us')
            .where('status', '=', 'completed')
            .executeTakeFirst(),
        )
      ).conversation_id;
      // Run retention (30 days) deletes the thread's runs; the conversation is kept (no policy for it).
      const longAgo = new Date(Date.now() - 40 * 86_400_000).toISOString();
      await t.store.db
        .updateTable('runs')
        .set({ ended_at: longAgo })
        .where('conversation_id', '=', conversationId)
        .execute();
      const set = await api('patch', '', { settings: { runRetentionDays: 30 } }, acme.people.owner.token);
      assert.equal(set.status, 200, set.text);
      try {
        assert.ok((await applyRecordRetention(t.store.db)).runs >= 2);
      } finally {
        await api('patch', '', { settings: { runRetentionDays: null } }, acme.people.owner.token);
      }
      assert.equal(
        (
          await t.store.db
            .selectFrom('runs')
            .select('id')
            .where('conversation_id', '=', conversationId)
            .execute()
        ).length,
        0,
      );
      // The member writes in the thread again: alone in it as far as the runs go, yet not handed the admin's result.
      await send(inThread(MEMBER, 'so what came back?', ts));
      await until(() =>
        posts((a) => a.thread_ts === ts && /You said: so what came back\?/.test(a.text)).at(-1),
      );
      const told = JSON.stringify(seen.get('so what came back?')!.body);
      assert.ok(!told.includes('pear-5512'), 'another person’s tool result reached the run');
      assert.ok(told.includes('Looked it up.'), told);
      // Its runs gone, it is still the thread's: the API does not continue it.
      await t.store.db.deleteFrom('runs').where('conversation_id', '=', conversationId).execute();
      const viaApi = await api(
        'post',
        `/agents/${agentId}/runs`,
        { message: 'from the API after retention', conversationId },
        acme.people.member.token,
      );
      assert.deepEqual([viaApi.status, viaApi.body.error?.code], [409, 'conversation_in_slack'], viaApi.text);
      assert.equal(seen.get('from the API after retention'), undefined);
    });

    test('a thread whose channel now has another agent continues nothing; one whose conversation is gone starts a new one', async () => {
      const body = mention(MEMBER, 'start of a thread');
      const ts = JSON.parse(body).event.ts;
      await send(body);
      await until(() =>
        posts((a) => a.thread_ts === ts && /You said: start of a thread/.test(a.text)).at(-1),
      );
      const conversationOf = async (text: string) =>
        await until(() =>
          t.store.db
            .selectFrom('runs')
            .select(['conversation_id', 'agent_id'])
            .where('input', '=', text)
            .where('status', '=', 'completed')
            .executeTakeFirst(),
        );
      const first = await conversationOf('start of a thread');
      // Only its author wrote in it so far: still a thread's, continued only in Slack.
      const viaApi = await api(
        'post',
        `/agents/${agentId}/runs`,
        { message: 'via the API', conversationId: first.conversation_id },
        acme.people.member.token,
      );
      assert.deepEqual(
        [viaApi.status, viaApi.body?.error?.code],
        [409, 'conversation_in_slack'],
        viaApi.text,
      );
      // Its conversation is gone (retention, a deletion): the next reply starts a new one there.
      await t.store.db
        .updateTable('slack_threads')
        .set({ conversation_id: 'cnv_gone00000000' })
        .where('thread_ts', '=', ts)
        .execute();
      await send(inThread(MEMBER, 'after it was gone', ts));
      await until(() =>
        posts((a) => a.thread_ts === ts && /You said: after it was gone/.test(a.text)).at(-1),
      );
      const fresh = await conversationOf('after it was gone');
      assert.notEqual(fresh.conversation_id, first.conversation_id);
      const row = await t.store.db
        .selectFrom('slack_threads')
        .select('conversation_id')
        .where('thread_ts', '=', ts)
        .executeTakeFirstOrThrow();
      assert.equal(row.conversation_id, fresh.conversation_id);
      // The channel is bound to another agent: a plain reply is left alone; a mention starts anew with it.
      const other = await api('post', '/agents', {
        name: 'second-helper',
        scope: 'organization',
        instructions: 'Help.',
        model: { provider: 'openai', model: 'gpt-test' },
      });
      assert.equal(other.status, 201, other.text);
      assert.equal(
        (await api('put', '/slack/channels', { channelId: CHANNEL, agentId: other.body.id })).status,
        204,
      );
      try {
        const runs = await runCount();
        const calls = slack.calls.length;
        await send(inThread(MEMBER, 'to the old agent', ts));
        await new Promise((res) => setTimeout(res, 300));
        assert.equal(await runCount(), runs);
        assert.equal(slack.calls.length, calls);
        await send(
          eventBody({
            type: 'app_mention',
            user: MEMBER,
            channel: CHANNEL,
            text: `<@${slack.botUserId}> to the new agent`,
            thread_ts: ts,
          }),
        );
        await until(() =>
          posts((a) => a.thread_ts === ts && /You said: to the new agent/.test(a.text)).at(-1),
        );
        const anew = await conversationOf('to the new agent');
        assert.equal(anew.agent_id, other.body.id);
        assert.notEqual(anew.conversation_id, fresh.conversation_id);
      } finally {
        assert.equal((await api('put', '/slack/channels', { channelId: CHANNEL, agentId })).status, 204);
      }
    });

    test('replies Paddock was not part of, and hostile thread ids, are ignored: nothing posted, nothing started', async () => {
      const before = await state();
      const calls = slack.calls.length;
      const runs = await runCount();
      for (const body of [
        inThread(MEMBER, 'chatting among ourselves', '1700000000.000001'),
        eventBody({
          type: 'message',
          channel_type: 'channel',
          user: MEMBER,
          channel: CHANNEL,
          text: 'no thread',
        }),
        inThread(MEMBER, 'odd thread', '../../etc'),
        inThread(MEMBER, 'odd thread', '1.2', { channel: 'not-a-channel' }),
        inThread(MEMBER, 'bot', '1.2', { bot_id: 'B0BOT' }),
      ]) {
        const r = await send(body);
        assert.equal(r.status, 200, r.text);
      }
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(await runCount(), runs);
      assert.equal(slack.calls.length, calls, 'something was posted');
      const diff = snapshotDiff(before, await state()).filter((d) => !String(d).includes('slack_events'));
      assert.deepEqual(diff, []);
    });

    test('a flood of forged requests is answered 429 and recorded once; signed requests still get through', async () => {
      // A service of its own with a small limit, so the rest of the suite keeps the default one.
      const usual = deps.slack;
      deps.slack = new SlackService({
        db: t.store.db,
        vault: deps.vault,
        audit: deps.audit,
        runs: deps.runs,
        log: deps.log,
        signals: deps.live.signals,
        publicUrl: () => deps.config.publicUrl,
        slackApiUrl: () => slack.url,
        limiter: new AttemptLimiter(5, 60_000),
      });
      try {
        let limited = 0;
        for (let i = 0; i < 12; i++) {
          const r = await send(mention(MEMBER, 'forged'), { secret: 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee' });
          if (r.status === 429) limited++;
          else assert.equal(r.body.error.code, 'slack_signature_invalid');
        }
        assert.equal(limited, 7, 'the refusals past the limit were not limited');
        await deps.audit.flush();
        assert.equal(
          (await entries('slack.refused')).filter((e) => e.details.reason === 'rate_limited').length,
          1,
        );
        const body = mention(MEMBER, 'still here?');
        const ok = await send(body);
        assert.deepEqual([ok.status, ok.body], [200, { ok: true }], ok.text);
        assert.match((await threadPost(JSON.parse(body).event.ts)).args.text, /You said: .*still here\?/);
      } finally {
        deps.slack = usual;
      }
    });

    describe('Socket Mode', () => {
      const OWNER = 'U0OWNER001';
      /** Every log line the Slack service writes from here on, at debug level. */
      const lines: string[] = [];
      /** An envelope sent over the open connection, once Paddock has acknowledged it. */
      const deliver = async (type: 'events_api' | 'interactive', payload: Record<string, unknown>) => {
        const id = slack.sendEnvelope(type, payload);
        await until(() => slack.acks.get(id), { what: `the ack of envelope ${id}` });
        return id;
      };
      const clickPayload = (user: string, actionId: string, approvalId: string) =>
        JSON.parse(decodeURIComponent(click(user, actionId, approvalId).slice('payload='.length)));

      test('installing with an app-level token opens a connection; bad tokens and options are refused', async () => {
        slack.users.set(OWNER, { email: acme.people.owner.email });
        deps.slack = new SlackService({
          db: t.store.db,
          vault: deps.vault,
          audit: deps.audit,
          runs: deps.runs,
          log: createLogger({ level: 'debug', destination: { write: (line: string) => lines.push(line) } }),
          signals: deps.live.signals,
          publicUrl: () => deps.config.publicUrl,
          slackApiUrl: () => slack.url,
        });
        const base = {
          signingSecret: slack.signingSecret,
          botToken: slack.botToken,
          approvalsChannel: APPROVALS,
        };
        const before = await state();
        for (const [body, status, code] of [
          [{ ...base, socketMode: true }, 400, 'slack_app_token_required'],
          [{ ...base, socketMode: true, appToken: slack.botToken }, 400, 'slack_app_token_invalid'],
          [
            { ...base, socketMode: true, appToken: 'xapp-1-A0PADDOCK-0000-notthetoken' },
            400,
            'slack_app_token_rejected',
          ],
          [{ ...base, socketMode: 'yes', appToken: slack.appToken }, 400, 'validation_failed'],
        ] as const) {
          const r = await api('put', '/slack', body);
          assert.deepEqual([r.status, r.body.error?.code], [status, code], r.text);
        }
        assert.deepEqual(snapshotDiff(before, await state()), []);
        assert.equal(slack.sockets.size, 0);
        const ok = await api('put', '/slack', { ...base, socketMode: true, appToken: slack.appToken });
        assert.equal(ok.status, 200, ok.text);
        assert.equal(ok.body.socketMode, true);
        assert.deepEqual(deps.slack.socketOrgs(), [acme.id]);
        await until(() => (slack.sockets.size === 1 ? true : undefined), {
          what: 'a Socket Mode connection',
        });
        const opened = slack.calls.filter((c) => c.method === 'apps.connections.open' && c.answer.ok);
        assert.ok(opened.length >= 2 && opened.every((c) => c.token === slack.appToken));
        assert.equal((await api('get', '/slack')).body.slack.socketMode, true);
        // Same workspace: the bindings and links made over HTTP still hold.
        assert.equal((await api('get', '/slack/link')).body.link.slackUserId, ADMIN);
      });

      test('a mention over Socket Mode starts a run as the matched person, acked, answered in the thread; a redelivery starts nothing', async () => {
        const payload = JSON.parse(mention(MEMBER, 'over the socket'));
        await deliver('events_api', payload);
        const answer = await threadPost(payload.event.ts);
        assert.equal(answer.args.channel, CHANNEL);
        assert.equal(answer.token, slack.botToken);
        assert.match(answer.args.text, /You said: .*over the socket/);
        const run = await t.store.db
          .selectFrom('runs')
          .selectAll()
          .orderBy('created_at', 'desc')
          .executeTakeFirstOrThrow();
        assert.deepEqual([run.via, run.person_id, run.status], ['slack', acme.people.member.id, 'completed']);
        // The same event in a new envelope (Slack retries on another connection): acked, no run.
        const runs = await runCount();
        const posted = posts().length;
        await deliver('events_api', payload);
        await new Promise((res) => setTimeout(res, 300));
        assert.equal(await runCount(), runs);
        assert.equal(posts().length, posted);
        // A reply in its thread, over the socket too, continues its conversation.
        await deliver(
          'events_api',
          JSON.parse(inThread(MEMBER, 'and over the socket again', payload.event.ts)),
        );
        await until(() =>
          posts(
            (a) => a.thread_ts === payload.event.ts && /You said: and over the socket again/.test(a.text),
          ).at(-1),
        );
        const next = await t.store.db
          .selectFrom('runs')
          .select('conversation_id')
          .where('input', '=', 'and over the socket again')
          .executeTakeFirstOrThrow();
        assert.equal(next.conversation_id, run.conversation_id);
      });

      test('another workspace’s envelope and a malformed one are acked, refused on record, and change nothing', async () => {
        await until(async () =>
          (await t.store.db.selectFrom('runs').select('id').where('status', '=', 'running').execute())
            .length === 0
            ? true
            : undefined,
        );
        const before = await state();
        const calls = slack.calls.length;
        await deliver(
          'events_api',
          JSON.parse(mention(MEMBER, 'elsewhere').replaceAll(slack.teamId, 'T0OTHERTEAM')),
        );
        await deliver('events_api', {
          type: 'event_callback',
          team_id: slack.teamId,
          event_id: 42,
          event: {},
        });
        await new Promise((res) => setTimeout(res, 100));
        assert.deepEqual(snapshotDiff(before, await state()), []);
        assert.equal(slack.calls.length, calls);
        const refused = (await entries('slack.refused')).filter((e) => e.details.from === 'socket_mode');
        assert.deepEqual(refused.map((e) => e.details.reason).sort(), ['payload_invalid', 'team_mismatch']);
      });

      test('approval clicks over Socket Mode: a non-linked person changes nothing and is recorded; a linked approver decides', async () => {
        scripts.set('add one and one', [
          { toolCalls: [{ name: 'everything__get-sum', args: { a: 1, b: 1 } }] },
          { text: 'The sum is 2.' },
        ]);
        const payload = JSON.parse(mention(MEMBER, 'add one and one'));
        const cards = posts((a) => a.channel === APPROVALS).length;
        await deliver('events_api', payload);
        const card = await until(() => posts((a) => a.channel === APPROVALS).at(cards), {
          what: 'an approval card',
        });
        const approvalId = card.args.blocks[2].elements[0].value as string;
        const status = async () =>
          (
            await t.store.db
              .selectFrom('approvals')
              .select('status')
              .where('id', '=', approvalId)
              .executeTakeFirstOrThrow()
          ).status;
        await threadPost(payload.event.ts);
        // The owner is matched by email but never linked their Slack account.
        const before = await state();
        await deliver('interactive', clickPayload(OWNER, 'paddock_approve', approvalId));
        await until(() =>
          slack.calls.find((c) => c.method === 'chat.postEphemeral' && c.args.user === OWNER),
        );
        assert.equal(await status(), 'pending');
        assert.deepEqual(snapshotDiff(before, await state()), []);
        assert.ok(
          (await entries('slack.refused')).some(
            (e) =>
              e.details.reason === 'not_linked' &&
              e.details.approvalId === approvalId &&
              e.details.slackUserId === OWNER,
          ),
        );
        await deliver('interactive', clickPayload(ADMIN, 'paddock_approve', approvalId));
        const updated = await until(
          () => slack.calls.find((c) => c.method === 'chat.update' && c.args.ts === card.answer.ts),
          { what: 'the card updated' },
        );
        // By the admin: "in Slack", or "in Paddock" when the first service here (another replica,
        // in effect) heard the decision and closed the card first.
        assert.match(JSON.stringify(updated.args.blocks), /approved\* by admin in (Slack|Paddock)/);
        await until(async () => ((await status()) === 'used' ? true : undefined), {
          what: 'the approval used',
        });
        await until(() =>
          posts((a) => a.thread_ts === payload.event.ts && /The sum is 2/.test(a.text)).at(-1),
        );
      });

      test('a replica starting opens a connection for each Socket Mode org; a re-install elsewhere replaces it; shutdown closes it', async () => {
        const other = new SlackService({
          db: t.store.db,
          vault: deps.vault,
          audit: deps.audit,
          runs: deps.runs,
          log: createLogger({ level: 'silent' }),
          signals: deps.live.signals,
          publicUrl: () => deps.config.publicUrl,
          slackApiUrl: () => slack.url,
        });
        assert.deepEqual(await other.openSockets(), { opened: 1 });
        await until(() => (slack.sockets.size === 2 ? true : undefined), { what: 'a second connection' });
        const [first, second] = [...slack.sockets];
        // Installed again through the first replica: the other hears it and replaces its connection.
        const again = await api('put', '/slack', {
          signingSecret: slack.signingSecret,
          botToken: slack.botToken,
          approvalsChannel: APPROVALS,
          socketMode: true,
          appToken: slack.appToken,
        });
        assert.equal(again.status, 200, again.text);
        await until(
          () =>
            slack.sockets.size === 2 && !slack.sockets.has(first!) && !slack.sockets.has(second!)
              ? true
              : undefined,
          { what: 'both connections replaced' },
        );
        await other.close();
        await until(() => (slack.sockets.size === 1 ? true : undefined), { what: 'the second one closed' });
        assert.deepEqual(other.socketOrgs(), []);
      });

      test('a connection that never hears hello counts as failed: closed, and not held', async () => {
        const warned: string[] = [];
        const other = new SlackService({
          db: t.store.db,
          vault: deps.vault,
          audit: deps.audit,
          runs: deps.runs,
          log: createLogger({ level: 'warn', destination: { write: (line: string) => warned.push(line) } }),
          signals: deps.live.signals,
          publicUrl: () => deps.config.publicUrl,
          slackApiUrl: () => slack.url,
          socketOpenMs: 300,
        });
        slack.hello = false;
        try {
          await other.openSockets();
          assert.deepEqual(other.socketOrgs(), []);
          assert.ok(warned.some((l) => l.includes('retrying in a minute')));
          await until(() => (slack.sockets.size === 1 ? true : undefined), { what: 'the silent one closed' });
        } finally {
          slack.hello = true;
          await other.close();
        }
        assert.ok(!warned.join('').includes(slack.appToken));
      });

      test('uninstalling closes the connection; the app-level token was never shown, logged or recorded', async () => {
        const shown = [
          (await api('get', '/slack')).text,
          (await api('get', '/slack', undefined, acme.people.auditor.token)).text,
        ];
        assert.equal((await api('delete', '/slack')).status, 204);
        await until(() => (slack.sockets.size === 0 ? true : undefined), { what: 'the connection closed' });
        assert.deepEqual(deps.slack.socketOrgs(), []);
        await deps.audit.flush();
        const trail = JSON.stringify(await allAuditEntries(t.store));
        assert.ok(lines.length > 0, 'nothing was logged');
        const secret = slack.appToken;
        assert.ok(!trail.includes(secret), 'the app token reached the trail');
        assert.ok(!lines.join('').includes(secret), 'the app token reached the log');
        assert.ok(!lines.join('').includes('over the socket'), 'a message someone wrote reached the log');
        assert.ok(
          lines.some((l) => /Socket Mode|WebSocket/i.test(l)),
          'the connection logged nothing',
        );
        assert.ok(!shown.join('').includes(secret), 'the app token was shown');
        assert.ok(
          (await entries('slack.installed')).some((e) => e.details.socketMode === true),
          'the install with Socket Mode was not recorded as such',
        );
        // Installed again over HTTP, for the tests after.
        const r = await api('put', '/slack', {
          signingSecret: slack.signingSecret,
          botToken: slack.botToken,
          approvalsChannel: APPROVALS,
        });
        assert.deepEqual([r.status, r.body.socketMode], [200, false], r.text);
        await new Promise((res) => setTimeout(res, 100));
        assert.equal(slack.sockets.size, 0);
      });
    });

    test('uninstalling deletes the credentials, bindings and links; its events are then refused', async () => {
      assert.equal((await api('delete', '/slack')).status, 204);
      for (const table of ['slack_installs', 'slack_bindings', 'slack_links'] as const)
        assert.equal(
          (await t.store.db.selectFrom(table).selectAll().where('org_id', '=', acme.id).execute()).length,
          0,
          table,
        );
      const r = await send(mention(MEMBER, 'anyone?'));
      assert.deepEqual([r.status, r.body.error.code], [401, 'slack_signature_invalid']);
      // Once here, once in the Socket Mode tests.
      assert.equal((await entries('slack.uninstalled')).length, 2);
    });
  });
}
