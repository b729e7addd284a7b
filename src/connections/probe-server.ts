/**
 * Test helper: an MCP stdio server, run in an org's sandbox, that tries what a compromised server
 * would. Its one tool, `probe`, writes a file in its own /cell (as a server keeping an agent's
 * token on disk would), reads the paths it is given, lists /cell, and says what happened.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const server = new Server({ name: 'probe', version: '1.0.0' }, { capabilities: { tools: {} } });

server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [
    {
      name: 'probe',
      description: 'Writes /cell/<write>, reads the given paths, lists /cell.',
      inputSchema: {
        type: 'object',
        properties: { write: { type: 'string' }, read: { type: 'array', items: { type: 'string' } } },
      },
    },
  ],
}));

server.setRequestHandler(CallToolRequestSchema, async (req) => {
  const args = (req.params.arguments ?? {}) as { write?: string; read?: string[] };
  const reads: Record<string, string> = {};
  for (const path of args.read ?? []) {
    try {
      reads[path] = `ALLOWED ${readFileSync(path, 'utf8').slice(0, 40)}`;
    } catch (err) {
      reads[path] = `refused ${(err as NodeJS.ErrnoException).code}`;
    }
  }
  if (args.write) writeFileSync(`/cell/${args.write}`, `secret of ${args.write}`);
  const result = { reads, listing: readdirSync('/cell').sort(), uid: process.getuid?.() };
  return { content: [{ type: 'text', text: JSON.stringify(result) }] };
});

await server.connect(new StdioServerTransport());
