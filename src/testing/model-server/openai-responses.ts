/** OpenAI responses (`POST /v1/responses`), what `@ai-sdk/openai` uses by default. */
import { callId, json, type ModelRequest, pieces, sse, textOf, usageOf, type WireFormat } from './types.ts';

interface ResponsesBody {
  model: string;
  stream?: boolean;
  input: Array<{ type?: string; role?: string; content?: unknown; call_id?: string; output?: unknown }>;
  tools?: Array<{ name?: string }>;
}

export const openaiResponses: WireFormat = {
  matches: (url) => url.pathname.endsWith('/responses'),
  parse(_url, raw, headers): ModelRequest {
    const body = raw as ResponsesBody;
    const users = body.input.filter((m) => m.role === 'user');
    return {
      api: 'openai-responses',
      model: body.model,
      stream: body.stream === true,
      headers,
      body,
      tools: (body.tools ?? []).map((t) => t.name ?? ''),
      toolResults: body.input
        .filter((m) => m.type === 'function_call_output')
        .map((m) => ({
          callId: m.call_id ?? '',
          output: typeof m.output === 'string' ? m.output : JSON.stringify(m.output),
        })),
      lastUserText: textOf(users.at(-1)?.content),
    };
  },
  answer(req, turn, res) {
    const id = callId('resp');
    const created_at = Math.floor(Date.now() / 1000);
    const msgId = callId('msg');
    const u = usageOf(turn);
    const usage = { input_tokens: u.input, output_tokens: u.output, total_tokens: u.input + u.output };
    const calls = (turn.toolCalls ?? []).map((c) => ({
      type: 'function_call' as const,
      id: callId('fc'),
      call_id: c.id ?? callId('call'),
      name: c.name,
      arguments: JSON.stringify(c.args),
      status: 'completed' as const,
    }));
    const message = turn.text
      ? [
          {
            type: 'message',
            role: 'assistant',
            id: msgId,
            status: 'completed',
            content: [{ type: 'output_text', text: turn.text, annotations: [] }],
          },
        ]
      : [];
    const output = [...message, ...calls];
    if (!req.stream) {
      json(res, { id, object: 'response', created_at, model: req.model, status: 'completed', output, usage });
      return;
    }
    const events: Array<{ data: unknown }> = [
      { data: { type: 'response.created', response: { id, created_at, model: req.model } } },
    ];
    let index = 0;
    if (turn.text) {
      events.push({
        data: {
          type: 'response.output_item.added',
          output_index: index,
          item: { type: 'message', id: msgId },
        },
      });
      for (const p of pieces(turn.text))
        events.push({
          data: { type: 'response.output_text.delta', item_id: msgId, output_index: index, delta: p },
        });
      events.push({
        data: {
          type: 'response.output_item.done',
          output_index: index,
          item: { type: 'message', id: msgId },
        },
      });
      index++;
    }
    for (const c of calls) {
      events.push({
        data: {
          type: 'response.output_item.added',
          output_index: index,
          item: { ...c, arguments: '', status: undefined },
        },
      });
      events.push({
        data: {
          type: 'response.function_call_arguments.delta',
          item_id: c.id,
          output_index: index,
          delta: c.arguments,
        },
      });
      events.push({ data: { type: 'response.output_item.done', output_index: index, item: c } });
      index++;
    }
    events.push({
      data: {
        type: 'response.completed',
        response: { id, created_at, model: req.model, status: 'completed', usage },
      },
    });
    sse(res, events);
  },
};
