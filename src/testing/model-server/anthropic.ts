/** Anthropic messages (`POST /v1/messages`), plain and streamed, with tool use. */
import { callId, json, type ModelRequest, pieces, sse, textOf, usageOf, type WireFormat } from './types.ts';

interface MessagesBody {
  model: string;
  stream?: boolean;
  messages: Array<{ role: string; content: unknown }>;
  tools?: Array<{ name: string }>;
}

type Part = { type: string; tool_use_id?: string; content?: unknown; text?: string };

export const anthropic: WireFormat = {
  matches: (url) => url.pathname.endsWith('/messages'),
  parse(_url, raw, headers): ModelRequest {
    const body = raw as MessagesBody;
    const parts = body.messages.flatMap((m) => (Array.isArray(m.content) ? (m.content as Part[]) : []));
    const users = body.messages.filter(
      (m) =>
        m.role === 'user' &&
        !(Array.isArray(m.content) && (m.content as Part[]).every((p) => p.type === 'tool_result')),
    );
    return {
      api: 'anthropic',
      model: body.model,
      stream: body.stream === true,
      headers,
      body,
      tools: (body.tools ?? []).map((t) => t.name),
      toolResults: parts
        .filter((p) => p.type === 'tool_result')
        .map((p) => ({ callId: p.tool_use_id ?? '', output: textOf(p.content) })),
      lastUserText: textOf(users.at(-1)?.content),
    };
  },
  answer(req, turn, res) {
    const id = callId('msg');
    const u = usageOf(turn);
    const calls = (turn.toolCalls ?? []).map((c) => ({
      type: 'tool_use',
      id: c.id ?? callId('toolu'),
      name: c.name,
      input: c.args,
    }));
    const content = [...(turn.text ? [{ type: 'text', text: turn.text }] : []), ...calls];
    const stop_reason = calls.length ? 'tool_use' : 'end_turn';
    if (!req.stream) {
      json(res, {
        id,
        type: 'message',
        role: 'assistant',
        model: req.model,
        content,
        stop_reason,
        stop_sequence: null,
        usage: { input_tokens: u.input, output_tokens: u.output },
      });
      return;
    }
    const events: Array<{ event: string; data: unknown }> = [
      {
        event: 'message_start',
        data: {
          type: 'message_start',
          message: {
            id,
            type: 'message',
            role: 'assistant',
            model: req.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { input_tokens: u.input, output_tokens: 0 },
          },
        },
      },
    ];
    content.forEach((block, index) => {
      if (block.type === 'text') {
        events.push({
          event: 'content_block_start',
          data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
        });
        for (const p of pieces((block as { text: string }).text))
          events.push({
            event: 'content_block_delta',
            data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text: p } },
          });
      } else {
        const c = block as (typeof calls)[number];
        events.push({
          event: 'content_block_start',
          data: {
            type: 'content_block_start',
            index,
            content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} },
          },
        });
        events.push({
          event: 'content_block_delta',
          data: {
            type: 'content_block_delta',
            index,
            delta: { type: 'input_json_delta', partial_json: JSON.stringify(c.input) },
          },
        });
      }
      events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
    });
    events.push({
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason, stop_sequence: null },
        usage: { output_tokens: u.output },
      },
    });
    events.push({ event: 'message_stop', data: { type: 'message_stop' } });
    sse(res, events);
  },
};
