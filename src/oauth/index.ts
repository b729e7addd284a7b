/**
 * Paddock as an OAuth 2.1 authorization server for MCP clients (the MCP authorization spec):
 * discovery metadata, client registration, the authorization request and the person's consent,
 * and the token endpoint. The tokens it issues are agent tokens (see agents/client-tokens.ts).
 */
export * from './authorize.ts';
export * from './clients.ts';
export * from './errors.ts';
export * from './metadata.ts';
export * from './pkce.ts';
export * from './token.ts';
