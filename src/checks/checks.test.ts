/**
 * Checks on their own: the built-in detectors find what they name and not its look-alikes, a
 * redaction replaces only the match, a blocked answer never streams (not one piece of it, across
 * any split into deltas), a custom pattern that can backtrack catastrophically is refused when
 * saved (recheck, exponential and polynomial alike), and the built-ins pass that same judge.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ModelMessage, UIMessageChunk } from 'ai';
import { check } from 'recheck';
import { PaddockError } from '../errors/index.ts';
import { detectors, luhn } from './detectors.ts';
import {
  type AgentChecks,
  AgentChecksSchema,
  applyToValue,
  assertChecks,
  assertOutputSchema,
  CheckSet,
  StreamGuard,
  settle,
} from './index.ts';
import { RECHECK } from './validate.ts';

const CARD = '4111 1111 1111 1111';
const KEY = 'sk-proj-abcdefghijklmnopqrstuvwx';

const checks = (rules: unknown[], more: Record<string, unknown> = {}): AgentChecks =>
  AgentChecksSchema.parse({ rules, ...more });

const set = (rules: unknown[], more: Record<string, unknown> = {}) => new CheckSet(checks(rules, more));

async function refused(p: Promise<unknown> | (() => unknown), code: string): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    assert.ok(PaddockError.isInstance(err), String(err));
    assert.equal(err.code, code, err.message);
    return err.message;
  }
  assert.fail(`expected ${code}`);
}

describe('the built-in detectors', () => {
  const s = set([
    { name: 'keys', match: 'secrets', action: 'redact' },
    { name: 'cards', match: 'card_numbers', action: 'redact' },
    { name: 'mail', match: 'emails', action: 'redact' },
  ]);

  test('keys and tokens, card numbers that pass Luhn, and email addresses are found and replaced', () => {
    const r = s.output!.apply(
      `key ${KEY}, card ${CARD} or 4111-1111-1111-1111, mail bob.smith+x@mail.example.org.`,
    );
    assert.equal(
      r.text,
      'key [REDACTED:keys], card [REDACTED:cards] or [REDACTED:cards], mail [REDACTED:mail].',
    );
    assert.deepEqual(
      r.fired.map((f) => f.check),
      ['keys', 'cards', 'mail'],
    );
    assert.equal(r.blocked, false);
  });

  test('digits that fail Luhn, too few digits, or part of a longer number are not card numbers', () => {
    assert.equal(luhn('4111111111111111'), true);
    assert.equal(luhn('4111111111111112'), false);
    for (const text of ['order 4111 1111 1111 1112', 'phone 0612345678', 'id 41111111111111111111111'])
      assert.deepEqual(s.output!.scan(text), [], text);
  });

  test('GitHub, Slack and Stripe tokens and a private key block count as secrets', () => {
    for (const secret of [
      `ghp_${'a'.repeat(36)}`,
      'xoxb-1234567890-abcdefghij',
      `sk_live_${'a'.repeat(24)}`,
      '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----',
    ])
      assert.equal(s.output!.scan(`here: ${secret} there`).length, 1, secret);
  });

  test('the detectors written here pass the same catastrophic-backtracking judge as custom patterns', async () => {
    // (The credential shapes are a literal prefix, then one class: linear, but slow for recheck to prove.)
    const own = [
      ...detectors('card_numbers'),
      ...detectors('emails'),
      ...detectors('secrets').filter((d) => d.re.source.includes('PRIVATE KEY')),
    ];
    assert.equal(own.length, 3);
    for (const d of own) {
      const verdict = await check(d.re.source, d.re.flags.replace('g', ''), { ...RECHECK, timeout: 20_000 });
      assert.equal(verdict.status, 'safe', d.re.source);
    }
  });

  test('a long text of near-misses is scanned in linear time (no pathological input for the built-ins)', () => {
    const text = `${'a'.repeat(50_000)}@${'1 '.repeat(20_000)}${'x.'.repeat(20_000)}${'-----BEGIN PRIVATE KEY-----'.repeat(2_000)}`;
    const started = performance.now();
    s.output!.scan(text);
    // Generous: a quadratic scan of this text takes seconds; a linear one a few milliseconds.
    assert.ok(performance.now() - started < 1_000);
  });
});

describe('saving checks', () => {
  test('a pattern that can backtrack exponentially or polynomially is refused, saying so', async () => {
    const exp = await refused(
      assertChecks(checks([{ name: 'bad', match: 'pattern', pattern: '^(a+)+$', action: 'block' }])),
      'unsafe_check_pattern',
    );
    assert.match(exp, /exponential/);
    const poly = await refused(
      assertChecks(checks([{ name: 'bad', match: 'pattern', pattern: '\\s+\\s+x', action: 'block' }])),
      'unsafe_check_pattern',
    );
    assert.match(poly, /polynomial/);
  });

  test('a pattern that does not compile, matches the empty text, or is missing is refused', async () => {
    await refused(
      assertChecks(checks([{ name: 'x', match: 'pattern', pattern: '(', action: 'block' }])),
      'invalid_check_pattern',
    );
    await refused(
      assertChecks(checks([{ name: 'x', match: 'pattern', pattern: 'a*', action: 'block' }])),
      'invalid_check_pattern',
    );
    await refused(assertChecks(checks([{ name: 'x', match: 'pattern', action: 'block' }])), 'invalid_check');
    await refused(
      assertChecks(checks([{ name: 'x', match: 'emails', pattern: 'a', action: 'block' }])),
      'invalid_check',
    );
  });

  test('two checks of one name are refused; a safe custom pattern is accepted', async () => {
    await refused(
      assertChecks(
        checks([
          { name: 'x', match: 'emails', action: 'block' },
          { name: 'x', match: 'secrets', action: 'block' },
        ]),
      ),
      'duplicate_check',
    );
    await assertChecks(
      checks([{ name: 'ticket', match: 'pattern', pattern: 'ACME-[0-9]{6}', action: 'redact' }]),
    );
  });

  test('an output schema that is not a JSON Schema is refused with what is wrong', async () => {
    const message = await refused(() => assertOutputSchema({ type: 'objekt' }), 'invalid_output_schema');
    assert.match(message, /type/);
    assertOutputSchema({ type: 'object', properties: { label: { type: 'string' } }, required: ['label'] });
  });
});

describe('tool arguments', () => {
  test('a card number in a nested string or as a number is found; the value keeps everything else', () => {
    const s = set([{ name: 'cards', match: 'card_numbers', action: 'block', on: ['tool_args'] }]);
    const scanner = s.toolArgs('con_1', 'pay')!;
    const r = applyToValue(scanner, { to: 'bob', card: { number: 4111111111111111 }, note: `use ${CARD}` });
    assert.deepEqual(r.fired, [{ check: 'cards', action: 'block' }]);
    assert.deepEqual(r.value, {
      to: 'bob',
      card: { number: '[REDACTED:cards]' },
      note: 'use [REDACTED:cards]',
    });
    assert.equal(s.output, null, 'a tool_args check does not check answers');
  });

  test('a check narrowed to tools applies to those only, by name or connection/name', () => {
    const s = set([
      { name: 'mail', match: 'emails', action: 'block', on: ['tool_args'], tools: ['con_1/send'] },
    ]);
    assert.ok(s.toolArgs('con_1', 'send'));
    assert.equal(s.toolArgs('con_2', 'send'), null);
  });
});

/** The text a stream carried, joined. */
const streamedText = (chunks: UIMessageChunk[]) =>
  chunks.map((c) => (c.type === 'text-delta' ? c.delta : '')).join('');

