/**
 * The run's calls to the gate, as JSON-RPC `tools/call` requests over its channel. The run's
 * tools come with its spec (listed by the control plane when it handed the run over), so there
 * is no MCP handshake and no `tools/list` round trip per run: the gate needs neither, since it
 * knows the run by its capability and decides every call on its own.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

interface Waiting {
  resolve(result: unknown): void;
  reject(err: Error): void;
}

export class GateClient {
  readonly #transport: Transport;
  readonly #waiting = new Map<number, Waiting>();
  #next = 0;

  constructor(transport: Transport) {
    this.#transport = transport;
    transport.onmessage = (m) => this.#answer(m);
    transport.onclose = () => this.#failAll(new Error('the channel to the gate closed'));
  }

  /** Calls a tool through the gate; its result (a refusal is a result with `isError`). */
  async callTool(name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<CallToolResult> {
    const r = (await this.request(
      'tools/call',
      { name, arguments: args },
      signal,
    )) as Partial<CallToolResult>;
    return { ...r, content: Array.isArray(r.content) ? r.content : [] } as CallToolResult;
  }

  /** One request to the control plane over the run's channel; rejects with its error's message. */
  request(method: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(new Error(String(signal.reason ?? 'aborted')));
    const id = this.#next++;
    return new Promise<unknown>((resolve, reject) => {
      // An aborted call is cancelled at the gate too: a paused call then never runs.
      const onAbort = () => {
        this.#waiting.delete(id);
        void this.#send({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: id, reason: String(signal?.reason ?? 'aborted') },
        });
        reject(new Error(String(signal?.reason ?? 'aborted')));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.#waiting.set(id, {
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      void this.#send({ jsonrpc: '2.0', id, method, params });
    });
  }

  async #send(message: JSONRPCMessage): Promise<void> {
    await this.#transport.send(message).catch((err: Error) => this.#failAll(err));
  }

  #answer(message: JSONRPCMessage): void {
    if (!('id' in message) || typeof message.id !== 'number') return;
    const waiting = this.#waiting.get(message.id);
    if (!waiting) return;
    this.#waiting.delete(message.id);
    if ('result' in message) waiting.resolve(message.result);
    else if ('error' in message) waiting.reject(new Error(message.error.message));
  }

  #failAll(err: Error): void {
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
  }

  async close(): Promise<void> {
    await this.#transport.close();
  }
}
