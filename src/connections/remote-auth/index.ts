/** Remote MCP servers behind OAuth (the client side of MCP's authorization spec): connect, tokens, revoke. */
export { readServerAuth } from './config.ts';
export { egressFetch } from './egress-fetch.ts';
export { type AuthDeps, finishConnect, oauthRedirectUri, oauthStatus, startConnect } from './flow.ts';
export {
  authorizationsOf,
  disconnect,
  type RevokedSessions,
  revokeAtProvider,
  revokePersonAuthorizations,
} from './revoke.ts';
export { type TokenSource, tokenSource } from './tokens.ts';
