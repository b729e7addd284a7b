/**
 * The agent loop on its own: real AI SDK providers against the scripted model server, tools from
 * a stand-in gate over the same channel transport the cell uses. A denial reaches the model as a
 * tool error; a call waiting for approval ends the run as `waiting_approval` and a resume with
 * the decision finishes it; a stop ends it; an unknown provider never falls back to a default;
 * the key never appears in what the run reports.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { ModelMessage } from 'ai';
import { type ModelServer, type ModelTurn, startModelServer } from '../../testing/model-server/index.ts';
import { seal } from '../../vault/aead.ts';
import { ChannelTransport } from './channel-transport.ts';
import { type RunEvent, type RunIO, type RunSpec, runAgent } from './loop.ts';

const KEY = 'sk-loop-test-8c1e4b7a2f90d3c5';
const dataKey = randomBytes(32);
const AAD = 'org_test/sec_test/1';

const SCHEMA = { type: 'object' as const, properties: { message: { type: 'string' } } };

/** A stand-in gate: `echo` runs, `wipe` is refused, `refund` waits for approval until approved. */
function gate(approved: Set<string>) {
  const calls: string[] = [];
  const server = new Server({ name: 'gate', version: '1' }, { capabilities: { tools: {} } });
  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    calls.push(req.params.name);
    const message = String(req.params.arguments?.message ?? '');
    if (req.params.name === 'demo__wipe')
      return { isError: true, content: [{ type: 'text', text: 'tool_denied: No grant allows wipe.' }] };
    if (req.params.name === 'demo__refund' && !approved.has(message)) {
      return {
        isError: true,
        content: [{ type: 'text', text: 'approval_required: request apr_1 waits.' }],
        _meta: { 'paddock/approval': { id: 'apr_1', expiresAt: '2099-01-01T00:00:00.000Z' } },
      };
    }
    // A tool that answers with the key (a hostile or careless server holding it).
    if (message === 'tell the key') return { content: [{ type: 'text', text: `the key is ${KEY}` }] };
    return { content: [{ type: 'text', text: `ran ${req.params.name}: ${message}` }] };
  });
  return { server, calls };
}

function connect(server: Server): ChannelTransport {
  let toServer: ChannelTransport;
  const toClient: ChannelTransport = new ChannelTransport((m) => queueMicrotask(() => toServer.deliver(m)));
  toServer = new ChannelTransport((m) => queueMicrotask(() => toClient.deliver(m)));
  void server.connect(toServer);
  return toClient;
}

