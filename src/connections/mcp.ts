/**
 * Talking to an org's MCP servers with the official MCP TypeScript SDK. A stdio server runs
 * inside the org's sandbox (the same bubblewrap cell spec: no network but the org's egress
 * proxy, no view of other orgs or the database), never as a plain child of the control plane,
 * with a writable folder of its own per (connection, agent) session.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { serverFolder } from '../cells/folders.ts';
import type { HostUser } from '../cells/host-users.ts';
import type { SandboxProvider } from '../cells/sandbox.ts';
import { cellSpec, egressSocketPath } from '../cells/supervisor.ts';
import { PaddockError } from '../errors/index.ts';
import { SANDBOX_PACKAGES } from '../packages/index.ts';
import { SandboxedStdioTransport, SECRETS_FILE, shellExports } from './stdio.ts';

const CODE_DIR = fileURLToPath(new URL('../..', import.meta.url));

export interface StdioServer {
  orgId: string;
  /** The session it serves, which has its own writable folder: (connection, agent), or the admins' listing (null). */
  connectionId: string;
  agentId: string | null;
  /** The org's host user, where the sandbox runs each org as its own. */
  user?: HostUser | undefined;
  /** `node` (Paddock's own Node.js) or an absolute path visible in the sandbox (e.g. under /usr). */
  command: string;
  /** Relative paths are taken from Paddock's install directory (where MCP servers from npm live). */
  args: string[];
  /** Environment variables from the vault, already opened; they reach the server over a pipe. */
  secrets?: Record<string, string> | undefined;
  /**
   * An installed package it runs (`command` is then `node`): its folder in the store, shown
   * read-only in the sandbox at `/packages/<id>`, and its program, relative to that folder.
   */
  package?: { id: string; dir: string; program: string } | undefined;
}

/**
 * What Paddock's client tells a server it can do: ask the agent's model (sampling) and its person
 * (elicitation). Declared on every session, the admins' listing too, so a server shows the same
 * tools to both; each request is then decided on the agent's grants (refused by default).
 */
export const CLIENT_CAPABILITIES = { sampling: {}, elicitation: {} };

/** Sets a session's handlers (what the server says back) on its client, before it connects. */
export type PrepareClient = (client: Client) => void;

/**
 * The SDK hands a notification to its handler a microtask after it arrives, but settles a response
 * at once: a progress notification just before its call's answer would find the call gone (and be
 * lost). Here a response waits one microtask, behind whatever arrived before it.
 */
class OrderedClient extends Client {
  override async connect(transport: Transport, options?: RequestOptions): Promise<void> {
    await super.connect(transport, options);
    const handle = transport.onmessage;
    if (!handle) return;
    transport.onmessage = (message, extra) => {
      if ('result' in message || 'error' in message) queueMicrotask(() => handle(message, extra));
      else handle(message, extra);
    };
  }
}

/** Paddock's MCP client to a server, prepared by `prepare` before it connects. */
export function newClient(prepare?: PrepareClient): Client {
  const client = new OrderedClient(
    { name: 'paddock', version: '0.1.0' },
    { capabilities: CLIENT_CAPABILITIES },
  );
  prepare?.(client);
  return client;
}

function resolveArgs(args: string[]): string[] {
  return args.map((a) => (a.startsWith('node_modules/') ? join(CODE_DIR, a) : a));
}

/** How the server is started: in the org's sandbox (or, only when the operator chose none, as a plain process). */
function launcher(server: StdioServer, sandbox: SandboxProvider, home: string): () => ChildProcess {
  // The cell's spec (runtime, code, seccomp, the org's cgroups), with the session's own folder.
  const spec = {
    ...cellSpec(server.orgId, home, '', []),
    workDir: serverFolder(home, server.orgId, server.connectionId, server.agentId),
    user: server.user,
    packageDir: server.package
      ? { host: server.package.dir, inside: posix.join(SANDBOX_PACKAGES, server.package.id) }
      : undefined,
  };
  const command = server.command === 'node' ? process.execPath : server.command;
  const pkg = server.package;
  // Inside a sandbox the package is at /packages/<id>; with none (the operator's choice) it runs where it is.
  const inside = pkg && sandbox.name === 'bubblewrap' ? posix.join(SANDBOX_PACKAGES, pkg.id) : pkg?.dir;
  const args = [...(pkg ? [join(inside!, pkg.program)] : []), ...resolveArgs(server.args)];
  const secrets = server.secrets && Object.keys(server.secrets).length ? server.secrets : undefined;
  if (sandbox.name !== 'bubblewrap')
    return () => sandbox.spawn({ ...spec, command, args, env: { ...spec.env, ...secrets } });
  // The org's egress proxy socket, when its cell has one running, is the server's only way out.
  const proxy = egressSocketPath(home, server.orgId);
  return () =>
    sandbox.spawn({
      ...spec,
      // With secrets, a shell inside the sandbox reads them from the in-memory file, then execs the server.
      command: secrets ? '/bin/sh' : command,
      args: secrets ? ['-c', `. ${SECRETS_FILE} && exec "$0" "$@"`, command, ...args] : args,
      egressSocket: existsSync(proxy) ? proxy : undefined,
      dataFile: secrets ? { content: shellExports(secrets), path: SECRETS_FILE } : undefined,
    });
}

/** Opens an MCP client session to a stdio server inside the org's sandbox. */
export async function openStdio(
  server: StdioServer,
  sandbox: SandboxProvider,
  home: string,
  prepare?: PrepareClient,
): Promise<Client> {
  if (server.command !== 'node' && !isAbsolute(server.command)) {
    throw new PaddockError(
      400,
      'invalid_command',
      'The command is "node" or an absolute path inside the sandbox.',
    );
  }
  const transport = new SandboxedStdioTransport(launcher(server, sandbox, home));
  const client = newClient(prepare);
  try {
    await client.connect(transport);
  } catch (err) {
    await transport.close().catch(() => undefined);
    const said = transport.stderr.trim().split('\n').slice(-3).join(' | ');
    throw new PaddockError(
      502,
      'connection_failed',
      `The MCP server did not start or answer: ${(err as Error).message}${said ? ` (it said: ${said})` : ''}`,
    );
  }
  return client;
}
