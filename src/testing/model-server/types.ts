/** What a scripted model sees of a request, and what it answers. */
import type { ServerResponse } from 'node:http';

export interface ModelTurn {
  /** Text the model answers (streamed in a few pieces when the client streams). */
  text?: string;
  /** Tools the model asks to call (`id`: the call's id, as a provider that numbers calls afresh each time gives it). */
  toolCalls?: Array<{ name: string; args: Record<string, unknown>; id?: string }>;
  usage?: { input: number; output: number };
  /** Gemini: the opaque signature of the model's thinking, on each part it answers with. */
  thoughtSignature?: string;
}

export interface ModelRequest {
  api: 'openai-chat' | 'openai-responses' | 'anthropic' | 'gemini';
  model: string;
  stream: boolean;
  headers: Record<string, string>;
  body: unknown;
  /** The tools the request offers, by name. */
  tools: string[];
  /** Tool results the request carries, oldest first, as text. */
  toolResults: Array<{ callId: string; output: string }>;
  /** The text of the last user message. */
  lastUserText: string;
}

export type Script = (req: ModelRequest) => ModelTurn | Promise<ModelTurn>;

/** One provider's API: which requests it takes, how to read them, how to answer. */
export interface WireFormat {
  matches(url: URL): boolean;
  parse(url: URL, body: unknown, headers: Record<string, string>): ModelRequest;
  answer(req: ModelRequest, turn: ModelTurn, res: ServerResponse): void;
}

export const usageOf = (turn: ModelTurn) => turn.usage ?? { input: 12, output: 7 };

/** A text split in a few pieces, as a streaming model would send it. */
export function pieces(text: string): string[] {
  const words = text.split(/(?<= )/);
  return words.length ? words : [text];
}

export function sse(
  res: ServerResponse,
  events: Array<{ event?: string; data: unknown }>,
  done?: string,
): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const e of events) {
    if (e.event) res.write(`event: ${e.event}\n`);
    res.write(`data: ${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}\n\n`);
  }
  if (done) res.write(`data: ${done}\n\n`);
  res.end();
}

export function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

let n = 0;
export const callId = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(n++).toString(36)}`;

/** Text of a message content that may be a string or a list of parts with `text`. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content
      .map((p) => (typeof p === 'object' && p && 'text' in p ? String((p as { text: unknown }).text) : ''))
      .join('');
  return '';
}
