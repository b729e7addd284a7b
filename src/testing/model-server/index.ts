/**
 * A scripted model provider for tests and the demo: one local HTTP server that speaks the real
 * wire formats of OpenAI (chat completions and responses, plain and streamed, with tool calls),
 * Anthropic (messages, plain and streamed, tool use) and Google Gemini (generateContent and its
 * SSE stream), so the real `@ai-sdk/*` provider packages can be driven against it. A script
 * decides each turn from what the request carries; every request is recorded (headers included,
 * to check which key arrived).
 *
 * @example
 *   const server = await startModelServer((req) =>
 *     req.toolResults.length ? { text: 'done' } : { toolCalls: [{ name: 'echo', args: { m: 'hi' } }] });
 *   createOpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test' });
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropic } from './anthropic.ts';
import { gemini } from './gemini.ts';
import { openaiChat } from './openai-chat.ts';
import { openaiResponses } from './openai-responses.ts';
import type { ModelRequest, Script, WireFormat } from './types.ts';

export type { ModelRequest, ModelTurn, Script } from './types.ts';

export interface ModelServer {
  url: string;
  requests: ModelRequest[];
  close(): Promise<void>;
}

const FORMATS: WireFormat[] = [openaiChat, openaiResponses, anthropic, gemini];

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') out[k] = v;
  return out;
}

export async function startModelServer(script: Script, host = '127.0.0.1'): Promise<ModelServer> {
  const requests: ModelRequest[] = [];
  const server = createServer((req, res: ServerResponse) => {
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://model.test');
        const format = FORMATS.find((f) => req.method === 'POST' && f.matches(url));
        if (!format) {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: `no scripted API at ${req.method} ${url.pathname}` } }));
          return;
        }
        const body = await readBody(req);
        const parsed = format.parse(url, body, headersOf(req));
        requests.push(parsed);
        const turn = await script(parsed);
        format.answer(parsed, turn, res);
      } catch (err) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: (err as Error).message, type: 'server_error' } }));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
