/** Agents: identities, scopes, versions, the kill switch state, and tokens for the MCP endpoint. */
export * from './agents.ts';
export * from './removal.ts';
export * from './tokens.ts';
