/**
 * The `demo` provider: a replay, not a model. It plays a fixed conversation against the demo
 * MCP server's tools so a newcomer sees a whole governed run with no model key — a tool call
 * allowed, one denied by a grant's constraint, one waiting for a person's approval, then the
 * answer. Every answer says it is a replay.
 */
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4StreamPart,
  LanguageModelV4Usage,
} from '@ai-sdk/provider';

/** What the replay does at each step, given the tool results so far. */
type Step =
  | { call: string; input: Record<string, unknown>; say?: string }
  | { say: string; call?: undefined };

export const DEMO_SCRIPT: Step[] = [
  { say: '(Replay) Looking up order A-1001. ', call: 'lookup_order', input: { orderId: 'A-1001' } },
  {
    say: 'Now order B-2002, which belongs to another team. ',
    call: 'lookup_order',
    input: { orderId: 'B-2002' },
  },
  { say: 'Refunding 20 on order A-1001. ', call: 'refund', input: { orderId: 'A-1001', amount: 20 } },
  {
    say: '(Replay) Order A-1001 is shipped; order B-2002 is not one I may read; the refund of 20 on A-1001 went through once a person approved it. Every step is in the audit trail.',
  },
];

const usage = (input: number, output: number): LanguageModelV4Usage => ({
  inputTokens: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: output, text: output, reasoning: 0 },
});

/** The step the replay is at: one step per tool result already in the conversation. */
function next(options: LanguageModelV4CallOptions): LanguageModelV4Content[] {
  const results = options.prompt.filter((m) => m.role === 'tool').length;
  const step = DEMO_SCRIPT[Math.min(results, DEMO_SCRIPT.length - 1)]!;
  const offered = (options.tools ?? []).map((t) => ('name' in t ? t.name : ''));
  const content: LanguageModelV4Content[] = [];
  if (step.call) {
    const name = offered.find((n) => n === step.call || n.endsWith(`__${step.call}`));
    if (!name) {
      return [
        {
          type: 'text',
          text: `(Replay) The demo needs the tool "${step.call}" of the demo connection, and this agent is not granted it.`,
        },
      ];
    }
    if (step.say) content.push({ type: 'text', text: step.say });
    content.push({
      type: 'tool-call',
      toolCallId: `demo_${results}`,
      toolName: name,
      input: JSON.stringify(step.input),
    });
    return content;
  }
  return [{ type: 'text', text: step.say ?? '' }];
}

export function demoModel(modelId: string): LanguageModelV4 {
  return {
    specificationVersion: 'v4',
    provider: 'demo',
    modelId,
    supportedUrls: {},
    async doGenerate(options) {
      const content = next(options);
      const calls = content.some((c) => c.type === 'tool-call');
      return {
        content,
        finishReason: { unified: calls ? 'tool-calls' : 'stop', raw: undefined },
        usage: usage(20, 12),
        warnings: [],
      };
    },
    async doStream(options) {
      const content = next(options);
      const calls = content.some((c) => c.type === 'tool-call');
      const parts: LanguageModelV4StreamPart[] = [{ type: 'stream-start', warnings: [] }];
      content.forEach((c, i) => {
        if (c.type === 'text') {
          parts.push({ type: 'text-start', id: `t${i}` });
          for (const word of c.text.split(/(?<= )/))
            parts.push({ type: 'text-delta', id: `t${i}`, delta: word });
          parts.push({ type: 'text-end', id: `t${i}` });
        } else parts.push(c as LanguageModelV4StreamPart);
      });
      parts.push({
        type: 'finish',
        usage: usage(20, 12),
        finishReason: { unified: calls ? 'tool-calls' : 'stop', raw: undefined },
      });
      return {
        stream: new ReadableStream({
          start(controller) {
            for (const p of parts) controller.enqueue(p);
            controller.close();
          },
        }),
      };
    },
  };
}
