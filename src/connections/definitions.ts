/**
 * Tool definitions as a server presents them, and what Paddock keeps of them. Everything a server
 * says about itself is hostile input: every part of a definition is scrubbed when it arrives,
 * before anything stores, digests or shows it, and a tool whose name holds a secret is refused
 * (scrubbing a name would break its namespace).
 *
 * A definition passes through whole — title, description, input and output schemas, annotations,
 * icons, `_meta` — except what would mislead the agent's client about the hop it talks to:
 * `execution` (the gate does not relay task-augmented calls), `_meta` keys under Paddock's own
 * prefix (only the gate may say `paddock/approval`) or reserved for MCP itself (they speak of the
 * hop: tasks, progress), and icons that are not `https:` or `data:` images.
 *
 * A grant pins a tool's digest. Digests carry the version of their formula, so a formula can
 * change (scrubbing, a wider definition) without suspending grants whose tool did not change: a
 * grant pinned under an older formula is re-pinned when the definition still matches under it.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Icon, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import canonicalize from 'canonicalize';
import { escapeMisleading, hasMisleadingCharacters } from '../html/index.ts';

/** What a tool's definition says besides its name, description and input schema. */
export interface ToolExtras {
  title?: string | undefined;
  annotations?: ToolAnnotations | undefined;
  outputSchema?: Record<string, unknown> | undefined;
  icons?: Icon[] | undefined;
  _meta?: Record<string, unknown> | undefined;
}

export interface ToolDefinition extends ToolExtras {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/**
 * Digest formulas. 1: SHA-256 of {name, description, inputSchema} as received, unprefixed
 * (before scrubbing). 2: the same as kept (scrubbed), `v2:`-prefixed. 3: SHA-256 of the whole
 * definition the agent is shown (title, output schema, annotations, icons and `_meta` too),
 * `v3:`-prefixed.
 */
export const DIGEST_VERSION = 3;
export type DigestFormula = 2 | 3;

const EXTRAS = ['title', 'annotations', 'outputSchema', 'icons', '_meta'] as const;

/** The extras a definition has (undefined ones left out): what is stored beside the three columns. */
export function extrasOf(def: ToolExtras): ToolExtras {
  const out: ToolExtras = {};
  for (const k of EXTRAS) if (def[k] !== undefined) (out as Record<string, unknown>)[k] = def[k];
  return out;
}

const sha256 = (def: ToolDefinition, formula: 1 | DigestFormula) =>
  createHash('sha256')
    .update(
      canonicalize({
        name: def.name,
        description: def.description,
        inputSchema: def.inputSchema,
        ...(formula === 3 ? extrasOf(def) : {}),
      }) ?? '',
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

/** The digest of a definition as kept (already scrubbed), under the current formula (or `formula`). */
export function toolDigest(kept: ToolDefinition, formula: DigestFormula = DIGEST_VERSION): string {
  return `v${formula}:${sha256(kept, formula)}`;
}

function vetted(kept: ToolDefinition, received: ToolDefinition | null, formula: DigestFormula): VettedTool {
  const digest = toolDigest(kept, formula);
  return {
    ...kept,
    digest,
    digestUnder: (version) => {
      if (version === formula) return digest;
      if (version === 2 && formula === 3) return toolDigest(kept, 2);
      return version === 1 && received ? sha256(received, 1) : null;
    },
  };
}

export interface Vetting {
  tools: VettedTool[];
  /**
   * Tools refused: a name that holds a secret (the name as received, never to be shown, and
   * scrubbed), or characters that hide or disguise text (NUL, controls, bidi overrides: shown escaped).
   */
  refused: Array<{ received: string; shownAs: string; why: 'secret' | 'characters' }>;
}

/** Keys of `_meta` only Paddock (`paddock/…`) or MCP itself (a label `mcp` or `modelcontextprotocol`) may set. */
function reservedMetaKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return false;
  const labels = key.slice(0, slash).toLowerCase().split('.');
  return labels.some((l) => l === 'paddock' || l === 'mcp' || l === 'modelcontextprotocol');
}

/** `_meta` without the keys a server may not pass on to the agent; undefined when none is left. */
export function safeMeta(meta: unknown): Record<string, unknown> | undefined {
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) return undefined;
  const kept = Object.entries(meta).filter(([k]) => !reservedMetaKey(k));
  return kept.length ? Object.fromEntries(kept) : undefined;
}

/** Icons a client may fetch or render without reaching a plain-HTTP or local address. */
export function safeIcons(icons: Icon[] | undefined): Icon[] | undefined {
  const kept = icons?.filter((i) => /^(https:|data:image\/)/i.test(i.src));
  return kept?.length ? kept : undefined;
}

/**
 * Scrubs what the server said about its tools with the connection's scrubber; refuses tools whose
 * name it would change. `received` definitions are what the server sent (or, for definitions
 * stored before scrubbing, what was stored, digested under `formula` 2: what is stored of them).
 */
export function vetDefinitions(
  received: ToolDefinition[],
  scrub: <T>(v: T) => T,
  formula: DigestFormula = DIGEST_VERSION,
): Vetting {
  const tools: VettedTool[] = [];
  const refused: Vetting['refused'] = [];
  for (const def of received) {
    const name = scrub(def.name);
    if (name !== def.name) {
      refused.push({ received: def.name, shownAs: name, why: 'secret' });
      continue;
    }
    // A name is how grants, calls and the audit trail name the tool: it must read as it is.
    if (hasMisleadingCharacters(name)) {
      refused.push({ received: def.name, shownAs: escapeMisleading(name), why: 'characters' });
      continue;
    }
    const kept: ToolDefinition = {
      name,
      description: scrub(def.description),
      inputSchema: scrub(def.inputSchema),
      // Formula 2 digests what was stored before the rest of a definition was kept.
      ...(formula === 3
        ? scrub(extrasOf({ ...def, icons: safeIcons(def.icons), _meta: safeMeta(def._meta) }))
        : {}),
    };
    tools.push(vetted(kept, def, formula));
  }
  return { tools, refused };
}

/** A stored tool, for re-checking grants without contacting its server. */
export function storedTool(def: ToolDefinition, digest: string): VettedTool {
  return { ...def, digest, digestUnder: (v) => (v === digestVersion(digest) ? digest : null) };
}

/** Every tool the server lists, page by page, as the SDK parsed them (whole; vetting comes after). */
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
        ...extrasOf({
          title: t.title,
          annotations: t.annotations,
          outputSchema: t.outputSchema as Record<string, unknown> | undefined,
          icons: t.icons,
          _meta: t._meta,
        }),
      });
    }
    cursor = page.nextCursor;
  } while (cursor);
  return tools;
}

/** A stored row's definition (as `connection_tools` keeps it). */
export function definitionOfRow(r: {
  name: string;
  description: string;
  input_schema: string;
  extras: string | null;
}): ToolDefinition {
  return {
    name: r.name,
    description: r.description,
    inputSchema: JSON.parse(r.input_schema) as Record<string, unknown>,
    ...(r.extras ? (JSON.parse(r.extras) as ToolExtras) : {}),
  };
}

/** The columns a kept definition is stored in (`extras` null when it has none beyond the three). */
export function rowOfDefinition(t: ToolDefinition): {
  name: string;
  description: string;
  input_schema: string;
  extras: string | null;
} {
  const extras = extrasOf(t);
  return {
    name: t.name,
    description: t.description,
    input_schema: JSON.stringify(t.inputSchema),
    extras: Object.keys(extras).length ? JSON.stringify(extras) : null,
  };
}
