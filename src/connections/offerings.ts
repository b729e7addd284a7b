/**
 * What a server offers besides tools — prompts, resources and resource templates — as Paddock
 * keeps them. Hostile input like tool definitions: each is scrubbed whole when it arrives, with
 * the same rules of what passes (`_meta` keys only Paddock or MCP may set and unsafe icons are
 * dropped), and one whose key (a prompt's name, a resource's URI, a template's URI template)
 * holds a secret is refused, since scrubbing it would point it elsewhere. A prompt grant pins its
 * prompt's digest, as a tool grant pins its tool's.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  ErrorCode,
  McpError,
  type Prompt,
  type Resource,
  type ResourceTemplate,
} from '@modelcontextprotocol/sdk/types.js';
import canonicalize from 'canonicalize';
import { safeIcons, safeMeta } from './definitions.ts';

export type OfferingKind = 'prompt' | 'resource' | 'template';

/** One offering as kept: its kind, its key, its scrubbed definition and the digest of it. */
export interface Offering {
  kind: OfferingKind;
  /** The prompt's name, the resource's URI, the template's URI template. */
  key: string;
  definition: Record<string, unknown>;
  digest: string;
}

export interface Offerings {
  prompts: Prompt[];
  resources: Resource[];
  templates: ResourceTemplate[];
}

/** At most this many of each kind are kept per connection (a server can list without end). */
export const MAX_OFFERINGS = 1000;

const keyOf = (kind: OfferingKind, def: Record<string, unknown>) =>
  String(kind === 'prompt' ? def.name : kind === 'resource' ? def.uri : def.uriTemplate);

/** `v3:` + SHA-256 of the canonical definition (the formula of whole tool definitions). */
export function offeringDigest(definition: Record<string, unknown>): string {
  return `v3:${createHash('sha256')
    .update(canonicalize(definition) ?? '')
    .digest('hex')}`;
}

/** Without undefined values (what JSON would drop), so the digest is of what is stored. */
const defined = (def: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(def).filter(([, v]) => v !== undefined));

/**
 * Scrubs what the server listed with the connection's scrubber; refuses what its key would be
 * changed by (the key as received is never to be shown: `shownAs` is scrubbed).
 */
export function vetOfferings(
  received: Offerings,
  scrub: <T>(v: T) => T,
): { kept: Offering[]; refused: Array<{ kind: OfferingKind; shownAs: string }> } {
  const kept: Offering[] = [];
  const refused: Array<{ kind: OfferingKind; shownAs: string }> = [];
  const all: Array<[OfferingKind, Record<string, unknown>]> = [
    ...received.prompts.map((p) => ['prompt', p] as [OfferingKind, Record<string, unknown>]),
    ...received.resources.map((r) => ['resource', r] as [OfferingKind, Record<string, unknown>]),
    ...received.templates.map((t) => ['template', t] as [OfferingKind, Record<string, unknown>]),
  ];
  for (const [kind, def] of all) {
    const key = keyOf(kind, def);
    if (scrub(key) !== key) {
      refused.push({ kind, shownAs: scrub(key) });
      continue;
    }
    const definition = scrub(
      defined({ ...def, icons: safeIcons(def.icons as Prompt['icons']), _meta: safeMeta(def._meta) }),
    );
    kept.push({ kind, key, definition, digest: offeringDigest(definition) });
  }
  return { kept, refused };
}

/** Pages through one list, up to MAX_OFFERINGS items (none where the server does not know the method). */
async function pages<T>(
  list: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>,
): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor).catch((err: unknown): { items: T[]; nextCursor?: string } => {
      if (err instanceof McpError && err.code === ErrorCode.MethodNotFound) return { items: [] };
      throw err;
    });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && out.length < MAX_OFFERINGS);
  return out.slice(0, MAX_OFFERINGS);
}

/** Every prompt, resource and template the server lists (as the capabilities it declared allow). */
export async function listOfferings(client: Client): Promise<Offerings> {
  const caps = client.getServerCapabilities() ?? {};
  const c = (cursor: string | undefined) => (cursor ? { cursor } : {});
  return {
    prompts: caps.prompts
      ? await pages(async (cursor) => {
          const r = await client.listPrompts(c(cursor));
          return { items: r.prompts, nextCursor: r.nextCursor };
        })
      : [],
    resources: caps.resources
      ? await pages(async (cursor) => {
          const r = await client.listResources(c(cursor));
          return { items: r.resources, nextCursor: r.nextCursor };
        })
      : [],
    templates: caps.resources
      ? await pages(async (cursor) => {
          const r = await client.listResourceTemplates(c(cursor));
          return { items: r.resourceTemplates, nextCursor: r.nextCursor };
        })
      : [],
  };
}
