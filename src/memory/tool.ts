/**
 * The built-in memory connection's MCP server: `remember`, `recall` and `forget` on the agent's
 * own memory. It runs in-process (an in-memory transport), opened by the gate like any other
 * connection's session, so each call is granted (default deny), decided and audited by the gate
 * before it reaches here. A session opened for no agent (listing the tools) lists them and refuses
 * calls.
 *
 *   const client = await openMemorySession(db, orgId, agentId);
 *   await client.callTool({ name: 'recall', arguments: { query: 'deploy days' } });
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { ForbiddenError, PaddockError } from '../errors/index.ts';
import { findPerson, trustedScope } from '../identity/index.ts';
import type { Db } from '../store/index.ts';
import { MEMORY_LIMITS, type MemoryEntry } from './entries.ts';
import { forget, personAbout, recall, remember } from './recall.ts';

/** The name a built-in connection's `command` gives this server. */
export const MEMORY_SERVER = 'memory';

/**
 * The key of a call's `_meta` where the gate tells a built-in server whom the call is for. Only
 * the gate sets it (it passes none of the agent's own `_meta` on), so a model cannot forge it.
 */
export const CALLER_META = 'paddock/caller';

/** Whom a call is for, as the gate tells a built-in server. */
export interface BuiltinCaller {
  /** The person answerable for the call (a run's person, a token's issuer); null when none. */
  personId: string | null;
  /** The agent run the call belongs to, when it belongs to one. */
  runId: string | null;
}

/** The caller the gate put in `_meta`; no one (general entries only) when it put none. */
function callerOf(meta: Record<string, unknown> | undefined): BuiltinCaller {
  const c = meta?.[CALLER_META] as Partial<BuiltinCaller> | undefined;
  return {
    personId: typeof c?.personId === 'string' ? c.personId : null,
    runId: typeof c?.runId === 'string' ? c.runId : null,
  };
}

const ABOUT = {
  type: 'string',
  maxLength: 320,
  description:
    'The email (or Paddock person id) of the person of this organization it is about — only the person you are working for; give it for anything about them, so it is seen only in their calls and deleted with their data.',
} as const;

/** The tools, as every agent is shown them (grants pin these definitions). */
export const MEMORY_TOOLS: Tool[] = [
  {
    name: 'remember',
    description: `Keep a note in your memory for later runs (at most ${MEMORY_LIMITS.textChars} characters). People can see, edit and delete it.`,
    inputSchema: {
      type: 'object',
      properties: {
        text: { type: 'string', minLength: 1, maxLength: MEMORY_LIMITS.textChars },
        about: ABOUT,
      },
      required: ['text'],
      additionalProperties: false,
    },
    annotations: { title: 'Remember', readOnlyHint: false, destructiveHint: false, openWorldHint: false },
  },
  {
    name: 'recall',
    description: `Find notes in your memory that match the words of a query (at most ${MEMORY_LIMITS.recallResults}; the newest for an empty query).`,
    inputSchema: {
      type: 'object',
      properties: { query: { type: 'string', maxLength: MEMORY_LIMITS.queryChars }, about: ABOUT },
      required: ['query'],
      additionalProperties: false,
    },
    annotations: { title: 'Recall', readOnlyHint: true, openWorldHint: false },
  },
  {
    name: 'forget',
    description: 'Delete one note from your memory, by the id remember or recall gave.',
    inputSchema: {
      type: 'object',
      properties: { id: { type: 'string', maxLength: 64 } },
      required: ['id'],
      additionalProperties: false,
    },
    annotations: { title: 'Forget', readOnlyHint: false, destructiveHint: true, openWorldHint: false },
  },
];

const Args = {
  remember: z.strictObject({
    text: z.string().max(MEMORY_LIMITS.textChars * 2),
    about: z.string().max(320).optional(),
  }),
  recall: z.strictObject({
    query: z.string().max(MEMORY_LIMITS.queryChars),
    about: z.string().max(320).optional(),
  }),
  forget: z.strictObject({ id: z.string().max(64) }),
};

const answer = (value: unknown, isError = false): CallToolResult => ({
  content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }],
  ...(isError ? { isError: true } : {}),
});

const shown = (e: MemoryEntry) => ({
  id: e.id,
  text: e.text,
  pinned: e.pinned,
  about: e.personId,
  updatedAt: e.updatedAt,
});

/**
 * Runs one call for the agent: its answer, or a tool error saying what was wrong. A call sees
 * and touches the agent's general entries and those about the person it is for — never those
 * about anyone else (as a member reading memory through the API).
 */
async function run(
  db: Db,
  orgId: string,
  agentId: string,
  caller: BuiltinCaller,
  name: string,
  args: unknown,
): Promise<CallToolResult> {
  const scope = trustedScope(orgId);
  // A token issued by a service token, or by someone since removed, is for no person.
  const person = caller.personId ? ((await findPerson(db, scope, caller.personId))?.id ?? null) : null;
  const about = async (a: string | undefined) => {
    if (a === undefined) return null;
    const id = await personAbout(db, scope, a);
    if (!id)
      throw new PaddockError(404, 'person_not_found', 'No person of this organization is named by "about".');
    if (id !== person)
      throw new ForbiddenError(
        'memory_not_yours',
        person
          ? '"about" may name only the person this call is for: memory about anyone else is theirs.'
          : 'This call is for no person: "about" names someone, and their memory is theirs.',
      );
    return id;
  };
  switch (name) {
    case 'remember': {
      const a = Args.remember.parse(args);
      const entry = await remember(db, scope, agentId, { text: a.text, personId: await about(a.about) });
      return answer({ id: entry.id, remembered: true });
    }
    case 'recall': {
      const a = Args.recall.parse(args);
      const only = (await about(a.about)) ?? undefined;
      return answer({ entries: (await recall(db, scope, agentId, a.query, person, only)).map(shown) });
    }
    case 'forget': {
      const a = Args.forget.parse(args);
      return answer({ forgotten: await forget(db, scope, agentId, person, a.id) });
    }
    default:
      return answer(`No memory tool named ${name.slice(0, 100)}.`, true);
  }
}

/** The memory server for one agent of an org (or for none: tools listed, calls refused). */
export function memoryServer(db: Db, orgId: string, agentId: string | null): Server {
  const server = new Server({ name: 'paddock-memory', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: MEMORY_TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    if (!agentId) return answer('Memory belongs to an agent: call it as one.', true);
    try {
      const caller = callerOf(req.params._meta);
      return await run(db, orgId, agentId, caller, req.params.name, req.params.arguments ?? {});
    } catch (err) {
      if (err instanceof z.ZodError)
        return answer(
          `Invalid arguments: ${err.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`,
          true,
        );
      if (PaddockError.isInstance(err)) return answer(err.message, true);
      throw err;
    }
  });
  return server;
}

/** A client session to the agent's memory server, in-process. */
export async function openMemorySession(db: Db, orgId: string, agentId: string | null): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await memoryServer(db, orgId, agentId).connect(serverSide);
  const client = new Client({ name: 'paddock', version: '0.1.0' });
  await client.connect(clientSide);
  return client;
}
