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

/**
 * Bytes kept across all agents' lists — a tool counted as 1 kB (a definition's usual size), a
 * list's JSON, once made, by its length (a tenant's server may give large definitions); past it
 * the least recently built lists go.
 */
const MAX_BYTES_KEPT = 200 * 1024 * 1024;
const TOOL_BYTES = 1024;

/** An agent's list as last built, under the versions it was built at; its JSON made once, when first sent. */
interface Listed {
  key: string;
  tools: Tool[];
  json?: Buffer;
}

/** What a list counts against the budget: its tools, and its JSON once kept. */
const weight = (l: Listed) => l.tools.length * TOOL_BYTES + (l.json?.length ?? 0);

export class ListedTools {
  readonly #db: Db;
  readonly #build: typeof grantedTools;
  readonly #byAgent = new Map<string, Listed>();
  #kept = 0;

  /** `build` makes an agent's list from the store (tests hold it, to build two lists at once). */
  constructor(db: Db, build: typeof grantedTools = grantedTools) {
    this.#db = db;
    this.#build = build;
  }

  /** Bytes counted against the budget now (tests). */
  get keptBytes(): number {
    return this.#kept;
  }

  /** The tools the agent's grants allow, as `tools/list` shows them. */
  async of(orgId: string, agentId: string): Promise<Tool[]> {
    return (await this.#listed(orgId, agentId)).tools;
  }

  /**
   * The same list as JSON (UTF-8), made once per list: a plain `tools/list` sends it as it is (at
   * a thousand tools, serializing them was most of a list's CPU).
   */
  async json(orgId: string, agentId: string): Promise<Buffer> {
    const listed = await this.#listed(orgId, agentId);
    if (listed.json) return listed.json;
    const json = Buffer.from(JSON.stringify(listed.tools));
    const id = `${orgId}\0${agentId}`;
    // Counted only while this list is the one kept: one built meanwhile replaced it (and took its count).
    if (this.#byAgent.get(id) !== listed) return json;
    listed.json = json;
    this.#kept += json.length;
    this.#trim(id);
    return json;
  }

  async #listed(orgId: string, agentId: string): Promise<Listed> {
    // Read before the rows: a write landing meanwhile leaves newer rows under an older key
    // (rebuilt next time), never older rows under a newer one.
    const key = await this.#version(orgId, agentId);
    const id = `${orgId}\0${agentId}`;
    const kept = this.#byAgent.get(id);
    if (kept && kept.key === key) return kept;
    const listed: Listed = { key, tools: await this.#build(this.#db, orgId, agentId) };
    this.#drop(id);
    this.#byAgent.set(id, listed);
    this.#kept += weight(listed);
    this.#trim(id);
    return listed;
  }

  /** The oldest lists dropped until the budget holds (never `keep`, the one just asked for). */
  #trim(keep: string): void {
    for (const oldest of this.#byAgent.keys()) {
      if (this.#kept <= MAX_BYTES_KEPT) break;
      if (oldest !== keep) this.#drop(oldest);
    }
  }

  #drop(id: string): void {
    const listed = this.#byAgent.get(id);
    if (!listed) return;
    this.#kept -= weight(listed);
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
