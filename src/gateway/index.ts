/**
 * The tool gate: the one way every tool call runs (kill switch → Cedar decision → approval →
 * durable audit record → the call on the agent's own MCP session → result record), the kill
 * switch that stops agents and orgs on every replica, the gate as an MCP server for any
 * transport, and what servers say back relayed to the agents (`AgentDelivery` carries what is
 * not tied to one of their requests to their open client sessions). Adapters (HTTP, the cell
 * channel) live outside and use this face only.
 */
export { type AgentChannel, type AgentDelivery, LocalDelivery } from './agent-channel.ts';
export { BusSeal } from './bus-seal.ts';
export { type CallKey, Cancellations } from './cancellations.ts';
export { type GatewayOptions, ToolGateway } from './gate.ts';
export { KillRegistry, type StopTarget, type TokenEnd } from './kill-registry.ts';
export { KillSwitch, type StopPart, stopWhy } from './kill-switch.ts';
export { grantedTools } from './listed-tools.ts';
export {
  type AgentConnection,
  type AgentServerDeps,
  APPROVAL_META,
  agentServer,
  serveAgent,
  splitToolName,
} from './mcp-server.ts';
export { ApprovalRequiredError, CancelledError, StoppedError } from './refusals.ts';
export type {
  GateCaller,
  GateObserver,
  GateRequest,
  GateResult,
  UnknownToolObserver,
} from './request.ts';
export { AgentServerPool } from './server-pool.ts';
export { type BusWire, type SessionEvent, type StopBus, stopBus } from './stop-bus.ts';
export { STOP_FRESH_MS, sealedStops } from './stop-seal.ts';
