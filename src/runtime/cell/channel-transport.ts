/**
 * An MCP transport over the cell's channel: the run's MCP client (in the cell) and the gate's
 * MCP server (in the control plane) exchange JSON-RPC messages as `mcp` frames. Each side wraps
 * a message in a frame with its own `send`; what arrives is handed to `deliver`.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export class ChannelTransport implements Transport {
  readonly #send: (message: JSONRPCMessage) => void;
  #closed = false;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  constructor(send: (message: JSONRPCMessage) => void) {
    this.#send = send;
  }

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw new Error('the channel is closed');
    this.#send(message);
  }

  /** A message from the other side. */
  deliver(message: JSONRPCMessage): void {
    if (!this.#closed) this.onmessage?.(message);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.onclose?.();
  }
}