function streamOf(guard: StreamGuard, text: string, size: number): UIMessageChunk[] {
  const out: UIMessageChunk[] = [...guard.push({ type: 'text-start', id: 't' })];
  for (let i = 0; i < text.length; i += size)
    out.push(...guard.push({ type: 'text-delta', id: 't', delta: text.slice(i, i + size) }));
  out.push(...guard.push({ type: 'text-end', id: 't' }));
  out.push(...guard.push({ type: 'finish' }));
  return out;
}

describe('streaming through the hold-back window', () => {
  const filler = 'All is well here. '.repeat(30);

  test('a blocked card number never streams, in any split; what came before it does', () => {
    for (const size of [1, 3, 7, 40]) {
      const guard = new StreamGuard(
        set([{ name: 'cards', match: 'card_numbers', action: 'block' }], { holdBackChars: 64 }),
        false,
      );
      const out = streamOf(guard, `${filler}Your card is ${CARD}. ${filler}`, size);
      const text = streamedText(out);
      assert.ok(!/4111|1111 1111/.test(text), `size ${size}: ${text.slice(-80)}`);
      assert.ok(text.startsWith(filler.slice(0, 200)), `size ${size}: the clean beginning streamed`);
      assert.ok(out.some((c) => c.type === 'text-end'));
    }
  });

  test('a redacted email streams as its redaction only, whatever the split', () => {
    for (const size of [1, 2, 5, 33]) {
      const guard = new StreamGuard(set([{ name: 'mail', match: 'emails', action: 'redact' }]), false);
      const text = streamedText(
        streamOf(guard, `${filler}write to carol.jones@corp.example.com today`, size),
      );
      assert.equal(text, `${filler}write to [REDACTED:mail] today`, `size ${size}`);
    }
  });

  test('the stream stays the window behind the model until the part ends', () => {
    const guard = new StreamGuard(
      set([{ name: 'mail', match: 'emails', action: 'redact' }], { holdBackChars: 100 }),
      false,
    );
    guard.push({ type: 'text-start', id: 't' });
    const early = guard.push({ type: 'text-delta', id: 't', delta: 'x'.repeat(150) });
    assert.equal(streamedText(early).length, 50);
  });

  test('"final" (or an output schema) streams no text, only the checked answer at the end, before finish', () => {
    const guard = new StreamGuard(
      set([{ name: 'mail', match: 'emails', action: 'block' }], { streaming: 'final' }),
      false,
    );
    const during = streamOf(guard, 'thinking out loud', 4);
    assert.equal(streamedText(during), '');
    const end = guard.end('The answer.');
    assert.equal(streamedText(end), 'The answer.');
    assert.equal(end.at(-1)!.type, 'finish');
    const schema = new StreamGuard(null, true);
    assert.equal(streamedText(streamOf(schema, '{"a":', 2)), '');
    assert.equal(schema.guards, true);
    assert.equal(new StreamGuard(null, false).guards, false);
  });

  test('tool inputs and outputs in the stream have matches redacted; their deltas are not streamed', () => {
    const guard = new StreamGuard(set([{ name: 'keys', match: 'secrets', action: 'block' }]), false);
    assert.deepEqual(guard.push({ type: 'tool-input-delta', toolCallId: 'c', inputTextDelta: KEY }), []);
    const [input] = guard.push({
      type: 'tool-input-available',
      toolCallId: 'c',
      toolName: 'x',
      input: { key: KEY },
    });
    assert.deepEqual((input as any).input, { key: '[REDACTED:keys]' });
  });
});

