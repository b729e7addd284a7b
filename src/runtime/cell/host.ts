/**
 * The runs of one cell: started and stopped by the control plane's frames, each with its own
 * channel to the gate (MCP frames named by the run's capability) and its own stop signal. The
 * model calls leave through the org's egress proxy, the cell's only way out.
 */
import { existsSync } from 'node:fs';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { FromCell, ToCell } from '../../cells/protocol.ts';
import { CELL_EGRESS_SOCKET } from '../../cells/sandbox.ts';
import { ChannelTransport } from './channel-transport.ts';
import type { RunSpec } from './loop.ts';

interface Active {
  capability: string;
  gate: ChannelTransport;
  stop: AbortController;
}

export class RunHost {
  readonly #org: string;
  readonly #dataKey: () => Buffer;
  readonly #send: (frame: FromCell) => void;
  readonly #runs = new Map<string, Active>();
  #fetch: typeof globalThis.fetch | undefined;

  constructor(org: string, dataKey: () => Buffer, send: (frame: FromCell) => void) {
    this.#org = org;
    this.#dataKey = dataKey;
    this.#send = send;
  }

  /** Model calls go only through the org's egress proxy; with none mounted, they cannot go out. */
  async #egressFetch(): Promise<typeof globalThis.fetch> {
    if (this.#fetch) return this.#fetch;
    if (!existsSync(CELL_EGRESS_SOCKET)) {
      this.#fetch = async () => {
        throw new Error('this cell has no egress proxy: it cannot reach a model provider');
      };
      return this.#fetch;
    }
    const { proxiedFetch } = await import('../../connections/proxied-fetch.ts');
    this.#fetch = proxiedFetch(CELL_EGRESS_SOCKET);
    return this.#fetch;
  }

  handle(frame: Extract<ToCell, { type: 'run' | 'run.stop' | 'mcp' }>): void {
    if (frame.type === 'mcp') {
      this.#runs.get(frame.runId)?.gate.deliver(frame.message as JSONRPCMessage);
    } else if (frame.type === 'run.stop') {
      this.#runs.get(frame.runId)?.stop.abort(frame.reason);
    } else void this.#start(frame.spec as RunSpec);
  }

  async #start(spec: RunSpec): Promise<void> {
    const org = this.#org;
    const capability = spec.capability;
    const gate = new ChannelTransport((message) =>
      this.#send({ v: 1, type: 'mcp', org, capability, message }),
    );
    const stop = new AbortController();
    const limit = setTimeout(() => stop.abort('time limit'), spec.limits.wallMs);
    this.#runs.set(spec.runId, { capability, gate, stop });
    try {
      const { runAgent } = await import('./loop.ts');
      const end = await runAgent(spec, {
        dataKey: this.#dataKey(),
        fetch: await this.#egressFetch(),
        gate,
        emit: (event) => this.#send({ v: 1, type: 'run.event', org, capability, event }),
        signal: stop.signal,
      });
      this.#send({ v: 1, type: 'run.end', org, capability, end });
    } catch (err) {
      const error = { code: 'cell_error', message: (err as Error).message.slice(0, 2000) };
      this.#send({ v: 1, type: 'run.end', org, capability, end: { status: 'failed', error } });
    } finally {
      clearTimeout(limit);
      await gate.close();
      this.#runs.delete(spec.runId);
    }
  }
}
