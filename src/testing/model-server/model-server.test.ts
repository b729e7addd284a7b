/**
 * The scripted provider speaks each provider's real wire format: the real `@ai-sdk/*` packages
 * drive a two-step tool loop against it (the model asks for a tool, gets its result, answers),
 * plain and streamed, and each request carries the key the client was given.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, jsonSchema, type LanguageModel, stepCountIs, streamText, tool } from 'ai';
import { type ModelServer, startModelServer } from './index.ts';

const KEY = 'sk-scripted-5e0c2a9d7b1f4e83';

describe('the scripted model server, through the real AI SDK providers', () => {
  let server: ModelServer;
  before(async () => {
    server = await startModelServer((req) =>
      req.toolResults.length
        ? { text: `The echo said ${req.toolResults.at(-1)!.output}.` }
        : req.tools.includes('echo')
          ? { toolCalls: [{ name: 'echo', args: { message: req.lastUserText } }] }
          : { text: `You said: ${req.lastUserText}` },
    );
  });
  after(() => server.close());

  const models: Array<[string, () => LanguageModel, (h: Record<string, string>) => string | undefined]> = [
    [
      'openai responses',
      () => createOpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY })('gpt-test'),
      (h) => h.authorization,
    ],
    [
      'openai chat',
      () => createOpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY }).chat('gpt-test'),
      (h) => h.authorization,
    ],
    [
      'openai-compatible',
      () => createOpenAICompatible({ name: 'local', baseURL: `${server.url}/v1`, apiKey: KEY })('llama-test'),
      (h) => h.authorization,
    ],
    [
      'anthropic',
      () => createAnthropic({ baseURL: `${server.url}/v1`, apiKey: KEY })('claude-test'),
      (h) => h['x-api-key'],
    ],
    [
      'google',
      () => createGoogleGenerativeAI({ baseURL: `${server.url}/v1beta`, apiKey: KEY })('gemini-test'),
      (h) => h['x-goog-api-key'],
    ],
  ];

  const echo = tool({
    description: 'Echoes a message',
    inputSchema: jsonSchema<{ message: string }>({
      type: 'object',
      properties: { message: { type: 'string' } },
      required: ['message'],
    }),
    execute: async ({ message }) => `"${message}"`,
  });

  for (const [name, model, keyOf] of models) {
    for (const streamed of [false, true]) {
      test(`${name}, ${streamed ? 'streamed' : 'plain'}: a tool call, its result, the answer`, async () => {
        const before = server.requests.length;
        const args = { model: model(), prompt: 'ping', tools: { echo }, stopWhen: stepCountIs(3) };
        const text = streamed ? await streamText(args).text : (await generateText(args)).text;
        assert.equal(text, 'The echo said "ping".');
        const seen = server.requests.slice(before);
        assert.equal(seen.length, 2, 'one request per step');
        assert.ok(seen.every((r) => r.stream === streamed));
        assert.ok(
          seen.every((r) => (keyOf(r.headers) ?? '').includes(KEY)),
          'the key reached the provider',
        );
      });
    }
  }
});
