/**
 * The gate as an MCP server for one agent, as its caller was authenticated: `tools/list` shows
 * the tools its grants allow across its org's connections, named `<connection>__<tool>`;
 * `tools/call` runs through the gate, and refusals come back as tool errors a model can read
 * (one waiting for a person carries `_meta['paddock/approval']`); a client's cancellation ends
 * the call. Prompts (`<connection>__<prompt>`) and resources (`<connection>+<uri>`, so a URI
 * stays a URI) are listed where granted, and every `resources/read`, `prompts/get` and
 * `completion/complete` runs through the gate too; their refusals are JSON-RPC errors (code
 * -32003, the reason in words, `data.code` and any waiting approval). Any MCP transport carries
 * it: the HTTP endpoint for agents running elsewhere (one server per session, or per request for
 * a client without one), the org cell's channel for Paddock's own runs.
 *
 * @example
 *   const server = await serveAgent(deps, { caller, approval: 'return' }, transport);
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  CancelledNotificationSchema,
  CompleteRequestSchema,
  type CompleteResult,
  CreateMessageResultSchema,
  ElicitResultSchema,
  GetPromptRequestSchema,
  type GetPromptResult,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  type LoggingLevel,
  McpError,
  type Prompt,
  ReadResourceRequestSchema,
  type ReadResourceResult,
  type Resource,
  type ResourceTemplate,
  type ServerNotification,
  type ServerRequest,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { readAgentStanding } from '../agents/index.ts';
import { PaddockError } from '../errors/index.ts';
import { trustedScope } from '../identity/index.ts';
import { newId } from '../ids/index.ts';
import type { Logger } from '../log/index.ts';
import { visibleOfferings } from '../policy/permissions.ts';
import { redactString } from '../redact/index.ts';
import type { Db } from '../store/index.ts';
import type { AgentChannel } from './agent-channel.ts';
import { type ProgressSent, waitingProgress } from './approval-progress.ts';
import { type CallKey, Cancellations } from './cancellations.ts';
import type { ToolGateway } from './gate.ts';
import { ApprovalRequiredError, REFUSED_CODE } from './refusals.ts';
import { atLeast, MAX_SUBSCRIPTIONS_PER_SESSION } from './relay-bounds.ts';
import type { GateCaller, GateRequest, GateResult } from './request.ts';

export interface AgentServerDeps {
  gate: ToolGateway;
  db: Db;
  /**
   * Where cancellations find their calls. A stateless transport (HTTP: one server per request)
   * shares one across servers; a long-lived server may keep its own (the default).
   */
  cancellations?: Cancellations | undefined;
  log: Logger;
}

export interface AgentConnection {
  /**
   * Who is asking. Its `standing` (read with the token) serves every call of this server: give
   * one only to a server that lives for one request.
   */
  caller: GateCaller;
  approval: GateRequest['approval'];
  /** Ends every call of this server (an HTTP request whose client went away). */
  signal?: AbortSignal | undefined;
  /** The client session it serves, when its transport has sessions (subscriptions and deliveries are per session). */
  sessionId?: string | undefined;
  /**
   * The log level its client chose, kept for its session (`logging/setLevel`): what the agent's
   * servers log below it does not reach this client. None: a sessionless request, whose choice
   * holds the whole agent (it has no session to keep it).
   */
  logLevel?: LogLevelChoice | undefined;
}

/** A client's chosen log level, where its session keeps it. */
export interface LogLevelChoice {
  current(): LoggingLevel | undefined;
  choose(level: LoggingLevel): Promise<void>;
}

/** Whether the client of `choice` hears `n`: a log line at or above its level, anything else. */
export function hears(choice: LogLevelChoice | undefined, n: ServerNotification): boolean {
  return n.method !== 'notifications/message' || !choice || atLeast(n.params.level, choice.current());
}

/** The marker on a refused call that waits for a person: `{ id, expiresAt }` of the request. */
export const APPROVAL_META = 'paddock/approval';

