/** OpenAI chat completions (`POST /v1/chat/completions`), also what OpenAI-compatible servers speak. */
import { callId, json, type ModelRequest, pieces, sse, textOf, usageOf, type WireFormat } from './types.ts';

interface ChatBody {
  model: string;
  stream?: boolean;
  messages: Array<{ role: string; content: unknown; tool_call_id?: string }>;
  tools?: Array<{ function: { name: string } }>;
}

export const openaiChat: WireFormat = {
  matches: (url) => url.pathname.endsWith('/chat/completions'),
  parse(_url, raw, headers): ModelRequest {
    const body = raw as ChatBody;
    const users = body.messages.filter((m) => m.role === 'user');
    return {
      api: 'openai-chat',
      model: body.model,
      stream: body.stream === true,
      headers,
      body,
      tools: (body.tools ?? []).map((t) => t.function.name),
      toolResults: body.messages
        .filter((m) => m.role === 'tool')
        .map((m) => ({ callId: m.tool_call_id ?? '', output: textOf(m.content) })),
      lastUserText: textOf(users.at(-1)?.content),
    };
  },
  answer(req, turn, res) {
    const id = callId('chatcmpl');
    const created = Math.floor(Date.now() / 1000);
    const calls = (turn.toolCalls ?? []).map((c) => ({
      id: c.id ?? callId('call'),
      type: 'function' as const,
      function: { name: c.name, arguments: JSON.stringify(c.args) },
    }));
    const finish = calls.length ? 'tool_calls' : 'stop';
    const u = usageOf(turn);
    const usage = { prompt_tokens: u.input, completion_tokens: u.output, total_tokens: u.input + u.output };
    if (!req.stream) {
      json(res, {
        id,
        object: 'chat.completion',
        created,
        model: req.model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: turn.text ?? null,
              ...(calls.length ? { tool_calls: calls } : {}),
            },
            finish_reason: finish,
          },
        ],
        usage,
      });
      return;
    }
    const chunk = (delta: unknown, finish_reason: string | null = null, extra = {}) => ({
      data: {
        id,
        object: 'chat.completion.chunk',
        created,
        model: req.model,
        choices: [{ index: 0, delta, finish_reason }],
        ...extra,
      },
    });
    sse(
      res,
      [
        chunk({ role: 'assistant', content: '' }),
        ...(turn.text ? pieces(turn.text).map((p) => chunk({ content: p })) : []),
        ...calls.map((c, index) => chunk({ tool_calls: [{ index, ...c }] })),
        chunk({}, finish),
        { data: { id, object: 'chat.completion.chunk', created, model: req.model, choices: [], usage } },
      ],
      '[DONE]',
    );
  },
};