describe('the agent loop', () => {
  let models: ModelServer;
  const turns: ModelTurn[] = [];
  before(async () => {
    models = await startModelServer(() => turns.shift() ?? { text: 'no more script' });
  });
  after(() => models.close());

  const spec = (over: Partial<RunSpec> = {}): RunSpec => ({
    runId: 'run_test',
    capability: 'cap',
    instructions: 'Be brief.',
    model: { provider: 'openai', model: 'gpt-test' },
    key: { sealed: seal(dataKey, Buffer.from(KEY), AAD), aad: AAD, baseUrl: `${models.url}/v1` },
    tools: ['echo', 'wipe', 'refund'].map((n) => ({
      name: `demo__${n}`,
      description: n,
      inputSchema: SCHEMA,
    })),
    messages: [{ role: 'user', content: 'go' }],
    limits: { maxSteps: 5, wallMs: 10_000 },
    ...over,
  });

  async function run(s: RunSpec, approved = new Set<string>(), signal = new AbortController().signal) {
    const g = gate(approved);
    const events: RunEvent[] = [];
    const io: RunIO = {
      dataKey,
      fetch: globalThis.fetch,
      gate: connect(g.server),
      emit: (e) => events.push(e),
      signal,
    };
    const end = await runAgent(s, io);
    return { end, events, calls: g.calls };
  }

  test('a tool call through the gate, then the answer; steps and usage reported; the key reached the provider', async () => {
    turns.push({ toolCalls: [{ name: 'demo__echo', args: { message: 'hi' } }] }, { text: 'Done.' });
    const { end, events, calls } = await run(spec());
    assert.equal(end.status, 'completed', JSON.stringify(end.error));
    assert.equal(end.output, 'Done.');
    assert.deepEqual(calls, ['demo__echo']);
    assert.equal(events.filter((e) => e.kind === 'step').length, 2);
    assert.ok(events.some((e) => e.kind === 'chunk' && e.chunk.type === 'text-delta'));
    assert.equal(end.usage.inputTokens, 24);
    assert.match(models.requests.at(-1)!.headers.authorization ?? '', new RegExp(KEY));
  });

  test('a tool that answers with the key, on a call a person approved: the call’s outcome streams scrubbed', async () => {
    turns.push({ toolCalls: [{ name: 'demo__refund', args: { message: 'tell the key' } }] });
    const first = await run(spec());
    assert.equal(first.end.status, 'waiting_approval');
    turns.push({ text: 'Done.' });
    const second = await run(
      spec({
        messages: first.end.messages,
        decisions: [{ toolCallId: first.end.pending[0]!.toolCallId, outcome: 'approved' }],
      }),
      new Set(['tell the key']),
    );
    assert.equal(second.end.status, 'completed', JSON.stringify(second.end.error));
    const outcome = second.events.find((e) => e.kind === 'chunk' && e.chunk.type === 'tool-output-available');
    assert.ok(outcome, 'the approved call’s outcome streamed');
    assert.match(JSON.stringify(outcome), /the key is /);
    assert.ok(!JSON.stringify(second.events).includes(KEY), 'the key is nowhere in what streamed');
  });

  test('a denial reaches the model as a tool error it can read; the run goes on', async () => {
    turns.push({ toolCalls: [{ name: 'demo__wipe', args: {} }] }, { text: 'I may not wipe.' });
    const { end } = await run(spec());
    assert.equal(end.status, 'completed');
    const seen = models.requests.at(-1)!.toolResults.at(-1)!.output;
    assert.match(seen, /tool_denied: No grant allows wipe/);
  });

  test('a call waiting for approval ends the run waiting; resumed approved, the call runs and the run completes', async () => {
    // A step before the wait: the run's state must keep every step, not only the last.
    turns.push({ toolCalls: [{ name: 'demo__echo', args: { message: 'first' } }] });
    turns.push({ toolCalls: [{ name: 'demo__refund', args: { message: '20' } }] });
    const first = await run(spec());
    assert.equal(first.end.status, 'waiting_approval');
    assert.equal(first.end.pending[0]?.approvalId, 'apr_1');
    assert.ok(first.events.some((e) => e.kind === 'approval'));
    turns.push({ text: 'Refunded.' });
    const resumed = await run(
      spec({
        messages: first.end.messages as ModelMessage[],
        decisions: [{ toolCallId: first.end.pending[0]!.toolCallId, outcome: 'approved' }],
      }),
      new Set(['20']),
    );
    assert.equal(resumed.end.status, 'completed', JSON.stringify(resumed.end.error));
    assert.deepEqual(resumed.calls, ['demo__refund']);
    const last = models.requests.at(-1)!;
    assert.deepEqual(
      last.toolResults.map((r) => r.output),
      ['ran demo__echo: first', 'ran demo__refund: 20'],
      'the resumed run remembers every step before the wait',
    );
    assert.equal(resumed.end.messages.filter((m) => m.role === 'tool').length, 2);
  });

  test('resumed approved, the waiting call runs — not an older call of the same id (a provider numbering calls afresh)', async () => {
    turns.push({ toolCalls: [{ name: 'demo__echo', args: { message: 'old' }, id: 'call_0' }] });
    turns.push({ text: 'Echoed.' });
    const earlier = await run(spec());
    assert.equal(earlier.end.status, 'completed');
    turns.push({ toolCalls: [{ name: 'demo__refund', args: { message: '25' }, id: 'call_0' }] });
    const waiting = await run(
      spec({ messages: [...(earlier.end.messages as ModelMessage[]), { role: 'user', content: 'again' }] }),
    );
    assert.equal(waiting.end.status, 'waiting_approval');
    assert.equal(waiting.end.pending[0]?.toolCallId, 'call_0');
    turns.push({ text: 'Refunded.' });
    const resumed = await run(
      spec({
        messages: waiting.end.messages as ModelMessage[],
        decisions: [{ toolCallId: 'call_0', outcome: 'approved' }],
      }),
      new Set(['25']),
    );
    assert.equal(resumed.end.status, 'completed', JSON.stringify(resumed.end.error));
    assert.deepEqual(resumed.calls, ['demo__refund'], 'the waiting refund ran, not the earlier echo again');
    assert.deepEqual(
      models.requests.at(-1)!.toolResults.map((r) => r.output),
      ['ran demo__echo: old', 'ran demo__refund: 25'],
      'the earlier result is left as it was',
    );
  });

  test('resumed denied, the model is told and the call never runs', async () => {
    turns.push({ toolCalls: [{ name: 'demo__refund', args: { message: '30' } }] });
    const first = await run(spec());
    turns.push({ text: 'No refund then.' });
    const resumed = await run(
      spec({
        messages: first.end.messages as ModelMessage[],
        decisions: [{ toolCallId: first.end.pending[0]!.toolCallId, outcome: 'denied' }],
      }),
    );
    assert.equal(resumed.end.status, 'completed');
    assert.deepEqual(resumed.calls, []);
    assert.match(models.requests.at(-1)!.toolResults.at(-1)!.output, /A person denied this call/);
  });

  const LABEL = {
    type: 'object',
    properties: { label: { enum: ['bug', 'question'] }, confidence: { type: 'number' } },
    required: ['label'],
    additionalProperties: false,
  };

  test('an output schema: the provider is asked for structured output, and a matching answer completes the run', async () => {
    turns.push({ text: '{"label":"bug","confidence":0.9}' });
    const { end } = await run(spec({ outputSchema: LABEL }));
    assert.equal(end.status, 'completed', JSON.stringify(end.error));
    assert.deepEqual(JSON.parse(end.output!), { label: 'bug', confidence: 0.9 });
    const sent = JSON.stringify(models.requests.at(-1)!.body);
    assert.match(sent, /json_schema/, 'the request carries the schema as its response format');
    assert.match(sent, /"enum":\["bug","question"\]/);
  });

  test('an answer that breaks the schema is shown to the model once, with why; the second answer completes the run', async () => {
    const before = models.requests.length;
    turns.push({ text: '{"label":"rant"}' }, { text: '{"label":"question"}' });
    const { end } = await run(spec({ outputSchema: LABEL }));
    assert.equal(end.status, 'completed', JSON.stringify(end.error));
    assert.equal(end.output, '{"label":"question"}');
    assert.equal(models.requests.length - before, 2);
    assert.match(
      models.requests.at(-1)!.lastUserText,
      /does not match the required output schema \(at \/label: must be equal to one of the allowed values\)/,
    );
  });

  test('two answers that break the schema fail the run with a clear reason; no third try', async () => {
    const before = models.requests.length;
    turns.push({ text: 'Sure! It is a bug.' }, { text: '{"label":"bug","extra":1}' });
    const { end } = await run(spec({ outputSchema: LABEL }));
    assert.deepEqual([end.status, end.error?.code], ['failed', 'output_invalid']);
    assert.match(
      end.error!.message,
      /after one more try \(at the top level: must NOT have additional properties \(extra\)\)/,
    );
    assert.equal(end.output, null, 'the answer that broke the schema is not the output');
    assert.equal(models.requests.length - before, 2);
  });

  test('a stop ends the run as stopped', async () => {
    const stop = new AbortController();
    stop.abort('the agent was stopped');
    const { end } = await run(spec(), new Set(), stop.signal);
    assert.equal(end.status, 'stopped');
  });

  test('a provider that fails the call fails the run with its reason, not an empty answer', async () => {
    const failing = await startModelServer(() => {
      throw new Error('the scripted provider is down');
    });
    try {
      const { end } = await run(
        spec({
          key: { sealed: seal(dataKey, Buffer.from(KEY), AAD), aad: AAD, baseUrl: `${failing.url}/v1` },
        }),
      );
      assert.deepEqual([end.status, end.error?.code], ['failed', 'model_failed']);
      assert.match(end.error?.message ?? '', /scripted provider is down/);
      assert.equal(end.output, null);
    } finally {
      await failing.close();
    }
  });

  test('an unknown provider fails the run; there is no fallback to a default provider', async () => {
    const before = models.requests.length;
    const { end } = await run(spec({ model: { provider: 'gateway', model: 'openai/gpt-5' } }));
    assert.deepEqual([end.status, end.error?.code], ['failed', 'unknown_provider']);
    assert.equal(models.requests.length, before);
  });

  test('a model that echoes the key leaks it nowhere in what the run reports', async () => {
    turns.push({ text: `my key is ${KEY} or ${Buffer.from(KEY).toString('base64')}` });
    const { end, events } = await run(spec());
    assert.equal(end.status, 'completed');
    const reported = JSON.stringify({ end, events });
    assert.ok(!reported.includes(KEY) && !reported.includes(Buffer.from(KEY).toString('base64')));
    assert.match(end.output ?? '', /\[REDACTED\]/);
  });
});
