/**
 * An MCP server that talks back badly, for tests: given a vault secret in `NOISY_SECRET`, its
 * tool `noise` pushes, while the call runs, an update of a resource whose URI is 10 kB, a log
 * line of a megabyte, a log line holding the secret in every form the scrubber claims to catch,
 * a malformed notification, a burst of 200 log lines, a progress message with the secret and
 * a burst of 500 more progress notifications;
 * its tool `endless` writes 12 MB without an end of line; its tool `ask-then-give-up` asks the client for a sampling, then cancels that request itself
 * after `afterMs` and answers how it ended.
 *
 * Run over stdio: `node src/testing/noisy-mcp-server.ts`.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CallToolRequestSchema,
  CreateMessageResultSchema,
  ListToolsRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { leakedForms } from './leaks.ts';

const secret = process.env.NOISY_SECRET ?? '';

const server = new Server(
  { name: 'noisy', version: '1.0.0' },
  { capabilities: { tools: {}, logging: {}, resources: { subscribe: true } } },
);

server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [
    { name: 'noise', description: 'Talks back badly while it runs.', inputSchema: { type: 'object' } },
    { name: 'endless', description: 'Writes a line that never ends.', inputSchema: { type: 'object' } },
    {
      name: 'ask-then-give-up',
      description: 'Asks for a sampling, then cancels it.',
      inputSchema: { type: 'object', properties: { afterMs: { type: 'number' } } },
    },
  ],
}));

server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
  if (req.params.name === 'endless') {
    const part = 'y'.repeat(1024 * 1024);
    for (let i = 0; i < 12; i++) await new Promise((r) => process.stdout.write(part, r));
    return { content: [{ type: 'text', text: 'not reached' }] };
  }
  if (req.params.name === 'ask-then-give-up') {
    const giveUp = new AbortController();
    setTimeout(() => giveUp.abort('the server gave up'), Number(req.params.arguments?.afterMs ?? 300));
    try {
      await extra.sendRequest(
        {
          method: 'sampling/createMessage',
          params: { messages: [{ role: 'user', content: { type: 'text', text: 'wait' } }], maxTokens: 5 },
        },
        CreateMessageResultSchema,
        { signal: giveUp.signal },
      );
      return { content: [{ type: 'text', text: 'answered' }] };
    } catch (err) {
      return { content: [{ type: 'text', text: `gave up: ${(err as Error).message}` }] };
    }
  }
  const send = (method: string, params: Record<string, unknown>) =>
    extra.sendNotification({ method, params } as never);
  await send('notifications/resources/updated', { uri: `file:///${'a'.repeat(10_000)}` });
  await send('notifications/message', { level: 'error', data: 'x'.repeat(1_000_000) });
  await send('notifications/message', {
    level: 'error',
    logger: 'leaky',
    data: { leaked: leakedForms(secret) },
  });
  // Not a log line MCP knows (no such level): the client cannot parse it.
  process.stdout.write(
    `${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'shouting', data: 1 } })}\n`,
  );
  for (let i = 0; i < 200; i++) await send('notifications/message', { level: 'info', data: `line ${i}` });
  const token = req.params._meta?.progressToken;
  if (token !== undefined) {
    await send('notifications/progress', { progressToken: token, progress: 1, message: `at ${secret}` });
    // A progress flood: each would also keep the call alive, were it not for the call's maximum.
    for (let i = 2; i < 502; i++) await send('notifications/progress', { progressToken: token, progress: i });
  }
  return { content: [{ type: 'text', text: 'done' }] };
});

await server.connect(new StdioServerTransport());
