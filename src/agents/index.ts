/** Agents: identities, scopes, versions, the kill switch state, standing, and tokens for the MCP endpoint. */
export * from './agents.ts';
export * from './client-tokens.ts';
export * from './removal.ts';
export * from './standing.ts';
export * from './tokens.ts';