/** Splits `<namespace>__<tool>` at the first `__` (namespaces never contain one). */
export function splitToolName(name: string): { namespace: string; tool: string } | null {
  const i = name.indexOf('__');
  return i > 0 ? { namespace: name.slice(0, i), tool: name.slice(i + 2) } : null;
}

/** Splits `<namespace>+<uri>` at the first `+` (namespaces never contain one). */
export function splitResourceUri(uri: string): { namespace: string; uri: string } | null {
  const i = uri.indexOf('+');
  return i > 0 ? { namespace: uri.slice(0, i), uri: uri.slice(i + 1) } : null;
}

export { REFUSED_CODE };

/** A refusal (or a failure) of a read, a prompt or a completion, as the JSON-RPC error the agent reads. */
export function requestError(err: unknown, requestId: string, log: Logger): McpError {
  if (!PaddockError.isInstance(err)) {
    log.error({ err, requestId }, 'MCP request failed');
    return new McpError(-32603, `internal: something went wrong (request id ${requestId}).`);
  }
  // A server's own error (a resource it does not have) keeps its code; the gate's refusals have one.
  const mcpCode = (err.details as { mcpCode?: unknown } | undefined)?.mcpCode;
  return new McpError(
    typeof mcpCode === 'number' ? mcpCode : REFUSED_CODE,
    `${err.code}: ${redactString(err.message)}`,
    {
      code: err.code,
      ...(err instanceof ApprovalRequiredError ? { [APPROVAL_META]: { ...err.approval } } : {}),
    },
  );
}

const approvalNote = (needs: boolean, description: unknown) =>
  needs || description !== undefined
    ? { description: `${needs ? '[needs a person’s approval] ' : ''}${String(description ?? '')}` }
    : {};

const failure = (text: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text }] });

/** A refusal (or a failure) as the tool error the agent reads. */
export function toolError(err: unknown, requestId: string, log: Logger): CallToolResult {
  if (!PaddockError.isInstance(err)) {
    log.error({ err, requestId }, 'MCP tool call failed');
    return failure(`internal: something went wrong (request id ${requestId}).`);
  }
  const result = failure(`${err.code}: ${redactString(err.message)}`);
  // A wait is not a denial: a client (the agent loop) can tell them apart and resume later.
  if (err instanceof ApprovalRequiredError) result._meta = { [APPROVAL_META]: { ...err.approval } };
  return result;
}

type WaitingExtra = Parameters<typeof waitingProgress>[0];

/** Whose call a JSON-RPC id names, for cancellation: per agent and per caller (its run, or its token). */
export const callKey = (caller: GateCaller, id: string | number): CallKey => ({
  agentId: caller.agentId,
  caller: caller.runId ?? caller.token?.id ?? caller.requestId,
  id,
});

/**
 * One `tools/call` through the gate, as the agent reads it: the tool's result, or a refusal as a
 * tool error. The MCP server's handler and the HTTP endpoint's plain answer (a call nothing can
 * stream on) both run it, so both answer alike.
 */
