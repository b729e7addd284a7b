/**
 * The tool gateway: the one code path every tool call takes. For each call: the agent must be
 * active (the kill switch), Cedar decides on the agent's active grants (default deny), the
 * decision is made durable in the audit log before anything runs, the tool is called on the
 * connection's MCP session (inside the org's sandbox), and the result is recorded.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Kysely } from 'kysely';
import type { AuditTrail } from '../audit/index.ts';
import type { SandboxProvider } from '../cells/sandbox.ts';
import { openStdio } from '../connections/mcp.ts';
import { NotFoundError, PaddockError } from '../errors/index.ts';
import { PolicyEngine } from '../policy/engine.ts';
import { toGrant } from '../policy/grants-service.ts';
import type { Database } from '../store/index.ts';

export interface CallRequest {
  orgId: string;
  agentId: string;
  connectionId: string;
  tool: string;
  args: Record<string, unknown>;
  requestId: string;
  /** Who asked, when not the agent itself (an admin's test call). */
  onBehalfOf?: string | undefined;
}

export interface CallResult {
  content: unknown;
  isError: boolean;
  durationMs: number;
  auditIndex: number;
}

export interface GatewayOptions {
  db: Kysely<Database>;
  audit: AuditTrail;
  sandbox: SandboxProvider | null;
  home: string;
  callTimeoutMs?: number;
}

export class ToolGateway {
  readonly #o: GatewayOptions;
  readonly #engine = new PolicyEngine();
  readonly #fingerprints = new Map<string, string>();
  readonly #sessions = new Map<string, Promise<Client>>();

  constructor(opts: GatewayOptions) {
    this.#o = opts;
  }

  /** The MCP session of a connection, opened once in the org's sandbox and reused. */
  #session(orgId: string, connectionId: string, command: string, args: string[]): Promise<Client> {
    let s = this.#sessions.get(connectionId);
    if (!s) {
      if (!this.#o.sandbox)
        throw new PaddockError(
          503,
          'sandbox_unavailable',
          'MCP servers run only inside a sandbox, and none is available.',
        );
      s = openStdio({ orgId, command, args }, this.#o.sandbox, this.#o.home);
      s.catch(() => this.#sessions.delete(connectionId));
      this.#sessions.set(connectionId, s);
    }
    return s;
  }

  async close(): Promise<void> {
    for (const s of this.#sessions.values()) await s.then((c) => c.close()).catch(() => undefined);
    this.#sessions.clear();
  }

  async call(req: CallRequest): Promise<CallResult> {
    const db = this.#o.db;
    const base = {
      orgId: req.orgId,
      actor: { type: 'agent' as const, id: req.agentId },
      target: { type: 'tool', id: `${req.connectionId}/${req.tool}` },
      requestId: req.requestId,
    };
    const agent = await db
      .selectFrom('agents')
      .select(['state'])
      .where('org_id', '=', req.orgId)
      .where('id', '=', req.agentId)
      .executeTakeFirst();
    if (!agent) throw new NotFoundError('agent_not_found', 'No such agent in this organization.');
    const denied = async (reason: string, grants: string[], policyVersion: number | null) => {
      await this.#o.audit.append({
        ...base,
        action: 'tool.call.denied',
        outcome: 'denied',
        details: { reason, grants, policyVersion, args: req.args, onBehalfOf: req.onBehalfOf ?? null },
      });
    };
    // The kill switch is read on every call: from the stop's commit on, nothing runs.
    if (agent.state !== 'active') {
      await denied('the agent is stopped', [], null);
      throw new PaddockError(
        409,
        'agent_stopped',
        'This agent is stopped: no tool call runs until it is resumed.',
      );
    }
    const rows = await db
      .selectFrom('grants')
      .selectAll()
      .where('org_id', '=', req.orgId)
      .where('agent_id', '=', req.agentId)
      .where('status', '=', 'active')
      .execute();
    const fingerprint = rows.map((r) => r.id).join(',');
    if (this.#fingerprints.get(req.agentId) !== fingerprint) {
      this.#engine.setGrants(req.agentId, rows.map(toGrant));
      this.#fingerprints.set(req.agentId, fingerprint);
    }
    const decision = this.#engine.decide({
      agentId: req.agentId,
      connectionId: req.connectionId,
      tool: req.tool,
      args: req.args,
      now: Math.floor(Date.now() / 1000),
      approved: false,
    });
    if (!decision.allowed) {
      await denied(
        decision.grants.length ? 'an explicit deny' : 'no grant allows this call',
        decision.grants,
        decision.policyVersion,
      );
      throw new PaddockError(
        403,
        'tool_denied',
        `No grant allows ${req.tool} with these arguments for this agent.`,
      );
    }
    const conn = await db
      .selectFrom('connections')
      .select(['command', 'args'])
      .where('org_id', '=', req.orgId)
      .where('id', '=', req.connectionId)
      .executeTakeFirst();
    if (!conn?.command)
      throw new NotFoundError('connection_not_found', 'No such stdio connection in this organization.');
    // Durable before the call runs: an allowed call is never executed without its record.
    const allowed = await this.#o.audit.append({
      ...base,
      action: 'tool.call.allowed',
      details: {
        grants: decision.grants,
        policyVersion: decision.policyVersion,
        args: req.args,
        onBehalfOf: req.onBehalfOf ?? null,
      },
    });
    const client = await this.#session(
      req.orgId,
      req.connectionId,
      conn.command,
      JSON.parse(conn.args) as string[],
    );
    const started = performance.now();
    let result: { content?: unknown; isError?: boolean } | undefined;
    let error: string | undefined;
    try {
      result = (await client.callTool({ name: req.tool, arguments: req.args }, undefined, {
        timeout: this.#o.callTimeoutMs ?? 30_000,
      })) as typeof result;
    } catch (err) {
      error = (err as Error).message;
    }
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    const size = result ? JSON.stringify(result.content ?? null).length : 0;
    await this.#o.audit.append({
      ...base,
      action: 'tool.call.completed',
      outcome: error || result?.isError ? 'failure' : 'success',
      details: { allowedEntry: allowed.index, durationMs, resultBytes: size, error: error ?? null },
    });
    if (error) throw new PaddockError(502, 'tool_failed', `The tool failed: ${error}`);
    return {
      content: result?.content ?? null,
      isError: result?.isError === true,
      durationMs,
      auditIndex: allowed.index,
    };
  }
}
