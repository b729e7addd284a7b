/**
 * Inbound webhooks end to end, on both engines: endpoints managed through the API, and real
 * deliveries signed by the Standard Webhooks reference library (`standardwebhooks`) starting
 * real runs in a real org cell (bubblewrap) that think with a scripted model. Every refusal —
 * bad signature, old or future timestamp, replayed id, rotated secret, deleted or unknown
 * endpoint, stopped agent — starts nothing (runs and every table but the audit trail's unchanged)
 * and is recorded as `webhook.refused` with its reason, never the body or the signature.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import { bubblewrap } from '../cells/index.ts';
import { AttemptLimiter } from '../identity/index.ts';
import { createLogger } from '../log/index.ts';
import { secretForms } from '../redact/index.ts';
import {
  allAuditEntries,
  call,
  createApp,
  type SeededOrg,
  seedOrg,
  testDeps,
  useModelServer,
} from '../testing/fixtures.ts';
import { type ModelServer, startModelServer } from '../testing/model-server/index.ts';
import { databaseSnapshot, snapshotDiff } from '../testing/snapshot.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';
import { claimDelivery, forgetExpiredDeliveries } from './deliveries.ts';
import { WebhookReceiver } from './index.ts';

const KEY = 'sk-webhooks-e2e-7d1e0b9c44a2f6e3';
/** A marker in every body sent: it must never reach the audit trail of a refusal. */
const MARK = 'body-marker-5c9e';

