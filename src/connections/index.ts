/** App connections: MCP servers, run in the org's sandbox, and the tools they present. */
export * from './connections.ts';
export { listTools, openStdio, type ToolDefinition, toolDigest } from './mcp.ts';
export { type Opener, type OpenSession, openConnection } from './open.ts';
