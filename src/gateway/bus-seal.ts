/**
 * What crosses between replicas on a bus, sealed. NOTIFY payloads are seen by any database
 * session that LISTENs on the channel, land in the database's statement log where one is kept
 * (`pg_notify(…)` is a statement), and any role that may connect can send one. So an MCP
 * session's content — a tool server's log lines and resource updates, a person's elicitation
 * answer, a model's sampling result — and a stop (`stop-seal.ts`) go sealed with a key derived
 * from their org's vault data key, which every replica can unwrap, and the fields that route them
 * (org, agent, session digest; `stop|…`) are bound to them as associated data: what is sealed for
 * one route never opens for another.
 *
 * @example
 *   const sealed = await busSeal.seal(orgId, `answer|${idHash}`, message);
 *   const message = await busSeal.open<JSONRPCMessage>(orgId, `answer|${idHash}`, sealed);
 */
import { hkdfSync } from 'node:crypto';
import { openSealed, seal } from '../vault/index.ts';

export class BusSeal {
  readonly #dataKey: (orgId: string) => Promise<Buffer>;
  readonly #keys = new Map<string, Promise<Buffer>>();

  /** `dataKey`: the org's vault data key (`Vault.dataKeyFor`). */
  constructor(dataKey: (orgId: string) => Promise<Buffer>) {
    this.#dataKey = dataKey;
  }

  #key(orgId: string): Promise<Buffer> {
    let key = this.#keys.get(orgId);
    if (!key) {
      key = this.#dataKey(orgId).then((k) =>
        Buffer.from(hkdfSync('sha256', k, 'paddock', 'mcp bus between replicas', 32)),
      );
      // A failure (the database away) is not remembered: the next event asks again.
      key.catch(() => this.#keys.delete(orgId));
      this.#keys.set(orgId, key);
    }
    return key;
  }

  async seal(orgId: string, route: string, content: unknown): Promise<string> {
    return seal(await this.#key(orgId), Buffer.from(JSON.stringify(content)), `mcp-bus|${orgId}|${route}`);
  }

  /** The content, or undefined when it was not sealed for this org and route (or not by a replica). */
  async open<T>(orgId: string, route: string, sealed: unknown): Promise<T | undefined> {
    if (typeof sealed !== 'string') return undefined;
    try {
      return JSON.parse(
        openSealed(await this.#key(orgId), sealed, `mcp-bus|${orgId}|${route}`).toString(),
      ) as T;
    } catch {
      return undefined;
    }
  }
}
