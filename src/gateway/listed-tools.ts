/**
 * Each agent's `tools/list`, kept in memory: building it reads every grant and tool row and
 * parses every definition (tens of ms at a thousand grants). An entry serves only while the
 * org's tools version (moved on by database triggers with every write to its grants,
 * connections and connection tools, committed with the write, seen by every replica) and the
 * agent's grants version are what they were when it was built; each request reads both in one
 * indexed query. Whether the agent may be shown anything at all (stopped) is checked apart.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { sql } from 'kysely';
import { effectivePermissions } from '../policy/permissions.ts';
import type { Db } from '../store/index.ts';

/** The tools an agent's grants allow, as its MCP server lists them (a run gets them with its spec). */
export async function grantedTools(db: Db, orgId: string, agentId: string): Promise<Tool[]> {
  const permissions = await effectivePermissions(db, orgId, agentId);
  return permissions
    .filter((p) => p.access !== 'denied')
    .map((p) => ({
      // The definition as the server gave it (scrubbed), under its namespaced name.
      ...(p.tool as Tool),
      name: `${p.namespace}__${p.tool.name}`,
      description: `${p.needsApproval ? '[needs a person’s approval] ' : ''}${p.tool.description}`,
    }));
}

/** Tools kept across all agents' lists (about 1 kB each); past it the least recently built lists go. */
const MAX_TOOLS_KEPT = 100_000;

export class ListedTools {
  readonly #db: Db;
  readonly #byAgent = new Map<string, { key: string; tools: Tool[] }>();
  #kept = 0;

  constructor(db: Db) {
    this.#db = db;
  }

  /** The tools the agent's grants allow, as `tools/list` shows them. */
  async of(orgId: string, agentId: string): Promise<Tool[]> {
    // Read before the rows: a write landing meanwhile leaves newer rows under an older key
    // (rebuilt next time), never older rows under a newer one.
    const key = await this.#version(orgId, agentId);
    const id = `${orgId}\0${agentId}`;
    const kept = this.#byAgent.get(id);
    if (kept && kept.key === key) return kept.tools;
    const tools = await grantedTools(this.#db, orgId, agentId);
    this.#drop(id);
    this.#byAgent.set(id, { key, tools });
    this.#kept += tools.length;
    for (const oldest of this.#byAgent.keys()) {
      if (this.#kept <= MAX_TOOLS_KEPT || oldest === id) break;
      this.#drop(oldest);
    }
    return tools;
  }

  #drop(id: string): void {
    this.#kept -= this.#byAgent.get(id)?.tools.length ?? 0;
    this.#byAgent.delete(id);
  }

  async #version(orgId: string, agentId: string): Promise<string> {
    const { rows } = await sql<{ tools: number | string | null; grants: number | string | null }>`
      select
        (select version from tools_versions where org_id = ${orgId}) as tools,
        (select grants_version from agents where org_id = ${orgId} and id = ${agentId}) as grants`.execute(
      this.#db,
    );
    const r = rows[0];
    return `${String(r?.tools ?? 0)}/${String(r?.grants ?? '-')}`;
  }
}
