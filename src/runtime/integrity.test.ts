/**
 * Output contracts and checks on real runs (both engines): a real org cell, the real OpenAI
 * provider package against the scripted model server, tools from server-everything through the
 * gate. A redacted match streams only as its redaction; a blocked answer never streams, never is
 * stored and is audited without its content; a card number in a tool call's arguments is refused
 * at the gate (in a run and from an external MCP client) and audited like a denial; an agent with
 * an output schema answers with validated structured output, one more try, then a clear failure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { bubblewrap } from '../cells/index.ts';
import { call, createApp, type SeededOrg, seedOrg, testDeps, useModelServer } from '../testing/fixtures.ts';
import { type ModelServer, type ModelTurn, startModelServer } from '../testing/model-server/index.ts';
import { addStdioConnection } from '../testing/served.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';

const KEY = 'sk-integrity-e2e-0c4b1f8e9a7d2365';
const CARD = '4111 1111 1111 1111';
const CARD_FORMS = ['4111 1111 1111 1111', '4111111111111111', '1111 1111 1111'];
const EMAIL = 'dana.lee@client.example.com';
const LABEL = {
  type: 'object',
  properties: { label: { enum: ['bug', 'question'] } },
  required: ['label'],
  additionalProperties: false,
};
const FILLER = 'Here is what I found after looking into it carefully. '.repeat(4);

for (const kind of STORE_KINDS) {
  describe(`output contracts and checks on runs [${kind}]`, () => {
    let t: TestStore;
    let deps: ReturnType<typeof testDeps>;
    let app: ReturnType<typeof createApp>;
    let models: ModelServer;
    let acme: SeededOrg;
    let guarded: string;
    let typed: string;
    let everything: string;
    const scripts = new Map<string, ModelTurn[]>();
    /** What the model answers when it is given one more try (the last message is then Paddock's). */
    const retries: ModelTurn[] = [];

    const api = (
      method: 'get' | 'post' | 'patch',
      path: string,
      body?: unknown,
      token = acme.people.admin.token,
    ) => call(app, method, `/api/v1/orgs/acme${path}`, { token, ...(body === undefined ? {} : { body }) });

    before(async () => {
      const check = await bubblewrap.check();
      assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
      models = await startModelServer(
        (req) =>
          (req.lastUserText.startsWith('Your answer does not match') ? retries.shift() : undefined) ??
          scripts.get(req.lastUserText)?.shift() ?? { text: 'nothing scripted' },
      );
      t = await openTestStore(kind);
      deps = testDeps(t.store, t.home, {}, { provider: bubblewrap, problem: null });
      deps.audit.start();
      app = createApp(deps);
      acme = await seedOrg(t.store, 'acme');
      await useModelServer(app, acme, models.url, KEY);
      everything = await addStdioConnection(app, acme, { by: acme.people.admin.token });
      const made = await api('post', '/agents', {
        name: 'guarded',
        scope: 'organization',
        instructions: 'Help.',
        model: { provider: 'openai', model: 'gpt-test' },
        checks: {
          rules: [
            { name: 'cards', match: 'card_numbers', action: 'block', on: ['output', 'tool_args'] },
            { name: 'mail', match: 'emails', action: 'redact' },
          ],
          streaming: 'hold_back',
          holdBackChars: 64,
        },
      });
      assert.equal(made.status, 201, made.text);
      guarded = made.body.id;
      const schema = await api('post', '/agents', {
        name: 'typed',
        scope: 'organization',
        instructions: 'Label the issue.',
        model: { provider: 'openai', model: 'gpt-test' },
        outputSchema: LABEL,
      });
      typed = schema.body.id;
      for (const agent of [guarded, typed])
        assert.equal(
          (await api('post', `/agents/${agent}/grants`, { connectionId: everything, tool: 'echo' })).status,
          201,
        );
    });

    after(async () => {
      await models?.close();
      await t?.cleanup();
    });

    /** A run streamed as the chat asks for it: its chunks, and the text they carried. */
    async function streamed(agent: string, message: string) {
      const res = await app.request(`/api/v1/orgs/acme/agents/${agent}/runs`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${acme.people.member.token}`,
          'content-type': 'application/json',
          accept: 'text/event-stream',
        },
        body: JSON.stringify({ message }),
      });
      assert.equal(res.status, 200);
      const chunks = (await res.text())
        .split('\n\n')
        .filter((l) => l.startsWith('data: {'))
        .map((l) => JSON.parse(l.slice(6)));
      const text = chunks
        .filter((c) => c.type === 'text-delta')
        .map((c) => c.delta)
        .join('');
      const run = chunks.filter((c) => c.type === 'data-run').at(-1).data;
      return { chunks, text, run };
    }

    const entries = async (runId: string) => {
      await deps.audit.flush();
      return (await api('get', `/runs/${runId}`)).body.audit as Array<{ action: string; details: any }>;
    };

    /** Everything stored about the org and everything the audit trail exports, as text. */
    async function everywhere(): Promise<string> {
      await deps.audit.flush();
      const texts = [
        (await api('get', '/audit/export?format=jsonl', undefined, acme.people.owner.token)).text,
      ];
      for (const table of ['runs', 'conversations', 'audit_entries', 'audit_outbox'])
        texts.push(JSON.stringify((await sql`select * from ${sql.table(table)}`.execute(t.store.db)).rows));
      return texts.join('\n');
    }

    test('a redacted email streams only as its redaction; the answer, the conversation and the record hold the redaction', async () => {
      scripts.set('who to mail', [{ text: `${FILLER}Write to ${EMAIL} about it.` }]);
      const { text, run } = await streamed(guarded, 'who to mail');
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.equal(text, `${FILLER}Write to [REDACTED:mail] about it.`);
      assert.equal(run.output, `${FILLER}Write to [REDACTED:mail] about it.`);
      const ended = (await entries(run.id)).find((e) => e.action === 'run.completed')!;
      assert.deepEqual(ended.details.checks, [{ check: 'mail', action: 'redact' }]);
      assert.ok(!(await everywhere()).includes(EMAIL), 'the address is stored nowhere');
    });

    test('a blocked card number never streams, fails the run, and is audited with its check, never the number', async () => {
      scripts.set('my card please', [{ text: `${FILLER}Your card on file is ${CARD}, expiring soon.` }]);
      const { text, run } = await streamed(guarded, 'my card please');
      assert.deepEqual([run.status, run.error.code], ['failed', 'output_blocked']);
      assert.match(run.error.message, /"cards"/);
      assert.equal(run.output, null);
      assert.ok(text.startsWith(FILLER.slice(0, 100)), 'the clean beginning streamed');
      for (const form of CARD_FORMS) assert.ok(!text.includes(form), `streamed ${form}`);
      const failed = (await entries(run.id)).find((e) => e.action === 'run.failed')!;
      assert.deepEqual(failed.details.checks, [{ check: 'cards', action: 'block' }]);
      assert.equal(failed.details.output, null);
      const read = (await api('get', `/runs/${run.id}`)).body.run;
      assert.equal(read.output, null);
      const stored = await everywhere();
      for (const form of CARD_FORMS) assert.ok(!stored.includes(form), `${form} is stored somewhere`);
    });

    test('a card number in a tool call’s arguments is refused at the gate and audited like a denial; the model reads why', async () => {
      scripts.set('pay it', [
        { toolCalls: [{ name: 'everything__echo', args: { message: `charge ${CARD} now` } }] },
        { text: 'I could not send that.' },
      ]);
      const r = await api('post', `/agents/${guarded}/runs`, { message: 'pay it' }, acme.people.member.token);
      assert.equal(r.body.status, 'completed', r.text);
      assert.match(
        models.requests.at(-1)!.toolResults.at(-1)!.output,
        /tool_args_blocked|data-loss prevention/,
      );
      const audit = await entries(r.body.id);
      assert.ok(!audit.some((e) => e.action === 'tool.call.allowed'), 'nothing ran');
      const denied = audit.find((e) => e.action === 'tool.call.denied')!;
      assert.deepEqual(denied.details.checks, ['cards']);
      assert.equal(denied.details.args.message, 'charge [REDACTED:cards] now');
      assert.match(denied.details.reason, /data-loss prevention/);
    });

    test('the same check refuses an external MCP agent’s call and the REST test call; other calls go through', async () => {
      const token = (await api('post', `/agents/${guarded}/tokens`, { name: 'laptop' })).body.token;
      const mcp = (args: Record<string, unknown>) =>
        call(app, 'post', '/mcp/acme', {
          token,
          headers: { accept: 'application/json, text/event-stream' },
          body: {
            jsonrpc: '2.0',
            id: 1,
            method: 'tools/call',
            params: { name: 'everything__echo', arguments: args },
          },
        });
      const refused = await mcp({ message: `card ${CARD.replaceAll(' ', '-')}` });
      const said = JSON.stringify(refused.body ?? refused.text);
      assert.match(said, /"isError":true/);
      assert.match(said, /tool_args_blocked|data-loss prevention/);
      assert.ok(!said.includes('4111'));
      const fine = await mcp({ message: 'hello' });
      assert.match(JSON.stringify(fine.body ?? fine.text), /Echo: hello/);
      const rest = await api('post', `/agents/${guarded}/calls`, {
        connectionId: everything,
        tool: 'echo',
        args: { message: CARD.replaceAll(' ', '') },
      });
      assert.deepEqual([rest.status, rest.body.error.code], [403, 'tool_args_blocked']);
    });

    test('an output schema: structured output through the cell; a broken answer gets one more try (and never streams)', async () => {
      scripts.set('label this', [{ text: '{"label":"rant"}' }]);
      retries.push({ text: '{"label":"bug"}' });
      const { text, run, chunks } = await streamed(typed, 'label this');
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.equal(run.output, '{"label":"bug"}');
      assert.equal(text, '{"label":"bug"}', 'only the answer that holds is streamed');
      assert.ok(
        chunks.findIndex((c) => c.type === 'finish') > chunks.findIndex((c) => c.type === 'text-delta'),
      );
      const seen = models.requests.filter((x) => JSON.stringify(x.body).includes('json_schema'));
      assert.ok(seen.length >= 2, 'the provider was asked for structured output');
      assert.match(models.requests.at(-1)!.lastUserText, /does not match the required output schema/);
    });

    test('two broken answers fail the run with a clear reason; nothing of them reaches the caller', async () => {
      scripts.set('label again', [{ text: 'It is a bug.' }]);
      retries.push({ text: '{"label":"feature"}' });
      const r = await api(
        'post',
        `/agents/${typed}/runs`,
        { message: 'label again' },
        acme.people.member.token,
      );
      assert.deepEqual([r.body.status, r.body.error.code], ['failed', 'output_invalid'], r.text);
      assert.match(r.body.error.message, /output schema, after one more try \(at \/label/);
      assert.equal(r.body.output, null);
      assert.ok(!r.text.includes('feature'));
    });
  });
}
