/**
 * An MCP stdio transport for a server in the org's sandbox. Unlike the SDK's own, it does not
 * start the process itself: the sandbox does (which also hands the server's secrets over a
 * private pipe, read by bubblewrap into an in-memory file the server's shell sources), so no
 * secret is ever in a command line or in the host's environment.
 */
import type { ChildProcess } from 'node:child_process';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** Where the secrets file appears inside the sandbox. */
export const SECRETS_FILE = '/run/paddock/env';

/** `export NAME='value'` lines, quoted for a POSIX shell (a value cannot break out of its quotes). */
export function shellExports(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}='${v.replaceAll("'", `'\\''`)}'\n`)
    .join('');
}

export class SandboxedStdioTransport implements Transport {
  readonly #launch: () => ChildProcess;
  #proc: ChildProcess | undefined;
  readonly #buffer = new ReadBuffer();
  #stderr = '';
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  /** `launch` starts the server with stdio pipes (in its sandbox). */
  constructor(launch: () => ChildProcess) {
    this.#launch = launch;
  }

  /** The last lines the server wrote to stderr (for error messages). */
  get stderr(): string {
    return this.#stderr.slice(-2000);
  }

  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const proc = this.#launch();
      this.#proc = proc;
      proc.once('error', (err) => {
        reject(err);
        this.onerror?.(err);
      });
      proc.once('spawn', () => resolve());
      proc.once('close', () => {
        this.#proc = undefined;
        this.onclose?.();
      });
      proc.stdin!.on('error', (err) => this.onerror?.(err));
      proc.stdout!.on('data', (chunk: Buffer) => {
        try {
          this.#buffer.append(chunk);
        } catch (err) {
          // A message past the SDK's limit (10 MiB, a line that never ends) ends the session: it
          // would otherwise grow in the control plane's memory (and its error was left uncaught).
          proc.stdout!.removeAllListeners('data');
          this.onerror?.(
            new Error(
              `The MCP server sent too much without an end: ${(err as Error).message}; its session is ended.`,
            ),
          );
          void this.close();
          return;
        }
        for (;;) {
          try {
            const msg = this.#buffer.readMessage();
            if (msg === null) break;
            this.onmessage?.(msg);
          } catch (err) {
            this.onerror?.(err as Error);
          }
        }
      });
      proc.stderr!.on('data', (d: Buffer) => {
        this.#stderr = (this.#stderr + d.toString()).slice(-8000);
      });
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const stdin = this.#proc?.stdin;
      if (!stdin) return reject(new Error('The MCP server is not running.'));
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once('drain', resolve);
    });
  }

  /** Ends the server: closes its input, then kills it if it lingers; resolves once it is gone. */
  async close(): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    const gone = new Promise<void>((r) => proc.once('close', () => r()));
    proc.stdin?.end();
    const timer = setTimeout(() => proc.kill('SIGKILL'), 500);
    proc.kill('SIGTERM');
    await gone;
    clearTimeout(timer);
  }
}
