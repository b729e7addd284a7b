/**
 * Memory in agent runs, end to end on SQLite and PostgreSQL: a real org cell (bubblewrap), the
 * real AI SDK provider in it talking to a scripted model server through the org's egress proxy.
 * A run's model calls `memory__remember` and the call goes through the gate (granted, on record
 * with the run id); once a person pins the entry, the next run's model is given it after the
 * agent's instructions — and a run for someone else is not given an entry about another person.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bubblewrap } from '../cells/index.ts';
import { call, createApp, type SeededOrg, seedOrg, testDeps, useModelServer } from '../testing/fixtures.ts';
import { type ModelServer, type ModelTurn, startModelServer } from '../testing/model-server/index.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';

const KEY = 'sk-memory-runs-8d2f0b6e4a1c3957';
const NOTE = 'The release train leaves on Thursdays at 15:00.';
const PRIVATE = 'MEMBER-PREFERS-EMAIL-0c4e';

for (const kind of STORE_KINDS) {
  describe(`memory in agent runs [${kind}]`, () => {
    let t: TestStore;
    let deps: ReturnType<typeof testDeps>;
    let app: ReturnType<typeof createApp>;
    let models: ModelServer;
    let acme: SeededOrg;
    let agentId: string;
    const scripts = new Map<string, ModelTurn[]>();

    const api = (
      method: 'get' | 'post' | 'patch',
      path: string,
      body?: unknown,
      token = acme.people.admin.token,
    ) => call(app, method, `/api/v1/orgs/acme${path}`, { token, ...(body === undefined ? {} : { body }) });
    const run = (message: string, token: string) =>
      api('post', `/agents/${agentId}/runs`, { message }, token);
    /** The system instructions the model was sent for a message (the request body, as text). */
    const sentFor = (message: string) =>
      models.requests
        .filter((r) => r.lastUserText === message)
        .map((r) => JSON.stringify(r.body))
        .join('\n');

    before(async () => {
      const check = await bubblewrap.check();
      assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
      models = await startModelServer((req) => scripts.get(req.lastUserText)?.shift() ?? { text: 'ok' });
      t = await openTestStore(kind);
      deps = testDeps(t.store, t.home, {}, { provider: bubblewrap, problem: null });
      app = createApp(deps);
      acme = await seedOrg(t.store, 'acme');
      await useModelServer(app, acme, models.url, KEY);
      const memory = await api('post', '/connections', {
        name: 'memory',
        transport: 'builtin',
        server: 'memory',
      });
      assert.equal(memory.status, 201, memory.text);
      assert.equal((await api('post', `/connections/${memory.body.id}/tools/refresh`)).status, 200);
      const agent = await api('post', '/agents', {
        name: 'helper',
        scope: 'organization',
        instructions: 'Help briefly.',
        model: { provider: 'openai', model: 'gpt-test' },
      });
      agentId = agent.body.id;
      for (const tool of ['remember', 'recall', 'forget'])
        assert.equal(
          (await api('post', `/agents/${agentId}/grants`, { connectionId: memory.body.id, tool })).status,
          201,
        );
    });

    after(async () => {
      await models?.close();
      await t?.cleanup();
    });

    test('a run remembers through the gate; a pinned entry is given to the next runs, one about a person only to theirs', async () => {
      scripts.set('note the train', [
        { toolCalls: [{ name: 'memory__remember', args: { text: NOTE } }] },
        { text: 'Noted.' },
      ]);
      const first = await run('note the train', acme.people.member.token);
      assert.equal(first.body.status, 'completed', first.text);
      assert.match(models.requests.at(-1)!.toolResults.at(-1)!.output, /"remembered":true/);
      await deps.audit.flush();
      const trail = (await api('get', `/runs/${first.body.id}`)).body.audit as Array<{ action: string }>;
      assert.ok(
        trail.some((e) => e.action === 'tool.call.allowed'),
        trail.map((e) => e.action).join(),
      );
      // And one about the member, written in their own run.
      scripts.set('remember my preference', [
        {
          toolCalls: [{ name: 'memory__remember', args: { text: PRIVATE, about: acme.people.member.email } }],
        },
        { text: 'Noted.' },
      ]);
      assert.equal((await run('remember my preference', acme.people.member.token)).body.status, 'completed');

      const entries = (await api('get', `/agents/${agentId}/memory`)).body.entries as Array<{
        id: string;
        text: string;
      }>;
      assert.deepEqual(entries.map((e) => e.text).sort(), [NOTE, PRIVATE].sort());
      // Not pinned yet: not in the instructions.
      assert.equal((await run('what do you know', acme.people.owner.token)).body.status, 'completed');
      assert.ok(!sentFor('what do you know').includes(NOTE));

      for (const e of entries)
        assert.equal((await api('patch', `/agents/${agentId}/memory/${e.id}`, { pinned: true })).status, 200);
      assert.equal((await run('and now', acme.people.owner.token)).body.status, 'completed');
      const owners = sentFor('and now');
      assert.ok(owners.includes('Help briefly.'), 'the instructions are sent');
      assert.ok(owners.includes(NOTE), 'a pinned entry rides with the instructions');
      assert.ok(!owners.includes(PRIVATE), 'never one about someone else');
      assert.equal((await run('and for me', acme.people.member.token)).body.status, 'completed');
      const members = sentFor('and for me');
      assert.ok(
        members.includes(NOTE) && members.includes(PRIVATE),
        'theirs too, for the person it is about',
      );
    });

    test('a run for one person cannot recall, write about or forget what is about another; the person it is about can', async () => {
      const privateId = (await api('get', `/agents/${agentId}/memory`)).body.entries.find(
        (e: { text: string }) => e.text === PRIVATE,
      ).id as string;
      // Unpinned, so only recall could bring it into a run.
      assert.equal(
        (await api('patch', `/agents/${agentId}/memory/${privateId}`, { pinned: false })).status,
        200,
      );
      const probes = [
        { name: 'memory__recall', args: { query: '' } },
        { name: 'memory__recall', args: { query: 'member prefers email' } },
        { name: 'memory__recall', args: { query: '', about: acme.people.member.email } },
        {
          name: 'memory__remember',
          args: { text: 'The member is on leave.', about: acme.people.member.email },
        },
        { name: 'memory__forget', args: { id: privateId } },
      ];
      scripts.set('tell me about the member', [
        ...probes.map((c) => ({ toolCalls: [c] })),
        { text: 'Nothing.' },
      ]);
      // Mallory (the admin) asks: a real run for her, in the cell, through the gate.
      const mallory = await run('tell me about the member', acme.people.admin.token);
      assert.equal(mallory.body.status, 'completed', mallory.text);
      const outputs = models.requests.at(-1)!.toolResults.map((r) => r.output);
      assert.equal(outputs.length, probes.length, outputs.join('\n'));
      assert.ok(!outputs.join('\n').includes(PRIVATE), outputs.join('\n'));
      assert.match(outputs[0]!, new RegExp(NOTE.slice(0, 20)), 'the general entry is hers to recall');
      assert.match(outputs[2]!, /only the person this call is for/);
      assert.match(outputs[3]!, /only the person this call is for/);
      assert.match(outputs[4]!, /"forgotten":false/);
      const texts = (await api('get', `/agents/${agentId}/memory`)).body.entries.map(
        (e: { text: string }) => e.text,
      );
      assert.deepEqual(texts.sort(), [NOTE, PRIVATE].sort(), 'nothing was written or forgotten');

      // The member's own run recalls it (the control), and may write about themselves.
      scripts.set('what do you know of me', [
        { toolCalls: [{ name: 'memory__recall', args: { query: '', about: acme.people.member.email } }] },
        { text: 'This.' },
      ]);
      assert.equal((await run('what do you know of me', acme.people.member.token)).body.status, 'completed');
      assert.ok(models.requests.at(-1)!.toolResults.at(-1)!.output.includes(PRIVATE));
    });
  });
}
