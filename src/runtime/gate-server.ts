/**
 * The gate as an MCP server for one agent run, spoken to over the cell's channel: the run sees
 * exactly its agent's granted tools, and each call goes through the same gateway path as every
 * other, carrying the run id, acting for the person the run acts for. A call that needs a
 * person's approval answers at once (the run persists itself and resumes once it is decided),
 * marked with `_meta['paddock/approval']` so the loop can tell a wait from a refusal.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { AuditTrail } from '../audit/index.ts';
import { PaddockError } from '../errors/index.ts';
import type { ToolGateway } from '../gateway/gateway.ts';
import { splitToolName } from '../gateway/mcp-endpoint.ts';
import type { Logger } from '../log/index.ts';
import { connectionNamespaces, effectivePermissions } from '../policy/permissions.ts';
import { redactString } from '../redact/index.ts';
import type { Db } from '../store/index.ts';

export interface RunIdentity {
  orgId: string;
  agentId: string;
  /** Who the run acts for: approvals bind to them. */
  personId: string | null;
  runId: string;
  requestId: string;
}

const failure = (text: string, meta?: Record<string, unknown>): CallToolResult => ({
  isError: true,
  content: [{ type: 'text', text }],
  ...(meta ? { _meta: meta } : {}),
});

export function runGateServer(
  deps: { db: Db; gateway: ToolGateway; audit: AuditTrail; log: Logger },
  who: RunIdentity,
  signal: AbortSignal,
): Server {
  const server = new Server(
    { name: 'paddock', version: '0.1.0' },
    {
      capabilities: { tools: {} },
      instructions: 'Tools your grants allow; every call is checked and audited.',
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => {
    const permissions = await effectivePermissions(deps.db, who.orgId, who.agentId);
    return {
      tools: permissions
        .filter((p) => p.access !== 'denied')
        .map((p) => ({
          name: `${p.namespace}__${p.tool.name}`,
          description: `${p.needsApproval ? '[needs a person’s approval] ' : ''}${p.tool.description}`,
          inputSchema: p.tool.inputSchema as { type: 'object' },
        })),
    };
  });
  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
    const parts = splitToolName(req.params.name);
    const namespaces = await connectionNamespaces(deps.db, who.orgId);
    const connectionId = parts && [...namespaces].find(([, ns]) => ns === parts.namespace)?.[0];
    if (!parts || !connectionId) {
      // A name the agent was never shown: refused like any call no grant allows, on record.
      await deps.audit.append({
        orgId: who.orgId,
        runId: who.runId,
        actor: { type: 'agent', id: who.agentId },
        action: 'tool.call.denied',
        target: { type: 'tool', id: req.params.name.slice(0, 200) },
        outcome: 'denied',
        requestId: who.requestId,
        details: {
          reason: 'no such tool for this agent',
          args: req.params.arguments ?? {},
          onBehalfOf: who.personId,
        },
      });
      return failure(`tool_denied: No tool named ${req.params.name} for this agent.`);
    }
    try {
      const r = await deps.gateway.call({
        orgId: who.orgId,
        agentId: who.agentId,
        connectionId,
        tool: parts.tool,
        args: (req.params.arguments ?? {}) as Record<string, unknown>,
        requestId: who.requestId,
        runId: who.runId,
        onBehalfOf: who.personId ?? undefined,
        approval: 'return',
        signal: AbortSignal.any([extra.signal, signal]),
      });
      return { content: r.content as CallToolResult['content'], isError: r.isError };
    } catch (err) {
      if (PaddockError.isInstance(err)) {
        const d = err.details as { approvalId?: string; expiresAt?: string } | undefined;
        const meta =
          err.code === 'approval_required' && d?.approvalId
            ? { 'paddock/approval': { id: d.approvalId, expiresAt: d.expiresAt } }
            : undefined;
        return failure(`${err.code}: ${redactString(err.message)}`, meta);
      }
      deps.log.error({ err, runId: who.runId }, 'a run’s tool call failed');
      return failure(`internal: something went wrong (run ${who.runId}).`);
    }
  });
  return server;
}