export async function callTool(
  deps: AgentServerDeps & { cancellations: Cancellations },
  conn: AgentConnection,
  params: { name: string; arguments?: Record<string, unknown> | undefined },
  rpc: Pick<GateRequest, 'onWaiting' | 'relay'> & { id: string | number; signal?: AbortSignal | undefined },
): Promise<CallToolResult> {
  const { caller } = conn;
  const args = (params.arguments ?? {}) as Record<string, unknown>;
  const parts = splitToolName(params.name);
  const connectionId = parts && (await deps.gate.connectionOf(caller.orgId, parts.namespace));
  if (!parts || !connectionId)
    return toolError(await deps.gate.unknownTool(caller, params.name, args), caller.requestId, deps.log);
  // A client that cancels (or times out, or goes away) ends the call: a paused call then never runs.
  const cancellable = deps.cancellations.begin(callKey(caller, rpc.id), [rpc.signal, conn.signal]);
  try {
    const r = await deps.gate.call({
      caller,
      connectionId,
      tool: parts.tool,
      calledAs: params.name,
      args,
      approval: conn.approval,
      signal: cancellable.signal,
      onWaiting: rpc.onWaiting,
      relay: rpc.relay,
    });
    return {
      content: r.content as CallToolResult['content'],
      ...(r.structuredContent === undefined
        ? {}
        : { structuredContent: r.structuredContent as CallToolResult['structuredContent'] }),
      ...(r._meta ? { _meta: r._meta } : {}),
      isError: r.isError,
    };
  } catch (err) {
    return toolError(err, caller.requestId, deps.log);
  } finally {
    cancellable.end();
  }
}

/** The agent's MCP server, not yet connected to a transport. */
export function agentServer(deps: AgentServerDeps, conn: AgentConnection): Server {
  return buildServer(deps, () => conn);
}

/**
 * Every server validates tool schemas with one shared validator: building one (Ajv) costs more
 * than the rest of a server.
 */
let validator: AjvJsonSchemaValidator | undefined;

