/**
 * One agent run, inside the org's cell: the AI SDK's tool loop with the agent's instructions and
 * model (the org's own key, opened here with the org's data key, the call leaving through the
 * org's egress proxy), and the agent's tools from the gate — listed with the run's spec, each call
 * a `tools/call` over the cell's channel — so it sees exactly its granted tools and every call is
 * decided and audited there.
 *
 * A call that needs a person's approval does not hold the run: the step ends, the run reports
 * `waiting_approval` with its messages, and the control plane persists it; once decided, the run
 * is started again with the decisions (`resume`), the approved call goes through the gate again
 * (consuming its approval), a denied one tells the model so, and the loop goes on.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { LanguageModel, ModelMessage, ToolResultPart, ToolSet, UIMessageChunk } from 'ai';
import { scrubber } from '../../redact/index.ts';
import { open } from '../../vault/aead.ts';
import { outputContract } from './contract.ts';
import { RunFailure } from './errors.ts';
import { GateClient } from './gate-client.ts';
import { languageModel, type ModelChoice } from './models.ts';

/** What the control plane sends to start or resume a run. */
export interface RunSpec {
  runId: string;
  /** The run's capability: the only thing that makes the gate act for this run. */
  capability: string;
  instructions: string;
  model: ModelChoice & { temperature?: number | undefined; maxOutputTokens?: number | undefined };
  /** The org's key for the provider, sealed; opened here with the org's data key. */
  key: { sealed: string; aad: string; baseUrl: string | null } | null;
  /**
   * The agent's granted tools as the gate listed them when the run was handed over (what the
   * model is offered); the gate still decides every call, so a grant changed mid-run holds.
   */
  tools: GateTool[];
  /** The conversation so far, ending with the new message (or the run's state when resuming). */
  messages: ModelMessage[];
  limits: { maxSteps: number; wallMs: number };
  /** Each model call reserves from the agent's budgets first (`METER_RESERVE`), and may be refused. */
  metered?: boolean | undefined;
  /** The agent's output contract: a JSON Schema its answer must match (structured output). */
  outputSchema?: Record<string, unknown> | null | undefined;
  /** Resuming: what people decided on the calls the run waited for. */
  decisions?: Array<{ toolCallId: string; outcome: 'approved' | 'denied' }> | undefined;
}

export interface GateTool {
  name: string;
  description?: string | undefined;
  inputSchema: Record<string, unknown>;
}

export interface PendingCall {
  toolCallId: string;
  toolName: string;
  input: unknown;
  approvalId: string;
  expiresAt: string;
}

export interface StepReport {
  step: number;
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  latencyMs: number;
  finishReason: string;
  toolCalls: string[];
}

export type RunEvent =
  | { kind: 'chunk'; chunk: UIMessageChunk }
  | { kind: 'step'; step: StepReport }
  | { kind: 'approval'; call: PendingCall };

export interface RunEnd {
  status: 'completed' | 'failed' | 'stopped' | 'waiting_approval';
  output: string | null;
  /** The whole conversation after the run (persisted; resumed from when waiting). */
  messages: ModelMessage[];
  usage: { inputTokens: number; outputTokens: number };
  steps: number;
  error: { code: string; message: string } | null;
  pending: PendingCall[];
}

export interface RunIO {
  dataKey: Buffer;
  /** `fetch` through the org's egress proxy. */
  fetch: typeof globalThis.fetch;
  /** The channel to the gate's MCP server for this run. */
  gate: Transport;
  emit(event: RunEvent): void;
  /** Aborted by a stop (the kill switch) or the run's time limit. */
  signal: AbortSignal;
}

/** The request that reserves from the agent's budgets before a model call, with its input estimate. */
export const METER_RESERVE = 'paddock/model.reserve';

/**
 * Input tokens a prompt may come to, from above: two bytes a token (tokenizers average three to
 * four characters a token), so a reservation covers what the provider then reports.
 */
