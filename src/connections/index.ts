/** App connections: MCP servers, run in the org's sandbox, and the tools they present. */
export * from './connections.ts';
export { listTools, safeMeta, type ToolDefinition, toolDigest } from './definitions.ts';
export { openStdio } from './mcp.ts';
export {
  type ConnectionToOpen,
  type Opener,
  type OpenSession,
  openConnection,
  type PrepareSession,
  readConnectionToOpen,
  secretsOf,
} from './open.ts';
export {
  authorizationsOf,
  disconnect,
  finishConnect,
  oauthRedirectUri,
  oauthStatus,
  revokeAtProvider,
  revokePersonAuthorizations,
  startConnect,
} from './remote-auth/index.ts';
export * from './removal.ts';
export { rescrubStoredTools } from './rescrub.ts';
