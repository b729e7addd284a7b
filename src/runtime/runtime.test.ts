/**
 * Agent runs end to end: a real org cell (bubblewrap), the real AI SDK provider packages in it
 * talking to a scripted model server through the org's egress proxy with the org's own key, the
 * agent's tools from a real MCP server (server-everything) only through the gate. A denial the
 * model can read, an approval that pauses the run and resumes it, a stop, a cell killed mid-run,
 * a stream, and the key found nowhere in clear.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { bubblewrap } from '../cells/index.ts';
import { createLogger } from '../log/index.ts';
import { secretForms } from '../redact/index.ts';
import { call, createApp, type SeededOrg, seedOrg, testDeps, useModelServer } from '../testing/fixtures.ts';
import {
  type ModelRequest,
  type ModelServer,
  type ModelTurn,
  startModelServer,
} from '../testing/model-server/index.ts';
import { addStdioConnection } from '../testing/served.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';

const KEY = 'sk-runtime-e2e-3f9a1c7d5b20e84e';

/** The chunks of an AI SDK UI message stream (server-sent events), in order. */
const sseChunks = async (res: Response) =>
  (await res.text())
    .split('\n\n')
    .filter((l) => l.startsWith('data: {'))
    .map((l) => JSON.parse(l.slice(6)));

