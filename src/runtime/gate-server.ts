/**
 * The gate as an MCP server for one agent run, spoken to over the cell's channel: the gate's own
 * agent server (see gateway/mcp-server.ts) for the run's identity. The run sees exactly its
 * agent's granted tools, and each call goes through the gate like every other, carrying the run
 * id, acting for the person the run acts for. A call that needs a person's approval answers at
 * once (the run persists itself and resumes once it is decided), marked with
 * `_meta['paddock/approval']` so the loop can tell a wait from a refusal.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { agentServer, type ToolGateway } from '../gateway/index.ts';
import type { Logger } from '../log/index.ts';
import type { Db } from '../store/index.ts';

export interface RunIdentity {
  orgId: string;
  agentId: string;
  /** Who the run acts for: approvals bind to them. */
  personId: string | null;
  runId: string;
  requestId: string;
}

export function runGateServer(
  deps: { db: Db; gateway: ToolGateway; log: Logger },
  who: RunIdentity,
  signal: AbortSignal,
): Server {
  return agentServer(
    { gate: deps.gateway, db: deps.db, log: deps.log },
    {
      caller: {
        orgId: who.orgId,
        agentId: who.agentId,
        onBehalfOf: who.personId,
        requestId: who.requestId,
        runId: who.runId,
      },
      approval: 'return',
      signal,
    },
  );
}
