/**
 * The SDK's private state the sessions rely on, exercised on the real SDK: a server and transport
 * built "on another replica" carry a session on (initialized, negotiated capabilities), number
 * their requests from a given start, and take an answer handed over from elsewhere. If an SDK
 * upgrade moves any of it, these fail, naming what moved.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import {
  awaitsAnswer,
  checkSdkShape,
  numberRequestsFrom,
  restoreInitialized,
  sdkShapeProblems,
  takeAnswer,
} from './sdk-internals.ts';

const SESSION = 'a'.repeat(43);

async function pair() {
  const server = new Server({ name: 't', version: '1' }, { capabilities: { tools: {} } });
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: () => SESSION });
  await server.connect(transport);
  return { server, transport };
}

test('the SDK still has the private state this module uses', async () => {
  const { server, transport } = await pair();
  assert.deepEqual(sdkShapeProblems(server, transport), []);
  assert.doesNotThrow(() => checkSdkShape(server, transport));
  await server.close();
});

test('a changed shape is named, loudly', () => {
  const problems = sdkShapeProblems({} as Server, {} as WebStandardStreamableHTTPServerTransport);
  assert.equal(problems.length, 5, problems.join('; '));
  assert.match(problems.join('; '), /_responseHandlers.*_requestMessageId.*_onresponse.*_oninitialize/);
});

test('a session restored on a fresh server and transport serves requests with what was negotiated', async () => {
  const { server, transport } = await pair();
  const capabilities = { sampling: {}, elicitation: {} };
  await restoreInitialized(server, transport, SESSION, {
    protocolVersion: LATEST_PROTOCOL_VERSION,
    capabilities,
    clientInfo: { name: 'c', version: '2' },
  });
  assert.deepEqual(server.getClientCapabilities(), capabilities);
  assert.deepEqual(server.getClientVersion(), { name: 'c', version: '2' });
  const res = await transport.handleRequest(
    new Request('http://x/mcp', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': SESSION,
        'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    }),
  );
  assert.equal(res.status, 200, await res.clone().text());
  assert.match(await res.text(), /"result":\{\}/);
  await server.close();
});

test('requests are numbered from the start given; an answer handed over resolves the one that asked', async () => {
  const { server, transport } = await pair();
  await restoreInitialized(server, transport, SESSION, {
    protocolVersion: LATEST_PROTOCOL_VERSION,
    capabilities: { sampling: {} },
    clientInfo: { name: 'c', version: '1' },
  });
  numberRequestsFrom(server, 1_000_000);
  const asked = server.createMessage({ messages: [], maxTokens: 1 });
  await new Promise((r) => setImmediate(r));
  assert.equal(awaitsAnswer(server, 1_000_000), true);
  assert.equal(awaitsAnswer(server, 0), false);
  assert.equal(awaitsAnswer(server, '1000000'), false, 'a string id is never one of its own');
  const result = { model: 'm', role: 'assistant', content: { type: 'text', text: 'hi' } };
  takeAnswer(server, { jsonrpc: '2.0', id: 1_000_000, result });
  assert.deepEqual(await asked, result);
  assert.equal(awaitsAnswer(server, 1_000_000), false);
  await server.close();
});
