/**
 * The supervisor ⇄ cell channel: newline-delimited JSON frames over the cell's stdin/stdout,
 * each with a protocol version and the org it speaks for. A frame that is too long, of another
 * version, or for another org ends the channel.
 */
export const PROTOCOL_VERSION = 1;
export const MAX_FRAME_BYTES = 1 << 20;

export type ToCell =
  | { v: 1; type: 'hello'; org: string; dataKey: string; heartbeatMs: number }
  | { v: 1; type: 'ping'; org: string; id: number }
  | { v: 1; type: 'shutdown'; org: string }
  // Agent runs: start (or resume) one, stop one, and the gate's MCP messages to a run.
  | { v: 1; type: 'run'; org: string; spec: unknown }
  | { v: 1; type: 'run.stop'; org: string; runId: string; reason: string }
  | { v: 1; type: 'mcp'; org: string; runId: string; message: unknown };

/**
 * Frames of a run name it by its capability, never by id: the control plane derives the agent
 * and the person from its own record of the run the capability belongs to.
 */
export type FromCell =
  | { v: 1; type: 'ready'; org: string; pid: number }
  | { v: 1; type: 'heartbeat'; org: string; rss: number }
  | { v: 1; type: 'pong'; org: string; id: number }
  | { v: 1; type: 'run.event'; org: string; capability: string; event: unknown }
  | { v: 1; type: 'run.end'; org: string; capability: string; end: unknown }
  | { v: 1; type: 'mcp'; org: string; capability: string; message: unknown };

/** The frames of agent runs, which the supervisor hands to whoever runs them. */
export type RunFrame = Extract<FromCell, { type: 'run.event' | 'run.end' | 'mcp' }>;

export function encode(frame: ToCell | FromCell): string {
  return `${JSON.stringify(frame)}\n`;
}

/** Splits a byte stream into frames; calls `onFrame` for each, `onError` once on a bad one. */
export function frameReader(onFrame: (frame: unknown) => void, onError: (why: string) => void) {
  let buffer = '';
  let broken = false;
  return (chunk: Buffer | string) => {
    if (broken) return;
    buffer += String(chunk);
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let frame: { v?: unknown } | undefined;
      try {
        frame = JSON.parse(line);
      } catch {
        broken = true;
        onError('a frame is not JSON');
        return;
      }
      if (frame?.v !== PROTOCOL_VERSION) {
        broken = true;
        onError(`protocol version ${String(frame?.v)} is not ${PROTOCOL_VERSION}`);
        return;
      }
      onFrame(frame);
      nl = buffer.indexOf('\n');
    }
    if (buffer.length > MAX_FRAME_BYTES) {
      broken = true;
      onError('a frame is larger than 1 MiB');
    }
  };
}