export const estimateTokens = (prompt: unknown) =>
  Math.ceil(Buffer.byteLength(JSON.stringify(prompt ?? null)) / 2);

/** The model, each of its calls reserved from the agent's budgets first (refused: the call fails). */
async function metered(model: LanguageModel, gate: GateClient): Promise<LanguageModel> {
  const { wrapLanguageModel } = await import('ai');
  const reserve = async (params: { prompt: unknown; tools?: unknown }) => {
    await gate.request(METER_RESERVE, { inputTokens: estimateTokens([params.prompt, params.tools]) });
  };
  return wrapLanguageModel({
    model: model as Parameters<typeof wrapLanguageModel>[0]['model'],
    middleware: {
      wrapGenerate: async ({ doGenerate, params }) => {
        await reserve(params);
        return doGenerate();
      },
      wrapStream: async ({ doStream, params }) => {
        await reserve(params);
        return doStream();
      },
    },
  });
}

/** The marker the gate puts on a refused call that waits for a person: `_meta['paddock/approval']`. */
const APPROVAL_META = 'paddock/approval';

const resultText = (r: CallToolResult) =>
  r.content.map((c) => (c.type === 'text' ? c.text : JSON.stringify(c))).join('\n');

/**
 * The agent's granted tools, from the gate, as AI SDK tools that call through it. A call of a
 * tool the agent was not shown goes to the gate too (which refuses it, on record), rather than
 * being dropped by the SDK unseen.
 */
async function gateTools(gate: GateClient, granted: GateTool[], pending: PendingCall[]): Promise<ToolSet> {
  const { dynamicTool, jsonSchema } = await import('ai');
  const execute =
    (name: string) =>
    async (
      input: unknown,
      { toolCallId, abortSignal }: { toolCallId: string; abortSignal?: AbortSignal | undefined },
    ) => {
      // No timeout of its own: the gate bounds the call, the run's signal ends it.
      const r = await gate.callTool(name, (input ?? {}) as Record<string, unknown>, abortSignal);
      const approval = r._meta?.[APPROVAL_META] as { id: string; expiresAt: string } | undefined;
      if (approval) {
        pending.push({
          toolCallId,
          toolName: name,
          input,
          approvalId: approval.id,
          expiresAt: approval.expiresAt,
        });
        return `Waiting for a person's approval (request ${approval.id}). The run continues once it is decided.`;
      }
      // A refusal or a failure reaches the model as a tool error it can read.
      if (r.isError) throw new Error(resultText(r));
      return resultText(r);
    };
  const tools: ToolSet = {};
  for (const t of granted) {
    tools[t.name] = dynamicTool({
      description: t.description ?? '',
      inputSchema: jsonSchema(t.inputSchema as Parameters<typeof jsonSchema>[0]),
      execute: execute(t.name),
    });
  }
  const unlisted = new Map<string, ToolSet[string]>();
  const unlistedTool = (name: string) => {
    let tool = unlisted.get(name);
    if (!tool) {
      tool = dynamicTool({
        description: '',
        inputSchema: jsonSchema({ type: 'object' }),
        execute: execute(name),
      });
      unlisted.set(name, tool);
    }
    return tool;
  };
  const isUnlisted = (target: ToolSet, key: string | symbol): key is string =>
    typeof key === 'string' && !Object.hasOwn(target, key) && !(key in Object.prototype);
  // The model is offered the granted tools only (what enumerating the set gives); any other name
  // it calls still resolves, to a tool that asks the gate.
  return new Proxy(tools, {
    getOwnPropertyDescriptor: (target, key) =>
      isUnlisted(target, key)
        ? { value: unlistedTool(key), writable: false, enumerable: false, configurable: true }
        : Reflect.getOwnPropertyDescriptor(target, key),
    get: (target, key, receiver) =>
      isUnlisted(target, key) ? unlistedTool(key) : Reflect.get(target, key, receiver),
  });
}

