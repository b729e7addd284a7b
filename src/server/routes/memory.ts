/**
 * An agent's memory: list and search its entries, edit or pin one, delete one, and delete all of
 * it on request (counts on record, never content). The agent itself reaches its memory through the
 * built-in memory connection, at the gate.
 */
import { z } from 'zod';
import {
  deleteAgentMemory,
  deleteMemoryEntry,
  listMemory,
  MEMORY_LIMITS,
  updateMemory,
} from '../../memory/index.ts';
import { defineRoute } from '../route.ts';
import { Id, OrgParams, Timestamp } from '../schemas.ts';

export const MemoryEntrySchema = z
  .object({
    id: Id,
    agentId: Id,
    personId: z.string().nullable().describe('the person of the org it is about; null for general'),
    text: z.string(),
    pinned: z.boolean().describe('given to every run of the agent (otherwise found by recall)'),
    updatedBy: z.string().describe('who wrote it last: the agent, or a person who edited it'),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'MemoryEntry' });

export const MemoryListQuerySchema = z.strictObject({
  q: z.string().max(MEMORY_LIMITS.queryChars).optional().describe('keeps entries holding every word'),
  limit: z.coerce.number().int().min(1).max(MEMORY_LIMITS.entriesPerAgent).default(200),
});
export const MemoryListSchema = z.object({ entries: z.array(MemoryEntrySchema) });
export const MemoryPatchSchema = z
  .strictObject({
    text: z
      .string()
      .max(MEMORY_LIMITS.textChars * 2)
      .optional(),
    pinned: z.boolean().optional(),
  })
  .refine((b) => b.text !== undefined || b.pinned !== undefined, 'give text, pinned, or both');
export const AgentMemoryDeletedSchema = z
  .object({
    entries: z.number().int(),
    auditPayloads: z
      .number()
      .int()
      .describe('audit entries of the agent’s memory tool calls whose payload was erased (headers stay)'),
  })
  .meta({ id: 'AgentMemoryDeleted' });

const MemoryParams = OrgParams.extend({ agent: Id });

export const memoryRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/agents/{agent}/memory',
    summary:
      'An agent’s memory, pinned first then newest (members: its general entries and those about themselves)',
    tag: 'memory',
    access: { permission: 'agents.read' },
    params: MemoryParams,
    query: MemoryListQuerySchema,
    response: MemoryListSchema,
    handler: async ({ ctx, deps, params, query }) => ({
      entries: await listMemory(deps.store.db, ctx, params.agent, query),
    }),
  }),
  defineRoute({
    method: 'patch',
    path: '/api/v1/orgs/{org}/agents/{agent}/memory/{entry}',
    summary: 'Edit a memory entry’s text, or pin or unpin it (on record without the text)',
    tag: 'memory',
    access: { permission: 'agents.write' },
    params: MemoryParams.extend({ entry: Id }),
    body: MemoryPatchSchema,
    response: MemoryEntrySchema,
    handler: async ({ ctx, deps, params, body }) =>
      updateMemory(deps.store.db, ctx, params.agent, params.entry, body),
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/orgs/{org}/agents/{agent}/memory/{entry}',
    summary: 'Delete a memory entry (on record without the text)',
    tag: 'memory',
    access: { permission: 'agents.write' },
    params: MemoryParams.extend({ entry: Id }),
    status: 204,
    handler: async ({ ctx, deps, params }) => {
      await deleteMemoryEntry(deps.store.db, ctx, params.agent, params.entry);
      return undefined;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/agents/{agent}/memory-deletion',
    summary:
      'Delete all of an agent’s memory on request: its entries and the payloads of its memory tool calls on record; counts on record, the log still verifies',
    tag: 'memory',
    access: { permission: 'agents.write' },
    params: MemoryParams,
    response: AgentMemoryDeletedSchema,
    handler: async ({ ctx, deps, params }) =>
      deleteAgentMemory(
        deps.store.db,
        ctx,
        params.agent,
        () => deps.audit.flush(),
        () => deps.store.purge(),
      ),
  }),
];