for (const kind of STORE_KINDS) {
  describe(`agent runs in the org's cell [${kind}]`, () => {
    let t: TestStore;
    let deps: ReturnType<typeof testDeps>;
    let app: ReturnType<typeof createApp>;
    let models: ModelServer;
    let acme: SeededOrg;
    let agentId: string;
    let everything: string;
    const logs: string[] = [];
    /** What the scripted model does next, by the run's message (each test its own script). */
    const scripts = new Map<string, ModelTurn[]>();
    /** What happens before the scripted model answers a request (a change made mid-run). */
    const beforeAnswer = new Map<string, (req: ModelRequest) => Promise<void>>();

    const api = (
      method: 'get' | 'post' | 'patch' | 'delete',
      path: string,
      body?: unknown,
      token = acme.people.admin.token,
    ) => call(app, method, `/api/v1/orgs/acme${path}`, { token, ...(body === undefined ? {} : { body }) });

    before(async () => {
      const check = await bubblewrap.check();
      assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
      models = await startModelServer(async (req) => {
        await beforeAnswer.get(req.lastUserText)?.(req);
        return scripts.get(req.lastUserText)?.shift() ?? { text: 'nothing scripted' };
      });
      t = await openTestStore(kind);
      const log = createLogger({ level: 'debug', destination: { write: (s: string) => void logs.push(s) } });
      deps = testDeps(t.store, t.home, { log }, { provider: bubblewrap, problem: null });
      deps.audit.start();
      app = createApp(deps);
      acme = await seedOrg(t.store, 'acme');
      await useModelServer(app, acme, models.url, KEY);
      everything = await addStdioConnection(app, acme, { by: acme.people.admin.token });
      const agent = await api('post', '/agents', {
        name: 'helper',
        scope: 'organization',
        instructions: 'Help briefly.',
        model: { provider: 'openai', model: 'gpt-test' },
      });
      agentId = agent.body.id;
      for (const body of [
        { connectionId: everything, tool: 'echo' },
        { connectionId: everything, tool: 'get-sum', requiresApproval: true },
      ]) {
        assert.equal((await api('post', `/agents/${agentId}/grants`, body)).status, 201);
      }
    });

    after(async () => {
      await models?.close();
      await t?.cleanup();
    });

    const run = (message: string, body: Record<string, unknown> = {}, token = acme.people.member.token) =>
      api('post', `/agents/${agentId}/runs`, { message, ...body }, token);
    /** The run once `ok` holds of it (polled through the API). */
    const runWhen = (id: string, ok: (run: any) => boolean) =>
      until(
        async () => {
          const r = (await api('get', `/runs/${id}`)).body.run;
          return ok(r) ? r : undefined;
        },
        { what: `run ${id}` },
      );
    /** The first tool call of a conversation's first answer, as the member reads it back. */
    const firstCallReadBack = async (conversationId: string) =>
      (
        await api('get', `/conversations/${conversationId}`, undefined, acme.people.member.token)
      ).body.messages[1].parts.find((p: { type: string }) => p.type === 'dynamic-tool');
    const runEntries = async (runId: string) => {
      await deps.audit.flush();
      return (await api('get', `/runs/${runId}`)).body.audit as Array<{
        action: string;
        outcome: string;
        details: any;
      }>;
    };

    test('a message runs in the cell: a granted tool through the gate, the answer, the whole record with the run id', async () => {
      scripts.set('say hi', [
        { toolCalls: [{ name: 'everything__echo', args: { message: 'hi' } }] },
        { text: 'It said hi.' },
      ]);
      const r = await run('say hi');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.status, 'completed', JSON.stringify(r.body.error));
      assert.equal(r.body.output, 'It said hi.');
      assert.equal(r.body.steps, 2);
      assert.match(models.requests.at(-1)!.toolResults.at(-1)!.output, /Echo: hi/);
      const actions = (await runEntries(r.body.id)).map((e) => e.action);
      for (const a of [
        'run.started',
        'model.called',
        'tool.call.allowed',
        'tool.call.completed',
        'run.completed',
      ])
        assert.ok(actions.includes(a), `${a} in ${actions.join(', ')}`);
    });

    test('each provider package, from inside the cell: Anthropic, Google, OpenAI chat through openai-compatible', async () => {
      const wire = { anthropic: 'anthropic', google: 'gemini', 'openai-compatible': 'openai-chat' } as const;
      for (const [provider, format] of Object.entries(wire)) {
        const base = provider === 'google' ? `${models.url}/v1beta` : `${models.url}/v1`;
        const secret = await call(app, 'post', '/api/v1/orgs/acme/secrets', {
          token: acme.people.admin.token,
          body: {
            name: `${provider}-key`,
            kind: 'model_key',
            provider,
            value: `${KEY}-${provider}`,
            baseUrl: base,
          },
        });
        assert.equal(secret.status, 201, secret.text);
        const agent = await api('post', '/agents', {
          name: `on-${provider}`,
          scope: 'organization',
          instructions: 'x',
          model: { provider, model: `${provider}-test` },
        });
        await api('post', `/agents/${agent.body.id}/grants`, { connectionId: everything, tool: 'echo' });
        const message = `hello from ${provider}`;
        scripts.set(message, [
          { toolCalls: [{ name: 'everything__echo', args: { message: provider } }] },
          { text: `ok ${provider}` },
        ]);
        const r = await call(app, 'post', `/api/v1/orgs/acme/agents/${agent.body.id}/runs`, {
          token: acme.people.member.token,
          body: { message },
        });
        assert.equal(r.body.status, 'completed', `${provider}: ${r.text}`);
        assert.equal(r.body.output, `ok ${provider}`);
        const seen = models.requests.filter((x) => x.lastUserText === message);
        assert.equal(seen.length, 2);
        assert.ok(
          seen.every((x) => x.api === format && JSON.stringify(x.headers).includes(`${KEY}-${provider}`)),
          provider,
        );
        assert.match(seen[1]!.toolResults.at(-1)!.output, new RegExp(`Echo: ${provider}`));
      }
    });

    test("a Gemini conversation stored, paused for an approval and continued keeps the model's thought signatures", async () => {
      const secret = await api('post', '/secrets', {
        name: 'gemini-thinker',
        kind: 'model_key',
        provider: 'google',
        value: `${KEY}-thinker`,
        baseUrl: `${models.url}/v1beta`,
      });
      assert.equal(secret.status, 201, secret.text);
      const agent = await api('post', '/agents', {
        name: 'thinker',
        scope: 'organization',
        instructions: 'x',
        model: { provider: 'google', model: 'gemini-3-test', secretId: secret.body.id },
      });
      assert.equal(agent.status, 201, agent.text);
      for (const body of [
        { connectionId: everything, tool: 'echo' },
        { connectionId: everything, tool: 'get-sum', requiresApproval: true },
      ])
        assert.equal((await api('post', `/agents/${agent.body.id}/grants`, body)).status, 201);
      const sign = ['echo', 'sum', 'text'].map((s) =>
        Buffer.from(`signed ${s} `.repeat(20)).toString('base64'),
      );
      scripts.set('think first', [
        { toolCalls: [{ name: 'everything__echo', args: { message: 'x' } }], thoughtSignature: sign[0] },
        { toolCalls: [{ name: 'everything__get-sum', args: { a: 1, b: 2 } }], thoughtSignature: sign[1] },
        { text: 'Thought about it.', thoughtSignature: sign[2] },
      ]);
      scripts.set('and then', [{ text: 'Then this.' }]);
      const runOf = (message: string, conversationId?: string) =>
        call(app, 'post', `/api/v1/orgs/acme/agents/${agent.body.id}/runs`, {
          token: acme.people.member.token,
          body: { message, ...(conversationId ? { conversationId } : {}) },
        });
      const first = await runOf('think first');
      assert.equal(first.body.status, 'waiting_approval', first.text);
      const approvalId = first.body.waitingFor[0].approvalId;
      const ok = await api(
        'post',
        `/approvals/${approvalId}/approve`,
        { reason: 'fine' },
        acme.people.owner.token,
      );
      assert.equal(ok.status, 200, ok.text);
      const done = await runWhen(
        first.body.id,
        (x) => x.status !== 'running' && x.status !== 'waiting_approval',
      );
      assert.equal(done.status, 'completed', JSON.stringify(done.error));
      const next = await runOf('and then', first.body.conversationId);
      assert.equal(next.body.status, 'completed', next.text);
      // The continued conversation as the provider received it: each signed part with its signature.
      const sent = models.requests.findLast((x) => x.lastUserText === 'and then')!.body as {
        contents: Array<{ role: string; parts: Array<Record<string, unknown>> }>;
      };
      const signatures = sent.contents
        .filter((c) => c.role === 'model')
        .flatMap((c) => c.parts)
        .map((p) => p.thoughtSignature)
        .filter(Boolean);
      assert.deepEqual(signatures, sign, JSON.stringify(sent.contents));
    });

    test('a grant revoked mid-run: the run was handed its tools, but the gate refuses the next call', async () => {
      const agent = await api('post', '/agents', {
        name: 'revoked-mid-run',
        scope: 'organization',
        instructions: 'x',
        model: { provider: 'openai', model: 'gpt-test' },
      });
      const grant = await api('post', `/agents/${agent.body.id}/grants`, {
        connectionId: everything,
        tool: 'echo',
      });
      assert.equal(grant.status, 201, grant.text);
      const message = 'echo twice';
      scripts.set(message, [
        { toolCalls: [{ name: 'everything__echo', args: { message: 'one' } }] },
        { toolCalls: [{ name: 'everything__echo', args: { message: 'two' } }] },
        { text: 'Done.' },
      ]);
      // Revoked after the first call ran, while the model thinks about the second.
      let revoked = 0;
      beforeAnswer.set(message, async (req) => {
        if (req.toolResults.length !== 1 || revoked++) return;
        const r = await api('delete', `/agents/${agent.body.id}/grants/${grant.body.id}`);
        assert.equal(r.status, 200, r.text);
      });
      const r = await call(app, 'post', `/api/v1/orgs/acme/agents/${agent.body.id}/runs`, {
        token: acme.people.member.token,
        body: { message },
      });
      assert.equal(r.body.status, 'completed', r.text);
      assert.equal(revoked, 1);
      assert.equal(r.body.output, 'Done.');
      const last = models.requests.findLast((x) => x.lastUserText === message)!;
      assert.match(last.toolResults[0]!.output, /Echo: one/);
      assert.match(last.toolResults[1]!.output, /(tool_denied|No grant|not granted)/i);
      const entries = await runEntries(r.body.id);
      assert.equal(
        entries.filter((e) => e.action === 'tool.call.allowed').length,
        1,
        'the second call did not run',
      );
    });

    test('a tool outside the grants: the model reads the denial, nothing runs, the denial is on record with the run id', async () => {
      scripts.set('add them', [
        { toolCalls: [{ name: 'everything__get-env', args: {} }] },
        { text: 'I may not.' },
      ]);
      const r = await run('add them');
      assert.equal(r.body.status, 'completed', r.text);
      assert.match(models.requests.at(-1)!.toolResults.at(-1)!.output, /(tool_denied|No tool named)/);
      const entries = await runEntries(r.body.id);
      assert.ok(!entries.some((e) => e.action === 'tool.call.allowed'), 'nothing ran');
    });

    test('an approval-requiring call pauses the run; approved, the call runs and the run completes', async () => {
      scripts.set('sum please', [
        { toolCalls: [{ name: 'everything__get-sum', args: { a: 2, b: 3 } }] },
        { text: 'The sum is 5.' },
      ]);
      const r = await run('sum please');
      assert.equal(r.body.status, 'waiting_approval', r.text);
      const approvalId = r.body.waitingFor[0].approvalId;
      const decided = await api(
        'post',
        `/approvals/${approvalId}/approve`,
        { reason: 'fine' },
        acme.people.owner.token,
      );
      assert.equal(decided.status, 200, decided.text);
      const done = await runWhen(r.body.id, (x) => x.status !== 'running' && x.status !== 'waiting_approval');
      assert.equal(done.status, 'completed', JSON.stringify(done.error));
      assert.equal(done.output, 'The sum is 5.');
      assert.match(models.requests.at(-1)!.toolResults.at(-1)!.output, /5/);
      // Read back, the call says a person approved it (the run's record), with what it answered.
      const sum = await firstCallReadBack(done.conversationId);
      assert.deepEqual([sum.state, sum.approval], ['output-available', { id: approvalId, approved: true }]);
      assert.match(sum.output, /5/);
      const actions = (await runEntries(r.body.id)).map((e) => e.action);
      // Who allowed the call is among the run's own entries.
      for (const action of [
        'run.waiting',
        'approval.requested',
        'approval.granted',
        'run.resumed',
        'tool.call.allowed',
      ])
        assert.ok(actions.includes(action), `${action} in ${actions.join(', ')}`);
    });

    test('with the two-person rule, a run a service token started answers to the person who made the token', async () => {
      const twoPeople = (on: boolean) =>
        api('patch', '', { settings: { approvalsNeedTwoPeople: on } }, acme.people.owner.token);
      assert.equal((await twoPeople(true)).status, 200);
      try {
        const made = await api('post', '/tokens', { name: 'admin-svc', role: 'member', service: true });
        assert.equal(made.status, 201, made.text);
        scripts.set('sum for a service', [
          { toolCalls: [{ name: 'everything__get-sum', args: { a: 20, b: 22 } }] },
          { text: 'The sum is 42.' },
        ]);
        const r = await run('sum for a service', {}, made.body.token);
        assert.equal(r.body.status, 'waiting_approval', r.text);
        const approvalId = r.body.waitingFor[0].approvalId;
        // The admin made the token: asking through it and approving it would be one person.
        const self = await api('post', `/approvals/${approvalId}/approve`, {}, acme.people.admin.token);
        assert.deepEqual([self.status, self.body.error?.code], [403, 'self_approval']);
        const other = await api('post', `/approvals/${approvalId}/approve`, {}, acme.people.owner.token);
        assert.equal(other.status, 200, other.text);
        const done = await runWhen(
          r.body.id,
          (x) => x.status !== 'running' && x.status !== 'waiting_approval',
        );
        assert.equal(done.output, 'The sum is 42.');
      } finally {
        await twoPeople(false);
      }
    });

    test('after a decision the continuation streams to whoever follows the run, from its resumption to its end', async () => {
      scripts.set('sum and stream', [
        { toolCalls: [{ name: 'everything__get-sum', args: { a: 20, b: 22 } }] },
        { text: 'The sum is 42, streamed.' },
      ]);
      const r = await run('sum and stream');
      assert.equal(r.body.status, 'waiting_approval', r.text);
      assert.equal(r.body.via, 'api', 'a token’s run is an API run');
      const follow = () =>
        app.request(`/api/v1/orgs/acme/runs/${r.body.id}/stream`, {
          headers: { authorization: `Bearer ${acme.people.member.token}`, accept: 'text/event-stream' },
        });
      // Waiting: the run as it stands, at once (with what it streamed up to the wait).
      const before = await sseChunks(await follow());
      assert.deepEqual(
        [before[0], before.at(-1)].map((c) => [c.type, c.data.status]),
        [
          ['data-run', 'waiting_approval'],
          ['data-run', 'waiting_approval'],
        ],
      );
      await api('post', `/approvals/${r.body.waitingFor[0].approvalId}/approve`, {}, acme.people.owner.token);
      const res = await follow();
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      const chunks = await sseChunks(res);
      const text = chunks
        .filter((c) => c.type === 'text-delta')
        .map((c) => c.delta)
        .join('');
      assert.equal(text, 'The sum is 42, streamed.', 'the whole continuation, however late it joined');
      // First the call a person approved, under its own id, with what it answered.
      const waited = before.find((c) => c.type === 'data-approval')?.data.toolCallId;
      const ran = chunks.findIndex((c) => c.type === 'tool-output-available' && c.toolCallId === waited);
      assert.ok(waited && ran >= 0, JSON.stringify(chunks.map((c) => c.type)));
      assert.match(String(chunks[ran].output), /42/);
      assert.deepEqual(
        chunks
          .slice(0, ran)
          .filter((c) => c.toolCallId === waited)
          .map((c) => [c.type, c.toolName]),
        [['tool-input-available', 'everything__get-sum']],
      );
      assert.ok(ran < chunks.findIndex((c) => c.type === 'text-delta'), 'before the answer goes on');
      assert.equal(chunks.at(-1).type, 'data-run');
      assert.equal(chunks.at(-1).data.status, 'completed');
    });

    test('a follower that joins while the continuation is ending gets the continuation, not the part before the wait', async () => {
      scripts.set('sum and end', [
        { toolCalls: [{ name: 'everything__get-sum', args: { a: 1, b: 2 } }] },
        { text: 'The sum is 3, at the end.' },
      ]);
      const r = await run('sum and end');
      assert.equal(r.body.status, 'waiting_approval', r.text);
      // The continuation's end is held as it is written (its transaction), as a slow disk would.
      const db = deps.store.db as unknown as {
        transaction: () => { execute: (fn: unknown) => Promise<unknown> };
      };
      const transaction = db.transaction;
      let release!: () => void;
      const released = new Promise<void>((ok) => (release = ok));
      let ending!: () => void;
      const isEnding = new Promise<void>((ok) => (ending = ok));
      db.transaction = function (this: unknown) {
        const builder = transaction.call(this);
        if (!new Error().stack?.includes('#finish')) return builder;
        ending();
        return {
          execute: async (fn: unknown) => {
            await released;
            return builder.execute(fn);
          },
        };
      };
      try {
        await api(
          'post',
          `/approvals/${r.body.waitingFor[0].approvalId}/approve`,
          {},
          acme.people.owner.token,
        );
        await isEnding;
        const res = app.request(`/api/v1/orgs/acme/runs/${r.body.id}/stream`, {
          headers: { authorization: `Bearer ${acme.people.member.token}`, accept: 'text/event-stream' },
        });
        await new Promise((ok) => setTimeout(ok, 50));
        release();
        const chunks = await sseChunks(await res);
        const text = chunks
          .filter((c) => c.type === 'text-delta')
          .map((c) => c.delta)
          .join('');
        assert.equal(text, 'The sum is 3, at the end.');
        assert.equal(chunks.at(-1).data.status, 'completed');
      } finally {
        release();
        db.transaction = transaction;
      }
    });

    test('an approval not given in time fails the run; its call reads as never run, and its approval can no longer be given', async () => {
      scripts.set('sum too late', [{ toolCalls: [{ name: 'everything__get-sum', args: { a: 9, b: 9 } }] }]);
      const r = await run('sum too late');
      assert.equal(r.body.status, 'waiting_approval', r.text);
      const approvalId = r.body.waitingFor[0].approvalId;
      await deps.store.db
        .updateTable('approvals')
        .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .where('id', '=', approvalId)
        .execute();
      await deps.runs.sweep();
      const failed = (await api('get', `/runs/${r.body.id}`)).body.run;
      assert.deepEqual([failed.status, failed.error?.code], ['failed', 'approval_expired']);
      const sum = await firstCallReadBack(failed.conversationId);
      assert.deepEqual(
        [sum.state, sum.errorText, sum.toolMetadata],
        [
          'output-error',
          'The run ended (approval_expired) before this call ran: it did not run.',
          { paddock: { notRun: true } },
        ],
      );
      const end = (await runEntries(r.body.id)).find((e) => e.action === 'run.failed');
      assert.deepEqual(end?.details.waitingFor, [{ approvalId, tool: 'everything__get-sum' }]);
    });

    test('denied, the model is told and the run continues without the call', async () => {
      scripts.set('sum again', [
        { toolCalls: [{ name: 'everything__get-sum', args: { a: 7, b: 8 } }] },
        { text: 'Not allowed then.' },
      ]);
      const r = await run('sum again');
      assert.equal(r.body.status, 'waiting_approval', r.text);
      await api(
        'post',
        `/approvals/${r.body.waitingFor[0].approvalId}/deny`,
        { reason: 'no' },
        acme.people.owner.token,
      );
      const done = await runWhen(r.body.id, (x) => x.status === 'completed' || x.status === 'failed');
      assert.equal(done.status, 'completed');
      assert.match(models.requests.at(-1)!.toolResults.at(-1)!.output, /A person denied this call/);
      // Whoever follows the run sees the call denied, as the chat reads it back.
      const streamed = await sseChunks(
        await app.request(`/api/v1/orgs/acme/runs/${r.body.id}/stream`, {
          headers: { authorization: `Bearer ${acme.people.member.token}`, accept: 'text/event-stream' },
        }),
      );
      assert.ok(
        streamed.some((c) => c.type === 'tool-output-denied'),
        JSON.stringify(streamed.map((c) => c.type)),
      );
      const entries = await runEntries(r.body.id);
      assert.ok(!entries.some((e) => e.action === 'tool.call.allowed'));
      const sum = await firstCallReadBack(done.conversationId);
      assert.deepEqual(
        [sum.state, sum.approval, sum.output, sum.errorText],
        ['output-denied', { id: r.body.waitingFor[0].approvalId, approved: false }, undefined, undefined],
      );
    });

    test('a conversation reads back as it ran: each answer’s tool calls with their results, refusals and waits; only yours', async () => {
      scripts.set('echo back', [
        { toolCalls: [{ name: 'everything__echo', args: { message: 'kept' } }] },
        { text: 'It echoed.' },
      ]);
      scripts.set('then the env', [
        { toolCalls: [{ name: 'everything__get-env', args: {} }] },
        { text: 'Refused.' },
      ]);
      scripts.set('then a sum', [{ toolCalls: [{ name: 'everything__get-sum', args: { a: 1, b: 2 } }] }]);
      const first = await run('echo back');
      const conversationId = first.body.conversationId;
      assert.equal((await run('then the env', { conversationId })).body.status, 'completed');
      const waiting = await run('then a sum', { conversationId });
      assert.equal(waiting.body.status, 'waiting_approval', waiting.text);

      const read = await api('get', `/conversations/${conversationId}`, undefined, acme.people.member.token);
      assert.equal(read.status, 200, read.text);
      const answers = read.body.messages.filter((m: { role: string }) => m.role === 'assistant');
      const said = read.body.messages.filter((m: { role: string }) => m.role === 'user');
      assert.deepEqual(
        said.map((m: any) => m.parts[0].text),
        ['echo back', 'then the env', 'then a sum'],
      );
      const tools = (i: number) =>
        answers[i].parts.filter((p: { type: string }) => p.type === 'dynamic-tool');
      const runs = answers.map((m: any) => m.parts.at(-1));
      assert.deepEqual(
        runs.map((p: any) => [p.type, p.data.status]),
        [
          ['data-run', 'completed'],
          ['data-run', 'completed'],
          ['data-run', 'waiting_approval'],
        ],
      );
      const [echo] = tools(0);
      assert.equal(echo.toolName, 'everything__echo');
      assert.deepEqual(echo.input, { message: 'kept' });
      assert.equal(echo.state, 'output-available');
      assert.match(echo.output, /Echo: kept/);
      assert.equal(answers[0].parts.find((p: any) => p.type === 'text')?.text, 'It echoed.');
      const [env] = tools(1);
      assert.equal(env.state, 'output-error');
      assert.match(env.errorText, /tool_denied|No tool named/);
      const [sum] = tools(2);
      assert.equal(sum.toolName, 'everything__get-sum');
      assert.match(
        sum.output,
        new RegExp(waiting.body.waitingFor[0].approvalId),
        'the wait names its request',
      );

      // The agent's output checks hold here as on the stream: a redacted match in a tool's
      // arguments and result reads redacted (the checks as they stand now).
      const checks = { rules: [{ name: 'kept-word', match: 'pattern', pattern: 'kept', action: 'redact' }] };
      assert.equal((await api('patch', `/agents/${agentId}`, { checks })).status, 200);
      try {
        const masked = await api(
          'get',
          `/conversations/${conversationId}`,
          undefined,
          acme.people.member.token,
        );
        const echoed = masked.body.messages[1].parts.find((p: any) => p.type === 'dynamic-tool');
        assert.deepEqual(echoed.input, { message: '[REDACTED:kept-word]' });
        assert.match(echoed.output, /Echo: \[REDACTED:kept-word\]/);
        assert.doesNotMatch(JSON.stringify(masked.body.messages.slice(0, 2)), /"kept"|Echo: kept/);
      } finally {
        assert.equal((await api('patch', `/agents/${agentId}`, { checks: null })).status, 200);
      }

      // Listed among yours (with your runs in it and the newest's status), and among no one else's.
      const listed = async (token: string) =>
        (await api('get', `/conversations?agent=${agentId}`, undefined, token)).body.conversations as Array<{
          id: string;
          runs: number;
          title: string;
          latestRun: { status: string } | null;
        }>;
      const mine = (await listed(acme.people.member.token)).find((c) => c.id === conversationId);
      assert.deepEqual(mine && [mine.title, mine.runs, mine.latestRun?.status], [
        'echo back',
        3,
        'waiting_approval',
      ]);
      for (const token of [acme.people.admin.token, acme.people.owner.token])
        assert.ok(!(await listed(token)).some((c) => c.id === conversationId), 'not in another’s list');

      // Another person's conversation reads as missing, whatever their role; so does no conversation.
      for (const token of [acme.people.admin.token, acme.people.owner.token]) {
        const other = await api('get', `/conversations/${conversationId}`, undefined, token);
        assert.equal(other.status, 404, other.text);
        assert.equal(other.body.error.code, 'conversation_not_found');
        assert.doesNotMatch(other.text, /Echo: kept/);
      }
      assert.equal(
        (await api('get', '/conversations/cnv_missing', undefined, acme.people.member.token)).status,
        404,
      );
      // A service token acts for nobody: its own runs and conversations are those it started, not
      // every one of nobody's — another program's token with a member's role reads none of them.
      const token = async (name: string) => {
        const made = await api('post', '/tokens', { name, role: 'member', service: true });
        assert.equal(made.status, 201, made.text);
        return made.body.token as string;
      };
      const [svc, other] = [await token('svc'), await token('other-svc')];
      const bySvc = await run('echo back', {}, svc);
      assert.equal(bySvc.body.status, 'completed', bySvc.text);
      const conv = `/conversations/${bySvc.body.conversationId}`;
      assert.equal((await api('get', conv, undefined, svc)).status, 200, 'its own conversation');
      assert.equal(
        (await run('then the env', { conversationId: bySvc.body.conversationId }, svc)).status,
        200,
      );
      for (const path of [conv, `/runs/${bySvc.body.id}`]) {
        const r = await api('get', path, undefined, other);
        assert.equal(r.status, 404, `${path}: ${r.text}`);
        assert.doesNotMatch(r.text, /Echo: kept/);
      }
      const runsOfOther = await api('get', '/runs', undefined, other);
      assert.ok(
        !runsOfOther.body.runs.some((r: { id: string }) => r.id === bySvc.body.id),
        'not listed for another',
      );
      assert.ok(
        (await listed(svc)).some((c) => c.id === bySvc.body.conversationId),
        'its own, listed',
      );
      assert.ok(!(await listed(other)).some((c) => c.id === bySvc.body.conversationId), 'not another’s');
      const continued = await run('and more', { conversationId: bySvc.body.conversationId }, other);
      assert.equal(continued.status, 404, continued.text);
      assert.equal(continued.body.error.code, 'conversation_not_found');
      // A person's role decides for an admin: every run of agents they may see.
      assert.equal((await api('get', `/runs/${bySvc.body.id}`)).status, 200);
      // Stopped while it waited, the run still reads as it went: its call, and then its stop.
      const stopped = await api('post', `/runs/${waiting.body.id}/stop`, undefined, acme.people.member.token);
      assert.equal(stopped.body.status, 'stopped', stopped.text);
      const after = await api('get', `/conversations/${conversationId}`, undefined, acme.people.member.token);
      const last = after.body.messages.at(-1).parts;
      assert.deepEqual(
        last.map((p: any) =>
          p.type === 'dynamic-tool' ? p.toolName : p.type === 'data-run' ? p.data.status : p.type,
        ),
        ['everything__get-sum', 'stopped'],
      );
      // The call it waited on never ran, and reads so — not as a result that says it waits.
      assert.deepEqual(
        [last[0].state, last[0].errorText, last[0].toolMetadata],
        [
          'output-error',
          'The run was stopped before this call ran: it did not run.',
          { paddock: { notRun: true } },
        ],
      );
    });

    test('streamed: the AI SDK UI message stream with the text and the run', async () => {
      scripts.set('stream it', [{ text: 'Streaming works fine.' }]);
      const res = await app.request(`/api/v1/orgs/acme/agents/${agentId}/runs`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${acme.people.member.token}`,
          'content-type': 'application/json',
          accept: 'text/event-stream',
        },
        body: JSON.stringify({ message: 'stream it' }),
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      const body = await res.text();
      const chunks = body
        .split('\n\n')
        .filter((l) => l.startsWith('data: {'))
        .map((l) => JSON.parse(l.slice(6)));
      assert.equal(
        chunks
          .filter((c) => c.type === 'text-delta')
          .map((c) => c.delta)
          .join(''),
        'Streaming works fine.',
      );
      const end = chunks.filter((c) => c.type === 'data-run').at(-1);
      assert.equal(end.data.status, 'completed');
    });

    test('stopping the agent ends its runs in flight, and its waiting runs never resume', async () => {
      scripts.set('wait here', [{ toolCalls: [{ name: 'everything__get-sum', args: { a: 1, b: 1 } }] }]);
      const waiting = await run('wait here');
      assert.equal(waiting.body.status, 'waiting_approval');
      // A slow tool keeps a second run in flight.
      await api('post', `/agents/${agentId}/grants`, {
        connectionId: everything,
        tool: 'trigger-long-running-operation',
      });
      scripts.set('long one', [
        {
          toolCalls: [
            { name: 'everything__trigger-long-running-operation', args: { duration: 20, steps: 5 } },
          ],
        },
      ]);
      const flying = await run('long one', { wait: false });
      assert.equal(flying.status, 202, flying.text);
      await until(() => deps.gateway.kills.inFlight({ agentId }) > 0, { what: 'the long call in flight' });
      const stopped = await api('post', `/agents/${agentId}/stop`);
      assert.equal(stopped.status, 200, stopped.text);
      const ended = await runWhen(flying.body.id, (x) => x.status !== 'running');
      assert.equal(ended.status, 'stopped');
      assert.equal((await api('get', `/runs/${waiting.body.id}`)).body.run.status, 'stopped');
      const again = await api(
        'post',
        `/approvals/${waiting.body.waitingFor[0].approvalId}/approve`,
        {},
        acme.people.owner.token,
      );
      // What the stopped agent asked ended with the stop, recorded with it.
      assert.deepEqual([again.status, again.body.error?.code], [409, 'approval_expired'], again.text);
      const stops = (await api('get', `/audit?action=agent.stopped&agent=${agentId}&limit=1`)).body.events;
      assert.equal(stops[0]?.details.approvalsExpired, 1, JSON.stringify(stops));
      assert.equal(
        (await api('get', `/runs/${waiting.body.id}`)).body.run.status,
        'stopped',
        'never resumed',
      );
      assert.equal((await run('after stop')).body.error.code, 'agent_stopped');
      await api('post', `/agents/${agentId}/resume`);
    });

    test('stopping one run goes through the kill switch: in flight it ends at once, its call ended; waiting, it never resumes', async () => {
      scripts.set('run stop long', [
        {
          toolCalls: [
            { name: 'everything__trigger-long-running-operation', args: { duration: 20, steps: 5 } },
          ],
        },
      ]);
      scripts.set('run stop other', [
        {
          toolCalls: [
            { name: 'everything__trigger-long-running-operation', args: { duration: 20, steps: 5 } },
          ],
        },
      ]);
      const flying = await run('run stop long', { wait: false });
      const other = await run('run stop other', { wait: false });
      await until(() => deps.gateway.kills.inFlight({ agentId }) >= 2, { what: 'both long calls in flight' });
      const started = performance.now();
      const stopped = await api('post', `/runs/${flying.body.id}/stop`);
      assert.equal(stopped.status, 200, stopped.text);
      assert.equal(stopped.body.status, 'stopped', 'ended on record when the stop answers');
      assert.ok(performance.now() - started < 5000);
      await until(() => deps.gateway.kills.inFlight({ agentId }) === 1, { what: 'its call ended' });
      assert.equal(
        (await api('get', `/runs/${other.body.id}`)).body.run.status,
        'running',
        'another run goes on',
      );
      assert.equal((await api('post', `/runs/${flying.body.id}/stop`)).body.error.code, 'run_ended');
      await api('post', `/runs/${other.body.id}/stop`);
      const entries = await runEntries(flying.body.id);
      const end = entries.find((e) => e.action === 'run.stopped');
      assert.ok(end, entries.map((e) => e.action).join(', '));
      assert.equal(end.details.error.message, 'stopped by a person');

      scripts.set('run stop waits', [{ toolCalls: [{ name: 'everything__get-sum', args: { a: 2, b: 3 } }] }]);
      const waiting = await run('run stop waits');
      assert.equal(waiting.body.status, 'waiting_approval');
      assert.equal((await api('post', `/runs/${waiting.body.id}/stop`)).body.status, 'stopped');
      // Its approval ended with it: no one approves a call for a run that is over.
      const asked = waiting.body.waitingFor[0].approvalId;
      const approved = await api('post', `/approvals/${asked}/approve`, {}, acme.people.owner.token);
      assert.deepEqual(
        [approved.status, approved.body.error?.code],
        [409, 'approval_expired'],
        approved.text,
      );
      const stoppedEntry = (await runEntries(waiting.body.id)).find((e) => e.action === 'run.stopped');
      assert.equal(stoppedEntry?.details.approvalsExpired, 1);
      await deps.runs.sweep();
      assert.equal(
        (await api('get', `/runs/${waiting.body.id}`)).body.run.status,
        'stopped',
        'never resumed',
      );
      // The same call in a later run asks afresh, for that run.
      scripts.set('run stop waits again', [
        { toolCalls: [{ name: 'everything__get-sum', args: { a: 2, b: 3 } }] },
      ]);
      const later = await run('run stop waits again');
      assert.equal(later.body.status, 'waiting_approval', later.text);
      const laterAsked = later.body.waitingFor[0].approvalId;
      assert.notEqual(laterAsked, asked);
      const listed = (await api('get', '/approvals')).body.approvals as {
        id: string;
        runId: string | null;
      }[];
      assert.deepEqual(
        [asked, laterAsked].map((id) => listed.find((a) => a.id === id)?.runId),
        [waiting.body.id, later.body.id],
      );
      await api('post', `/runs/${later.body.id}/stop`);
    });

    test("stopping the org's agents ends their runs in flight and waiting; resumed, new runs start", async () => {
      scripts.set('org stop waits', [{ toolCalls: [{ name: 'everything__get-sum', args: { a: 4, b: 4 } }] }]);
      const waiting = await run('org stop waits');
      assert.equal(waiting.body.status, 'waiting_approval');
      scripts.set('org stop long', [
        {
          toolCalls: [
            { name: 'everything__trigger-long-running-operation', args: { duration: 20, steps: 5 } },
          ],
        },
      ]);
      const flying = await run('org stop long', { wait: false });
      await until(() => deps.gateway.kills.inFlight({ agentId }) > 0, { what: 'the long call in flight' });
      const stop = await call(app, 'post', '/api/v1/orgs/acme/stop', { token: acme.people.owner.token });
      assert.equal(stop.status, 200, stop.text);
      const ended = await runWhen(flying.body.id, (x) => x.status !== 'running');
      assert.equal(ended.status, 'stopped');
      assert.equal((await api('get', `/runs/${waiting.body.id}`)).body.run.status, 'stopped');
      const late = await api(
        'post',
        `/approvals/${waiting.body.waitingFor[0].approvalId}/approve`,
        {},
        acme.people.owner.token,
      );
      assert.deepEqual([late.status, late.body.error?.code], [409, 'approval_expired'], late.text);
      await deps.runs.sweep();
      assert.equal(
        (await api('get', `/runs/${waiting.body.id}`)).body.run.status,
        'stopped',
        'never resumed',
      );
      assert.equal((await run('org stopped')).body.error.code, 'agent_stopped');
      const resumed = await call(app, 'post', '/api/v1/orgs/acme/resume', { token: acme.people.owner.token });
      assert.equal(resumed.status, 200, resumed.text);
      scripts.set('after org resume', [{ text: 'Back.' }]);
      assert.equal((await run('after org resume')).body.status, 'completed');
    });

    test('a cell killed mid-run fails that run', async () => {
      scripts.set('long two', [
        {
          toolCalls: [
            { name: 'everything__trigger-long-running-operation', args: { duration: 20, steps: 5 } },
          ],
        },
      ]);
      const flying = await run('long two', { wait: false });
      await until(() => deps.gateway.kills.inFlight({ agentId }) > 0, { what: 'the long call in flight' });
      const pid = deps.cells!.get(acme.id)!.pid!;
      process.kill(pid, 'SIGKILL');
      const ended = await runWhen(flying.body.id, (x) => x.status !== 'running');
      assert.deepEqual([ended.status, ended.error.code], ['failed', 'cell_gone']);
    });

    test('the provider got the org key through the egress proxy; the key is nowhere in clear', async () => {
      assert.ok(models.requests.length > 0);
      assert.ok(
        models.requests
          .filter((r) => r.api === 'openai-responses')
          .every((r) => r.headers.authorization === `Bearer ${KEY}`),
      );
      // Off the allowlist, the cell cannot reach the provider at all: its only way out is the proxy.
      await call(app, 'patch', '/api/v1/orgs/acme', {
        token: acme.people.owner.token,
        body: { settings: { egressAllowlist: [] } },
      });
      scripts.set('no way out', [{ text: 'unreachable' }]);
      const cut = await run('no way out');
      assert.equal(cut.body.status, 'failed', cut.text);
      await deps.audit.flush();
      const forms = secretForms(KEY);
      const texts: string[] = [logs.join('')];
      for (const path of [
        '/runs',
        `/runs/${cut.body.id}`,
        '/audit?limit=500',
        '/audit/export?format=jsonl',
        '/audit/export?format=ocsf',
        '/secrets',
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
      const found = forms.filter((f) => texts.some((x) => x.includes(f)));
      assert.deepEqual(found, []);
    });

    // Last: it removes the member the tests above run as (with the way out to the model server back).
    test('a person removed: their waiting run ends, and the approval asked for them can no longer be granted or used', async () => {
      const port = Number(new URL(models.url).port);
      const back = await api(
        'patch',
        '',
        { settings: { egressAllowlist: [{ host: '127.0.0.1', port, allowPrivate: true }] } },
        acme.people.owner.token,
      );
      assert.equal(back.status, 200, back.text);
      scripts.set('sum for someone leaving', [
        { toolCalls: [{ name: 'everything__get-sum', args: { a: 404, b: 1 } }] },
        { text: 'The sum is 405.' },
      ]);
      const r = await run('sum for someone leaving');
      assert.equal(r.body.status, 'waiting_approval', r.text);
      const approvalId = r.body.waitingFor[0].approvalId;
      const removed = await api('delete', `/people/${acme.people.member.id}`, {}, acme.people.owner.token);
      assert.equal(removed.status, 204, removed.text);
      const ended = await runWhen(r.body.id, (x) => x.status !== 'waiting_approval');
      assert.equal(ended.status, 'stopped');
      assert.match(ended.error.message, /was removed/);
      const expired = await api('get', '/approvals?status=expired', undefined, acme.people.owner.token);
      assert.ok(
        expired.body.approvals.some((a: { id: string }) => a.id === approvalId),
        `expired with them: ${expired.text}`,
      );
      const decided = await api('post', `/approvals/${approvalId}/approve`, {}, acme.people.owner.token);
      assert.notEqual(decided.status, 200, decided.text);
      assert.equal(await deps.runs.resumeDecided(), 0, 'nothing resumes for them');
      const actions = (await runEntries(r.body.id)).map((e) => e.action);
      assert.ok(!actions.includes('tool.call.allowed'), `nothing ran for them: ${actions.join(', ')}`);
      assert.ok(actions.includes('run.stopped'), actions.join(', '));
    });
  });
}