/**
 * The waiting calls' results, replaced with what happened once people decided. A call is found by
 * its id from the end: the waiting ones are the run's latest, and a provider may number calls
 * afresh each exchange (an older `call_0` is another call, never to be run again). Each decided
 * call's outcome is streamed first (`emit`), under its own id, so whoever follows the run sees
 * the call they decided on end — its result, its error, or its denial — before the answer goes on.
 */
async function applyDecisions(
  gate: GateClient,
  messages: ModelMessage[],
  decisions: NonNullable<RunSpec['decisions']>,
  pending: PendingCall[],
  emit: (chunk: UIMessageChunk) => void,
): Promise<ModelMessage[]> {
  const out = structuredClone(messages);
  const results = out.flatMap((m) =>
    m.role === 'tool' ? (m.content as ToolResultPart[]).filter((p) => p.type === 'tool-result') : [],
  );
  const calls = out.flatMap((m) =>
    m.role === 'assistant' && Array.isArray(m.content)
      ? (m.content.filter((c) => c.type === 'tool-call') as Array<{
          toolCallId: string;
          toolName: string;
          input: unknown;
        }>)
      : [],
  );
  for (const d of decisions) {
    const part = results.findLast((p) => p.toolCallId === d.toolCallId);
    const call = calls.findLast((c) => c.toolCallId === d.toolCallId);
    if (!part || !call)
      throw new RunFailure('resume_broken', `The call ${d.toolCallId} the run waited for is not in it.`);
    const { toolCallId, toolName, input } = call;
    const decided = { type: 'tool-input-available', toolCallId, toolName, input, dynamic: true } as const;
    if (d.outcome === 'denied') {
      // Coded as the gate's refusals are, so the model and the chat read it as one.
      part.output = {
        type: 'error-text',
        value: 'approval_denied: A person denied this call: it did not run.',
      };
      emit(decided);
      emit({ type: 'tool-output-denied', toolCallId });
      continue;
    }
    const r = await gate.callTool(call.toolName, call.input as Record<string, unknown>);
    const again = r._meta?.[APPROVAL_META] as { id: string; expiresAt: string } | undefined;
    if (again) {
      pending.push({
        toolCallId: d.toolCallId,
        toolName: call.toolName,
        input: call.input,
        approvalId: again.id,
        expiresAt: again.expiresAt,
      });
      continue;
    }
    const text = resultText(r);
    part.output = r.isError ? { type: 'error-text', value: text } : { type: 'text', value: text };
    emit(decided);
    emit(
      r.isError
        ? { type: 'tool-output-error', toolCallId, errorText: text, dynamic: true }
        : { type: 'tool-output-available', toolCallId, output: text, dynamic: true },
    );
  }
  return out;
}

