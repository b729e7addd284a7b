/**
 * MCP sessions and streams of `/mcp/{org}` (Streamable HTTP): opened by `initialize`, bound to
 * their agent and person, stored so any replica carries them on, ended by DELETE, idleness or
 * the kill switch; and the way to send an agent's open sessions a notification from any replica.
 */
export { EVENT_ID, KEEP, KEEP_MS, SessionEvents } from './events.ts';
export {
  IDLE_MS,
  MAX_PER_AGENT,
  McpSessions,
  type McpSessionsOptions,
  sessionNotFound,
  sessionRequired,
} from './sessions.ts';