for (const kind of STORE_KINDS) {
  describe(`inbound webhooks [${kind}]`, () => {
    let t: TestStore;
    let deps: ReturnType<typeof testDeps>;
    let app: ReturnType<typeof createApp>;
    let models: ModelServer;
    let acme: SeededOrg;
    /** The member's own agent (they may manage its endpoints), and an admin's. */
    let agentId: string;
    let adminsAgent: string;
    let hook: { id: string; secret: string };
    const secretsSeen: string[] = [];
    const logs: string[] = [];
    /** Deliveries whose run the scripted model holds until released. */
    const held = new Map<string, () => void>();

    const api = (method: string, path: string, body?: unknown, token = acme.people.member.token) =>
      call(app, method, `/api/v1/orgs/acme${path}`, { token, ...(body === undefined ? {} : { body }) });

    before(async () => {
      const check = await bubblewrap.check();
      assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
      models = await startModelServer(async (req) => {
        const id = /Delivery id: (\S+)/.exec(req.lastUserText)?.[1] ?? 'none';
        if (req.lastUserText.includes('"hold": true'))
          await new Promise<void>((resolve) => held.set(id, resolve));
        return { text: `Handled ${id}.` };
      });
      t = await openTestStore(kind);
      const log = createLogger({ level: 'debug', destination: { write: (s: string) => void logs.push(s) } });
      deps = testDeps(t.store, t.home, { log }, { provider: bubblewrap, problem: null });
      deps.audit.start();
      app = createApp(deps);
      acme = await seedOrg(t.store, 'acme');
      await seedOrg(t.store, 'other');
      await useModelServer(app, acme, models.url, KEY);
      const model = { provider: 'openai', model: 'gpt-test' };
      const mine = await api('post', '/agents', {
        name: 'on-call',
        scope: 'private',
        instructions: 'Handle deliveries.',
        model,
      });
      assert.equal(mine.status, 201, mine.text);
      agentId = mine.body.id;
      const theirs = await api(
        'post',
        '/agents',
        { name: 'admins', scope: 'organization', instructions: 'x', model },
        acme.people.admin.token,
      );
      adminsAgent = theirs.body.id;
    });

    after(async () => {
      for (const release of held.values()) release();
      await models?.close();
      await t?.cleanup();
    });

    /** A delivery signed by the reference library; `sign` changes what is signed, not what is sent. */
    async function deliver(
      id: string,
      secret: string,
      opts: {
        body?: string;
        msgId?: string;
        timestamp?: number;
        contentType?: string;
        headers?: Record<string, string>;
      } = {},
    ) {
      const body = opts.body ?? JSON.stringify({ event: 'deploy.finished', note: MARK });
      const msgId = opts.msgId ?? `msg_${Math.random().toString(36).slice(2)}`;
      const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
      const signature = new Webhook(secret).sign(msgId, new Date(timestamp * 1000), body);
      const res = await app.request(`/hooks/${id}`, {
        method: 'POST',
        headers: {
          'content-type': opts.contentType ?? 'application/json',
          'webhook-id': msgId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signature,
          ...opts.headers,
        },
        body,
      });
      const text = await res.text();
      return { status: res.status, body: JSON.parse(text), text, msgId, timestamp, signature };
    }

    const runWhen = (id: string, ok: (run: any) => boolean) =>
      until(
        async () => {
          const r = (await api('get', `/runs/${id}`, undefined, acme.people.owner.token)).body.run;
          return ok(r) ? r : undefined;
        },
        { what: `run ${id}` },
      );
    const ended = (id: string) => runWhen(id, (r) => r.status !== 'running');

    /** Every table but the audit trail's, for "nothing changed but the record". */
    const state = async () => {
      await deps.audit.flush();
      const all = await databaseSnapshot(t.store);
      // The trail's own tables, and SQLite's counter of their row ids.
      const trail = (table: string) => table.startsWith('audit_') || table === 'sqlite_sequence';
      return Object.fromEntries(Object.entries(all).filter(([table]) => !trail(table)));
    };
    const refusals = async () => {
      await deps.audit.flush();
      return (await allAuditEntries(t.store))
        .filter((e) => e.action === 'webhook.refused')
        .map((e) => ({ actor: e.actor_id, target: e.target_id, details: JSON.parse(e.details ?? '{}') }));
    };

    /** Sends a delivery that must be refused: it starts nothing and is recorded (or, unknown, not). */
    async function refused(
      send: () => ReturnType<typeof deliver>,
      expect: {
        status: number;
        code: string;
        reason: string | null;
        endpoint?: string;
        /** The delivery id recorded (the one sent, unless the headers were malformed). */
        deliveryId?: string | null;
      },
    ) {
      const before = await state();
      const entries = (await refusals()).length;
      const r = await send();
      assert.equal(r.status, expect.status, r.text);
      assert.equal(r.body.error.code, expect.code);
      assert.deepEqual(snapshotDiff(before, await state()), [], 'a refused delivery changed something');
      const now = await refusals();
      if (expect.reason === null) {
        assert.equal(now.length, entries, 'an unknown endpoint has no org to record in');
        return r;
      }
      assert.equal(now.length, entries + 1, 'one webhook.refused entry');
      const deliveryId = expect.deliveryId === undefined ? r.msgId : expect.deliveryId;
      const entry = now.find(
        (e) => e.details.reason === expect.reason && e.details.deliveryId === deliveryId,
      );
      assert.ok(entry, `a webhook.refused entry for ${expect.reason}: ${JSON.stringify(now.at(-1))}`);
      assert.equal(entry.target, expect.endpoint ?? hook.id);
      assert.equal(entry.actor, `webhook:${expect.endpoint ?? hook.id}`);
      const recorded = JSON.stringify(entry);
      assert.ok(!recorded.includes(MARK), 'the body is not recorded');
      assert.ok(!recorded.includes(r.signature.slice(3)), 'the signature is not recorded');
      return r;
    }

    test('endpoints: the agent’s owner or an admin makes one, its secret shown once; listed without it', async () => {
      const made = await api('post', `/agents/${agentId}/webhooks`, { name: 'deploys' });
      assert.equal(made.status, 201, made.text);
      assert.match(made.body.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
      assert.match(made.body.webhook.id, /^whk_/);
      assert.equal(made.body.webhook.path, `/hooks/${made.body.webhook.id}`);
      assert.equal(made.body.webhook.url, new URL(made.body.webhook.path, deps.config.publicUrl).href);
      assert.equal(made.body.webhook.secretHint, `…${made.body.secret.slice(-4)}`);
      hook = { id: made.body.webhook.id, secret: made.body.secret };
      secretsSeen.push(hook.secret);
      for (const token of [acme.people.member.token, acme.people.auditor.token, acme.people.owner.token]) {
        const list = await api('get', `/agents/${agentId}/webhooks`, undefined, token);
        assert.equal(list.status, 200, list.text);
        assert.deepEqual(
          list.body.webhooks.map((w: any) => w.id),
          [hook.id],
        );
        assert.ok(!list.text.includes('whsec_') && !('secret' in list.body.webhooks[0]));
      }
      // Not the member's agent; auditors change nothing; bad names are refused.
      const notYours = await api('post', `/agents/${adminsAgent}/webhooks`, { name: 'x' });
      assert.deepEqual([notYours.status, notYours.body.error.code], [403, 'not_your_agent']);
      const auditor = await api(
        'post',
        `/agents/${agentId}/webhooks`,
        { name: 'x' },
        acme.people.auditor.token,
      );
      assert.equal(auditor.status, 403);
      for (const body of [{ name: ' ' }, { name: 'x'.repeat(101) }, { name: 'x', secret: 'mine' }, {}])
        assert.equal(
          (await api('post', `/agents/${agentId}/webhooks`, body)).status,
          400,
          JSON.stringify(body),
        );
      const byAdmin = await api(
        'post',
        `/agents/${adminsAgent}/webhooks`,
        { name: 'y' },
        acme.people.admin.token,
      );
      assert.equal(byAdmin.status, 201, byAdmin.text);
      secretsSeen.push(byAdmin.body.secret);
      await deps.audit.flush();
      const created = (await allAuditEntries(t.store)).filter((e) => e.action === 'webhook.created');
      assert.equal(created.length, 2);
      assert.ok(!JSON.stringify(created).includes('whsec_'));
    });

    test('a signed delivery starts a run of the agent, acting for no one, answered 202 before the run ends', async () => {
      const body = JSON.stringify({ event: 'deploy.finished', hold: true, note: MARK });
      const r = await deliver(hook.id, hook.secret, { body });
      assert.equal(r.status, 202, r.text);
      assert.deepEqual(Object.keys(r.body).sort(), ['deliveryId', 'runId']);
      assert.equal(r.body.deliveryId, r.msgId);
      // The model is still holding the run: the sender was answered without waiting for it.
      const release = await until(() => held.get(r.msgId), { what: 'the model to get the delivery' });
      assert.equal(
        (await api('get', `/runs/${r.body.runId}`, undefined, acme.people.owner.token)).body.run.status,
        'running',
      );
      release();
      const run = await ended(r.body.runId);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.equal(run.output, `Handled ${r.msgId}.`);
      assert.equal(run.personId, null);
      assert.equal(run.via, 'webhook');
      assert.equal(run.agentId, agentId);
      // What the agent was given: the delivery's facts and the body, pretty-printed.
      const given = models.requests.find((m) => m.lastUserText.includes(r.msgId))!.lastUserText;
      assert.match(given, new RegExp(`endpoint "deploys" \\(${hook.id}\\)`));
      assert.ok(given.includes(`Delivery id: ${r.msgId}`));
      assert.ok(given.endsWith(JSON.stringify(JSON.parse(body), null, 2)), given);
      // The run's end is recorded just after its row says so.
      const trail = await until(
        async () => {
          await deps.audit.flush();
          const a = (await api('get', `/runs/${run.id}`, undefined, acme.people.owner.token)).body.audit;
          return a.some((e: any) => e.action === 'run.completed') ? a : undefined;
        },
        { what: 'the run’s end on record' },
      );
      const started = trail.find((e: any) => e.action === 'run.started');
      assert.deepEqual(started.actor, { type: 'system', id: `webhook:${hook.id}` });
      const accepted = trail.find((e: any) => e.action === 'webhook.accepted');
      assert.equal(accepted.details.deliveryId, r.msgId);
      // A run for no one is not any member's own.
      const members = await api('get', '/runs');
      assert.ok(!members.text.includes(run.id));
    });

    test('a wrong signature, or an unknown endpoint, is refused the same way; only the known one is recorded', async () => {
      const wrong = await refused(() => deliver(hook.id, `whsec_${Buffer.alloc(32, 7).toString('base64')}`), {
        status: 401,
        code: 'webhook_signature_invalid',
        reason: 'signature_invalid',
      });
      const unknown = await refused(() => deliver('whk_0000000000000000', hook.secret), {
        status: 401,
        code: 'webhook_signature_invalid',
        reason: null,
      });
      assert.deepEqual(unknown.body.error, wrong.body.error);
    });

    test('a timestamp more than five minutes old or ahead is refused, even with a good signature', async () => {
      const now = Math.floor(Date.now() / 1000);
      await refused(() => deliver(hook.id, hook.secret, { timestamp: now - 301 - 5 }), {
        status: 401,
        code: 'webhook_timestamp_too_old',
        reason: 'timestamp_too_old',
      });
      await refused(() => deliver(hook.id, hook.secret, { timestamp: now + 301 + 5 }), {
        status: 401,
        code: 'webhook_timestamp_too_new',
        reason: 'timestamp_too_new',
      });
    });

    test('a delivery id is used once: the same delivery again is refused as a replay', async () => {
      const first = await deliver(hook.id, hook.secret);
      assert.equal(first.status, 202, first.text);
      await ended(first.body.runId);
      await refused(() => deliver(hook.id, hook.secret, { msgId: first.msgId, timestamp: first.timestamp }), {
        status: 409,
        code: 'webhook_delivery_replayed',
        reason: 'delivery_replayed',
      });
      // Headers missing or malformed are refused before anything else is looked at.
      await refused(() => deliver(hook.id, hook.secret, { headers: { 'webhook-id': 'msg.dotted' } }), {
        status: 400,
        code: 'webhook_headers_invalid',
        reason: 'headers_invalid',
        deliveryId: null,
      });
    });

    test('a body over the server’s limit is refused before it is read, and starts nothing', async () => {
      const before = await state();
      const r = await deliver(hook.id, hook.secret, {
        body: 'x'.repeat(64 * 1024 + 1),
        contentType: 'text/plain',
      });
      assert.deepEqual([r.status, r.body.error.code], [413, 'payload_too_large']);
      assert.deepEqual(snapshotDiff(before, await state()), []);
    });

    test('rotating the secret: the old one is refused at once, the new one starts runs', async () => {
      const old = hook.secret;
      const rotated = await api('post', `/agents/${agentId}/webhooks/${hook.id}/rotate`);
      assert.equal(rotated.status, 200, rotated.text);
      assert.equal(rotated.body.webhook.secretVersion, 2);
      assert.notEqual(rotated.body.secret, old);
      hook.secret = rotated.body.secret;
      secretsSeen.push(hook.secret);
      await refused(() => deliver(hook.id, old), {
        status: 401,
        code: 'webhook_signature_invalid',
        reason: 'signature_invalid',
      });
      const fresh = await deliver(hook.id, hook.secret);
      assert.equal(fresh.status, 202, fresh.text);
      assert.equal((await ended(fresh.body.runId)).status, 'completed');
      const auditor = await api(
        'post',
        `/agents/${agentId}/webhooks/${hook.id}/rotate`,
        undefined,
        acme.people.auditor.token,
      );
      assert.equal(auditor.status, 403);
    });

    test('a stopped agent starts nothing, and the delivery id is not used up: the sender’s retry works once resumed', async () => {
      assert.equal((await api('post', `/agents/${agentId}/stop`)).status, 200);
      const stopped = await refused(() => deliver(hook.id, hook.secret), {
        status: 409,
        code: 'agent_stopped',
        reason: 'agent_stopped',
      });
      assert.equal((await api('post', `/agents/${agentId}/resume`)).status, 200);
      const retry = await deliver(hook.id, hook.secret, {
        msgId: stopped.msgId,
        timestamp: stopped.timestamp,
      });
      assert.equal(retry.status, 202, retry.text);
      assert.equal((await ended(retry.body.runId)).status, 'completed');
    });

    test('past the limit, refusals answer 429 and are recorded once, while a real delivery still starts its run', async () => {
      const usual = deps.webhooks;
      deps.webhooks = new WebhookReceiver({
        db: t.store.db,
        vault: deps.vault,
        audit: deps.audit,
        runs: deps.runs,
        log: deps.log,
        limiter: new AttemptLimiter(3, 60_000),
      });
      try {
        const forged = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
        const sent = [];
        for (let i = 0; i < 7; i++) sent.push(await deliver(hook.id, forged));
        assert.deepEqual(
          sent.map((r) => r.status),
          [401, 401, 401, 429, 429, 429, 429],
        );
        assert.equal(sent.at(-1)!.body.error.code, 'rate_limited');
        const ids = new Set(sent.map((r) => r.msgId));
        const recorded = (await refusals()).filter((e) => ids.has(e.details.deliveryId));
        assert.deepEqual(recorded.map((e) => e.details.reason).sort(), [
          'rate_limited',
          'signature_invalid',
          'signature_invalid',
          'signature_invalid',
        ]);
        const real = await deliver(hook.id, hook.secret);
        assert.equal(real.status, 202, real.text);
        await ended(real.body.runId);
      } finally {
        deps.webhooks = usual;
      }
    });

    test('a deleted endpoint: its secret erased, refused as if it never existed, recorded in its org', async () => {
      const gone = await api('delete', `/agents/${agentId}/webhooks/${hook.id}`);
      assert.equal(gone.status, 204, gone.text);
      const row = await t.store.db
        .selectFrom('webhooks')
        .selectAll()
        .where('id', '=', hook.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.secret, null);
      assert.ok(row.deleted_at);
      const r = await refused(() => deliver(hook.id, hook.secret), {
        status: 401,
        code: 'webhook_signature_invalid',
        reason: 'endpoint_deleted',
      });
      const unknown = await deliver('whk_0000000000000000', hook.secret);
      assert.deepEqual(r.body.error, unknown.body.error);
      assert.deepEqual((await api('get', `/agents/${agentId}/webhooks`)).body.webhooks, []);
      for (const [method, path] of [
        ['post', `/agents/${agentId}/webhooks/${hook.id}/rotate`],
        ['delete', `/agents/${agentId}/webhooks/${hook.id}`],
      ] as const)
        assert.equal((await api(method, path)).body.error.code, 'webhook_not_found');
    });

    test('delivery ids are forgotten once their delivery could no longer be in time, not before', async () => {
      const now = new Date();
      const ts = Math.floor(now.getTime() / 1000);
      const claim = (deliveryId: string, timestamp: number) =>
        claimDelivery(t.store.db, { webhookId: hook.id, orgId: acme.id, deliveryId, timestamp }, now);
      assert.ok(await claim('msg_fresh', ts));
      assert.ok(!(await claim('msg_fresh', ts)), 'claimed once');
      assert.ok(await claim('msg_stale', ts - 3600));
      const forgotten = await forgetExpiredDeliveries(t.store.db, now);
      assert.ok(forgotten >= 1);
      const left = await t.store.db
        .selectFrom('webhook_deliveries')
        .select('delivery_id')
        .where('webhook_id', '=', hook.id)
        .execute();
      assert.ok(left.some((d) => d.delivery_id === 'msg_fresh'));
      assert.ok(!left.some((d) => d.delivery_id === 'msg_stale'));
      // Seven minutes on, even the newest one could only be refused as too old: it goes.
      await forgetExpiredDeliveries(t.store.db, new Date(now.getTime() + 7 * 60_000));
      assert.equal((await t.store.db.selectFrom('webhook_deliveries').selectAll().execute()).length, 0);
    });

    test('no signing secret is anywhere in clear: database, logs, audit exports, API answers', async () => {
      await deps.audit.flush();
      const texts: string[] = [logs.join('')];
      for (const path of [
        `/agents/${agentId}/webhooks`,
        `/agents/${adminsAgent}/webhooks`,
        '/runs',
        '/audit?limit=500',
        '/audit/export?format=jsonl',
      ])
        texts.push((await api('get', path, undefined, acme.people.owner.token)).text);
      const tables =
        kind === 'sqlite'
          ? await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(
              t.store.db,
            )
          : await sql<{
              name: string;
            }>`select table_name as name from information_schema.tables where table_schema = 'public'`.execute(
              t.store.db,
            );
      for (const { name } of tables.rows)
        texts.push(JSON.stringify((await sql`select * from ${sql.table(name)}`.execute(t.store.db)).rows));
      if (kind === 'sqlite')
        for (const f of ['paddock.db', 'paddock.db-wal'])
          if (existsSync(join(t.home, f))) texts.push(readFileSync(join(t.home, f), 'latin1'));
      assert.equal(secretsSeen.length, 3);
      const found = secretsSeen.flatMap(secretForms).filter((f) => texts.some((x) => x.includes(f)));
      assert.deepEqual(found, []);
    });
  });
}