/** A server whose handlers serve `current()`: the connection of the request being handled. */
export function buildServer(deps: AgentServerDeps, current: () => AgentConnection): Server {
  const cancellations = deps.cancellations ?? new Cancellations();
  validator ??= new AjvJsonSchemaValidator();
  const server = new Server(
    { name: 'paddock', version: '0.1.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
        completions: {},
        logging: {},
      },
      instructions:
        'Tools, resources and prompts of your organization that your grants allow; every call, read and get is checked and audited.',
      jsonSchemaValidator: validator,
    },
  );
  const keyOf = callKey;
  // Replaces the SDK's own handler, which only knows the requests of this server instance.
  server.setNotificationHandler(CancelledNotificationSchema, async (n) => {
    if (n.params.requestId !== undefined) cancellations.cancel(keyOf(current().caller, n.params.requestId));
  });
  /**
   * The agent's side of one request, for what its session says meanwhile: progress under the
   * agent's token, log lines, and a server's requests (sampling, elicitation) sent on this request.
   */
  type Extra = {
    sendNotification: (n: ServerNotification) => Promise<void>;
    sendRequest: (r: ServerRequest, schema: never, options?: object) => Promise<unknown>;
  };
  const channelOf = (
    extra: Extra,
    meta: { progressToken?: string | number | undefined } | undefined,
    sent: ProgressSent,
  ): AgentChannel => ({
    progressToken: meta?.progressToken,
    progressSent: () => sent.last,
    capabilities: server.getClientCapabilities(),
    sessionId: current().sessionId,
    // A log line below the level this request's session chose is not sent on it.
    notify: async (n) => {
      if (hears(current().logLevel, n)) await extra.sendNotification(n);
    },
    request: async (r, { signal, timeoutMs }) =>
      (await extra.sendRequest(
        r,
        (r.method === 'sampling/createMessage' ? CreateMessageResultSchema : ElicitResultSchema) as never,
        { signal, timeout: timeoutMs, resetTimeoutOnProgress: true },
      )) as Record<string, unknown>,
  });
  const active = (caller: GateCaller) => mayBeShown(deps.db, caller);
  server.setRequestHandler(ListToolsRequestSchema, async () => {
    const { caller } = current();
    return { tools: (await active(caller)) ? await deps.gate.listedTools(caller.orgId, caller.agentId) : [] };
  });
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    // Approval waiting and the server's own progress share the agent's token: one count for both.
    const sent: ProgressSent = { last: 0 };
    return callTool({ ...deps, cancellations }, current(), req.params, {
      id: extra.requestId,
      signal: extra.signal,
      onWaiting: waitingProgress(extra, undefined, sent),
      relay: channelOf(extra as unknown as Extra, req.params._meta, sent),
    });
  });
  const offered = async () => {
    const { caller } = current();
    return (await active(caller))
      ? visibleOfferings(deps.db, caller.orgId, caller.agentId)
      : { prompts: [], resources: [], templates: [] };
  };
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({
    prompts: (await offered()).prompts.map((p) => ({
      ...(p.definition as Prompt),
      name: `${p.namespace}__${String(p.definition.name)}`,
      ...approvalNote(p.needsApproval, p.definition.description),
    })),
  }));
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: (await offered()).resources.map((r) => ({
      ...(r.definition as Resource),
      uri: `${r.namespace}+${String(r.definition.uri)}`,
      ...approvalNote(r.needsApproval, r.definition.description),
    })),
  }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: (await offered()).templates.map((t) => ({
      ...(t.definition as ResourceTemplate),
      uriTemplate: `${t.namespace}+${String(t.definition.uriTemplate)}`,
      ...approvalNote(t.needsApproval, t.definition.description),
    })),
  }));

  /** One read, get or completion through the gate: its result, or the JSON-RPC error refusing it. */
  async function ask(
    named: string,
    parts: { namespace: string; name: string } | null,
    req: Pick<GateRequest, 'action' | 'completing' | 'args' | 'completion'>,
    extra: { requestId: string | number; signal: AbortSignal } & WaitingExtra,
    meta?: { progressToken?: string | number | undefined },
  ): Promise<GateResult> {
    const conn = current();
    const { caller } = conn;
    const connectionId = parts && (await deps.gate.connectionOf(caller.orgId, parts.namespace));
    if (!parts || !connectionId)
      throw requestError(
        await deps.gate.unknownTool(caller, named, req.action === 'get' ? req.args : undefined, req),
        caller.requestId,
        deps.log,
      );
    const cancellable = cancellations.begin(keyOf(caller, extra.requestId), [extra.signal, conn.signal]);
    // Approval waiting and the server's own progress share the agent's token: one count for both.
    const sent: ProgressSent = { last: 0 };
    try {
      return await deps.gate.call({
        caller,
        connectionId,
        ...req,
        tool: parts.name,
        calledAs: named,
        approval: conn.approval,
        signal: cancellable.signal,
        onWaiting: waitingProgress(extra, undefined, sent),
        relay: channelOf(extra as unknown as Extra, meta, sent),
      });
    } catch (err) {
      throw requestError(err, caller.requestId, deps.log);
    } finally {
      cancellable.end();
    }
  }
  const promptParts = (name: string) => {
    const p = splitToolName(name);
    return p && { namespace: p.namespace, name: p.tool };
  };
  const resourceParts = (uri: string) => {
    const p = splitResourceUri(uri);
    return p && { namespace: p.namespace, name: p.uri };
  };
  server.setRequestHandler(ReadResourceRequestSchema, async (req, extra): Promise<ReadResourceResult> => {
    const parts = resourceParts(req.params.uri);
    const r = (await ask(req.params.uri, parts, { action: 'read', args: {} }, extra, req.params._meta))
      .result as ReadResourceResult;
    // Each content names the resource as the agent knows it.
    return {
      ...r,
      contents: (r.contents ?? []).map((c) => ({ ...c, uri: `${parts!.namespace}+${c.uri}` })),
    };
  });
  server.setRequestHandler(GetPromptRequestSchema, async (req, extra): Promise<GetPromptResult> => {
    const args = req.params.arguments ?? {};
    return (
      await ask(
        req.params.name,
        promptParts(req.params.name),
        { action: 'get', args },
        extra,
        req.params._meta,
      )
    ).result as GetPromptResult;
  });
  // A subscription is decided and recorded like a read; its updates reach this session while its grants allow.
  server.setRequestHandler(SubscribeRequestSchema, async (req, extra) => {
    // Without a session an update has no stream to reach and the subscription nothing to end it.
    if (current().sessionId === undefined)
      throw new McpError(
        -32000,
        'resources/subscribe needs a session: send initialize first and give its Mcp-Session-Id; updates arrive on its GET stream.',
        { code: 'session_required' },
      );
    const parts = resourceParts(req.params.uri);
    const { caller, sessionId } = current();
    const ns = parts && (await deps.gate.connectionOf(caller.orgId, parts.namespace));
    // Each is held here and at the server: a session's count is bounded, checked before anything is asked.
    if (ns && !deps.gate.relays.maySubscribe(caller.agentId, ns, parts.name, sessionId))
      throw new McpError(
        -32000,
        `too_many_subscriptions: this session holds ${MAX_SUBSCRIPTIONS_PER_SESSION} subscriptions already; unsubscribe from one first.`,
        { code: 'too_many_subscriptions' },
      );
    await ask(req.params.uri, parts, { action: 'subscribe', args: {} }, extra);
    const connectionId = await deps.gate.connectionOf(caller.orgId, parts!.namespace);
    deps.gate.relays.subscribed(caller, connectionId!, parts!.name, sessionId);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    const { caller, sessionId } = current();
    const parts = resourceParts(req.params.uri);
    const connectionId = parts && (await deps.gate.connectionOf(caller.orgId, parts.namespace));
    if (parts && connectionId) await deps.gate.unsubscribe(caller, connectionId, parts.name, sessionId);
    return {};
  });
  // The session keeps its client's level (its log lines are held to it where delivered); the
  // agent's servers are told the most verbose any of its clients chose.
  server.setRequestHandler(SetLevelRequestSchema, async (req) => {
    const { caller, logLevel } = current();
    if (logLevel) await logLevel.choose(req.params.level);
    else await deps.gate.setLogLevel(caller, '', req.params.level);
    return {};
  });
  server.setRequestHandler(CompleteRequestSchema, async (req, extra): Promise<CompleteResult> => {
    const { ref, argument, context } = req.params;
    const prompt = ref.type === 'ref/prompt';
    const named = prompt ? ref.name : ref.uri;
    const completion = { argument, ...(context ? { context } : {}) };
    return (
      await ask(
        named,
        prompt ? promptParts(named) : resourceParts(named),
        { action: 'complete', completing: prompt ? 'prompt' : 'resource', args: {}, completion },
        extra,
      )
    ).result as CompleteResult;
  });
  return server;
}