describe('settling a run’s end', () => {
  const messages = (text: string): ModelMessage[] => [
    { role: 'user', content: 'hi' },
    { role: 'assistant', content: [{ type: 'text', text }] },
  ];
  const end = (output: string) => ({
    status: 'completed' as const,
    output,
    messages: messages(output),
    error: null as { code: string; message: string } | null,
    pending: [],
  });

  test('a blocking match fails the run, and nothing of the answer is kept', () => {
    const s = set([{ name: 'cards', match: 'card_numbers', action: 'block' }]);
    const r = settle(end(`card ${CARD}`), { checks: s, schema: null });
    assert.equal(r.end.status, 'failed');
    assert.equal(r.end.error?.code, 'output_blocked');
    assert.match(r.end.error!.message, /"cards"/);
    assert.equal(r.end.output, null);
    assert.deepEqual(r.end.messages, []);
    assert.ok(!JSON.stringify(r).includes('4111'));
    assert.deepEqual(r.fired, [{ check: 'cards', action: 'block' }]);
  });

  test('a redacting match is redacted in the answer and in the messages kept', () => {
    const s = set([{ name: 'mail', match: 'emails', action: 'redact' }]);
    const r = settle(end('ask a@b.example'), { checks: s, schema: null });
    assert.equal(r.end.status, 'completed');
    assert.equal(r.end.output, 'ask [REDACTED:mail]');
    assert.ok(!JSON.stringify(r.end.messages).includes('a@b.example'));
  });

  test('an answer that does not match the output schema fails the run, saying where', () => {
    const schema = {
      type: 'object',
      properties: { label: { enum: ['bug', 'question'] } },
      required: ['label'],
    };
    const bad = settle(end('{"label":"rant"}'), { checks: null, schema });
    assert.equal(bad.end.error?.code, 'output_invalid');
    assert.match(bad.end.error!.message, /\/label/);
    assert.equal(bad.end.output, null);
    assert.equal(settle(end('not json'), { checks: null, schema }).end.error?.code, 'output_invalid');
    assert.equal(settle(end('{"label":"bug"}'), { checks: null, schema }).end.status, 'completed');
  });
});
