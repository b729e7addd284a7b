/**
 * Tool definitions as a server presents them, and what Paddock keeps of them. Everything a server
 * says about itself is hostile input: descriptions and input schemas are scrubbed when they
 * arrive, before anything stores, digests or shows them, and a tool whose name holds a secret is
 * refused (scrubbing a name would break its namespace).
 *
 * A grant pins a tool's digest. Digests carry the version of their formula, so a formula can
 * change (scrubbing, a wider definition) without suspending grants whose tool did not change: a
 * grant pinned under an older formula is re-pinned when the definition still matches under it.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import canonicalize from 'canonicalize';

export interface ToolDefinition {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/**
 * Digest formulas. 1: SHA-256 of the definition as received, unprefixed (before scrubbing).
 * 2: SHA-256 of the definition as kept (scrubbed), `v2:`-prefixed.
 */
export const DIGEST_VERSION = 2;

const sha256 = (def: ToolDefinition) =>
  createHash('sha256')
    .update(
      canonicalize({ name: def.name, description: def.description, inputSchema: def.inputSchema }) ?? '',
    )
    .digest('hex');

/** The formula a digest was made with. */
export function digestVersion(digest: string): number {
  const m = /^v(\d+):/.exec(digest);
  return m ? Number(m[1]) : 1;
}

/** A tool as Paddock keeps it: scrubbed, with its current digest and how to re-check old pins. */
export interface VettedTool extends ToolDefinition {
  digest: string;
  /** This tool's digest under an older formula (to re-pin grants made under it); null if unknown. */
  digestUnder(version: number): string | null;
}

/** The digest of a definition as kept (already scrubbed), under the current formula. */
export function toolDigest(kept: ToolDefinition): string {
  return `v${DIGEST_VERSION}:${sha256(kept)}`;
}

function vetted(kept: ToolDefinition, received: ToolDefinition | null): VettedTool {
  const digest = toolDigest(kept);
  return {
    ...kept,
    digest,
    digestUnder: (version) =>
      version === DIGEST_VERSION ? digest : version === 1 && received ? sha256(received) : null,
  };
}

export interface Vetting {
  tools: VettedTool[];
  /** Tools refused because their name holds a secret: the name as received (never to be shown) and scrubbed. */
  refused: Array<{ received: string; shownAs: string }>;
}

/**
 * Scrubs what the server said about its tools with the connection's scrubber; refuses tools whose
 * name it would change. `received` definitions are what the server sent (or, for definitions
 * stored before scrubbing, what was stored).
 */
export function vetDefinitions(received: ToolDefinition[], scrub: <T>(v: T) => T): Vetting {
  const tools: VettedTool[] = [];
  const refused: Vetting['refused'] = [];
  for (const def of received) {
    const name = scrub(def.name);
    if (name !== def.name) {
      refused.push({ received: def.name, shownAs: name });
      continue;
    }
    const kept = {
      name,
      description: scrub(def.description),
      inputSchema: scrub(def.inputSchema),
    };
    tools.push(vetted(kept, def));
  }
  return { tools, refused };
}

/** A stored tool, for re-checking grants without contacting its server. */
export function storedTool(def: ToolDefinition, digest: string): VettedTool {
  return { ...def, digest, digestUnder: (v) => (v === digestVersion(digest) ? digest : null) };
}

export async function listTools(client: Client): Promise<ToolDefinition[]> {
  const tools: ToolDefinition[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    for (const t of page.tools) {
      tools.push({
        name: t.name,
        description: t.description ?? '',
        inputSchema: t.inputSchema as Record<string, unknown>,
      });
    }
    cursor = page.nextCursor;
  } while (cursor);
  return tools;
}