export async function runAgent(spec: RunSpec, rawIo: RunIO): Promise<RunEnd> {
  // The key never leaves the cell: whatever the run reports is scrubbed of it (a provider or a
  // model that echoes it, in any of its usual encodings).
  let scrub = <T>(v: T): T => v;
  const io: RunIO = { ...rawIo, emit: (event) => rawIo.emit(scrub(event)) };
  const usage = { inputTokens: 0, outputTokens: 0 };
  let steps = 0;
  const pending: PendingCall[] = [];
  let messages = spec.messages;
  const gate = new GateClient(io.gate);
  const end = (status: RunEnd['status'], output: string | null, error: RunEnd['error'] = null): RunEnd =>
    scrub({ status, output, messages, usage, steps, error, pending });
  try {
    const key = spec.key
      ? {
          value: open(io.dataKey, spec.key.sealed, spec.key.aad).toString('utf8'),
          baseUrl: spec.key.baseUrl,
        }
      : null;
    // Before anything is streamed: a decided call's result could quote the key too.
    if (key) scrub = scrubber([key.value]);
    if (spec.decisions?.length) {
      messages = await applyDecisions(gate, messages, spec.decisions, pending, (chunk) =>
        io.emit({ kind: 'chunk', chunk }),
      );
      if (pending.length) return end('waiting_approval', null);
    }
    const chosen = await languageModel(spec.model, key, io.fetch);
    const model = spec.metered ? await metered(chosen, gate) : chosen;
    const tools = await gateTools(gate, spec.tools, pending);
    const { streamText, stepCountIs } = await import('ai');
    const contract = spec.outputSchema ? await outputContract(spec.outputSchema) : null;
    // One more try for an answer that broke the output contract, then the run fails.
    for (let attempt = 0; ; attempt++) {
      let stepStarted = performance.now();
      // A failed model call ends the stream (with an error part), not the loop: the run failed.
      const failed: { reason: string | null } = { reason: null };
      const result = streamText({
        onError: ({ error }) => {
          failed.reason = error instanceof Error ? error.message : String(error);
        },
        model,
        instructions: spec.instructions || undefined,
        messages,
        tools,
        ...(contract ? { output: contract.output as never } : {}),
        temperature: spec.model.temperature,
        maxOutputTokens: spec.model.maxOutputTokens,
        abortSignal: io.signal,
        maxRetries: 1,
        // The loop ends at the step limit, or after a step that left a call waiting for a person.
        stopWhen: [stepCountIs(Math.max(1, spec.limits.maxSteps - steps)), () => pending.length > 0],
        onStepFinish: (step) => {
          steps++;
          const input = step.usage.inputTokens ?? 0;
          const output = step.usage.outputTokens ?? 0;
          usage.inputTokens += input;
          usage.outputTokens += output;
          io.emit({
            kind: 'step',
            step: {
              step: step.stepNumber,
              provider: step.model.provider,
              model: step.model.modelId,
              inputTokens: input,
              outputTokens: output,
              latencyMs: Math.round(performance.now() - stepStarted),
              finishReason: step.finishReason,
              toolCalls: step.toolCalls.map((c) => c.toolName),
            },
          });
          for (const call of pending.filter((p) => step.toolCalls.some((c) => c.toolCallId === p.toolCallId)))
            io.emit({ kind: 'approval', call });
          stepStarted = performance.now();
        },
      });
      for await (const chunk of result.toUIMessageStream()) io.emit({ kind: 'chunk', chunk });
      if (failed.reason !== null && !io.signal.aborted)
        return end('failed', null, { code: 'model_failed', message: failed.reason.slice(0, 2000) });
      // Each step's own messages (the SDK's `response.messages` holds the last step's only).
      messages = [...messages, ...(await result.steps).flatMap((step) => step.response.messages)];
      if (pending.length) return end('waiting_approval', null);
      const finish = await result.finishReason;
      if (finish === 'tool-calls' && steps >= spec.limits.maxSteps) {
        return end('failed', await result.text, {
          code: 'step_limit',
          message: `The run reached its limit of ${spec.limits.maxSteps} steps.`,
        });
      }
      const broken = contract ? await contract.judge(result) : null;
      if (broken === null) return end('completed', await result.text);
      if (attempt > 0 || steps >= spec.limits.maxSteps) {
        return end('failed', null, {
          code: 'output_invalid',
          message: `The answer does not match the agent's output schema${attempt > 0 ? ', after one more try' : ''} (${broken}).`,
        });
      }
      messages = [...messages, contract!.retry(broken)];
    }
  } catch (err) {
    if (io.signal.aborted) {
      const reason = String(io.signal.reason ?? 'stopped');
      return reason === 'time limit'
        ? end('failed', null, {
            code: 'time_limit',
            message: `The run reached its time limit of ${spec.limits.wallMs / 1000} s.`,
          })
        : end('stopped', null, { code: 'stopped', message: reason });
    }
    const code = RunFailure.isInstance(err) ? err.code : 'model_failed';
    return end('failed', null, { code, message: (err as Error).message.slice(0, 2000) });
  } finally {
    await gate.close().catch(() => undefined);
  }
}
