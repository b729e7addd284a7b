/** Google Gemini (`…/models/{model}:generateContent` and `:streamGenerateContent?alt=sse`). */
import { json, type ModelRequest, pieces, sse, textOf, usageOf, type WireFormat } from './types.ts';

interface GeminiBody {
  contents: Array<{
    role: string;
    parts: Array<{
      text?: string;
      functionCall?: { name: string };
      functionResponse?: { name: string; response: unknown };
      thoughtSignature?: string;
    }>;
  }>;
  tools?: Array<{ functionDeclarations?: Array<{ name: string }> }>;
}

export const gemini: WireFormat = {
  matches: (url) => /\/models\/[^/]+:(stream)?[gG]enerateContent$/.test(url.pathname),
  parse(url, raw, headers): ModelRequest {
    const body = raw as GeminiBody;
    const [, model = '', method = ''] = /\/models\/([^/:]+):(\w+)$/.exec(url.pathname) ?? [];
    const users = body.contents.filter((c) => c.role === 'user' && c.parts.some((p) => p.text !== undefined));
    return {
      api: 'gemini',
      model,
      stream: method === 'streamGenerateContent',
      headers,
      body,
      tools: (body.tools ?? []).flatMap((t) => (t.functionDeclarations ?? []).map((f) => f.name)),
      toolResults: body.contents
        .flatMap((c) => c.parts)
        .filter((p) => p.functionResponse)
        .map((p) => {
          // The AI SDK sends a tool's result as `{ name, content }`.
          const r = p.functionResponse!.response as { content?: unknown };
          return {
            callId: p.functionResponse!.name,
            output: typeof r?.content === 'string' ? r.content : JSON.stringify(r),
          };
        }),
      lastUserText: textOf(users.at(-1)?.parts),
    };
  },
  answer(req, turn, res) {
    const u = usageOf(turn);
    // A thinking model signs its parts; the signature must come back with them on the next turn.
    const signed = turn.thoughtSignature ? { thoughtSignature: turn.thoughtSignature } : {};
    // Gemini 3 always signs a step's first function call; unscripted, the signature is made up here.
    const firstCall = {
      thoughtSignature: turn.thoughtSignature ?? Buffer.from(`sig:${req.model}`).toString('base64'),
    };
    const parts = [
      ...(turn.text ? [{ text: turn.text, ...signed }] : []),
      ...(turn.toolCalls ?? []).map((c, i) => ({
        functionCall: { name: c.name, args: c.args },
        ...(i === 0 ? firstCall : signed),
      })),
    ];
    const body = {
      candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
      usageMetadata: {
        promptTokenCount: u.input,
        candidatesTokenCount: u.output,
        totalTokenCount: u.input + u.output,
      },
      modelVersion: req.model,
    };
    if (!req.stream) return json(res, body);
    // Streamed as Gemini does: the text in pieces, the calls, then the signature of the text on
    // an empty part of its own, with the finish reason and usage.
    const chunk = (p: unknown[], last: boolean) => ({
      data: {
        candidates: [
          { content: { role: 'model', parts: p }, ...(last ? { finishReason: 'STOP' } : {}), index: 0 },
        ],
        ...(last ? { usageMetadata: body.usageMetadata } : {}),
        modelVersion: req.model,
      },
    });
    const calls = parts.filter((p) => 'functionCall' in p);
    sse(res, [
      ...(turn.text ? pieces(turn.text).map((t) => chunk([{ text: t }], false)) : []),
      ...(calls.length ? [chunk(calls, false)] : []),
      chunk(turn.text && turn.thoughtSignature ? [{ text: '', ...signed }] : [], true),
    ]);
  },
};