/** Connects the agent's MCP server to `transport`; close the server when done. */
export async function serveAgent(
  deps: AgentServerDeps,
  conn: AgentConnection,
  transport: Transport,
): Promise<Server> {
  // A long-lived server is where in-process deliveries reach the agent, for as long as it is open.
  const sessionId = conn.sessionId ?? newId('mcs');
  // Its client's log level, kept with the server for as long as it lives.
  let level: LoggingLevel | undefined;
  const logLevel: LogLevelChoice = conn.logLevel ?? {
    current: () => level,
    choose: async (l) => {
      level = l;
      await deps.gate.setLogLevel(conn.caller, sessionId, l);
    },
  };
  const server = agentServer(deps, { ...conn, sessionId, logLevel });
  const detach = deps.gate.localDelivery?.attach(
    conn.caller.agentId,
    server,
    sessionId,
    conn.caller.onBehalfOf,
    (n) => hears(logLevel, n),
  );
  server.onclose = () => {
    detach?.();
    deps.gate.relays?.end({ sessionId });
  };
  await server.connect(transport);
  return server;
}

/** A stopped agent (or org) may call, read and get nothing, so it is shown nothing. */
export async function mayBeShown(db: Db, caller: GateCaller): Promise<boolean> {
  const standing =
    caller.standing ?? (await readAgentStanding(db, trustedScope(caller.orgId), caller.agentId));
  return standing?.agentState === 'active' && standing.orgStoppedAt === null;
}
