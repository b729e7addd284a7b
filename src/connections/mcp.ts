/**
 * Talking to an org's MCP servers with the official MCP TypeScript SDK. A stdio server runs
 * inside the org's sandbox (the same bubblewrap cell spec: no network but the org's egress
 * proxy, no view of other orgs or the database), never as a plain child of the control plane.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { bubblewrapArgs } from '../cells/bubblewrap.ts';
import { inCgroups } from '../cells/limits.ts';
import type { SandboxProvider } from '../cells/sandbox.ts';
import { seccompProgram } from '../cells/seccomp.ts';
import { cellSpec, egressSocketPath } from '../cells/supervisor.ts';
import { PaddockError } from '../errors/index.ts';
import { SandboxedStdioTransport, SECRETS_FILE, type SpawnPlan, shellExports } from './stdio.ts';

const CODE_DIR = fileURLToPath(new URL('../..', import.meta.url));

export interface StdioServer {
  orgId: string;
  /** `node` (Paddock's own Node.js) or an absolute path visible in the sandbox (e.g. under /usr). */
  command: string;
  /** Relative paths are taken from Paddock's install directory (where MCP servers from npm live). */
  args: string[];
  /** Environment variables from the vault, already opened; they reach the server over a pipe. */
  secrets?: Record<string, string> | undefined;
}

function resolveArgs(args: string[]): string[] {
  return args.map((a) => (a.startsWith('node_modules/') ? join(CODE_DIR, a) : a));
}

/** How the server is started: inside bubblewrap, or (only when the operator chose no sandbox) directly. */
function spawnPlan(server: StdioServer, sandbox: SandboxProvider, home: string): SpawnPlan {
  const spec = cellSpec(server.orgId, home, '', []);
  const command = server.command === 'node' ? process.execPath : server.command;
  const args = resolveArgs(server.args);
  const secrets = server.secrets && Object.keys(server.secrets).length ? server.secrets : undefined;
  if (sandbox.name !== 'bubblewrap') {
    return { command, args, env: { ...spec.env, ...secrets }, cwd: spec.workDir };
  }
  // The org's egress proxy socket, when its cell has one running, is the server's only way out.
  const proxy = egressSocketPath(home, server.orgId);
  const inner = {
    ...spec,
    // With secrets, a shell inside the sandbox reads them from the in-memory file, then execs the server.
    command: secrets ? '/bin/sh' : command,
    args: secrets ? ['-c', `. ${SECRETS_FILE} && exec "$0" "$@"`, command, ...args] : args,
    egressSocket: existsSync(proxy) ? proxy : undefined,
    dataFile: secrets ? { fd: 3, path: SECRETS_FILE } : undefined,
  };
  // In the org's cgroups (memory, processes), shared with its cell, where the host allows.
  const launch = inCgroups(spec.cgroupProcs ?? [], '/usr/bin/bwrap', bubblewrapArgs(inner));
  return {
    ...launch,
    secrets: secrets ? shellExports(secrets) : undefined,
    seccomp: inner.seccomp ? seccompProgram() : undefined,
  };
}

/** Opens an MCP client session to a stdio server inside the org's sandbox. */
export async function openStdio(
  server: StdioServer,
  sandbox: SandboxProvider,
  home: string,
): Promise<Client> {
  if (server.command !== 'node' && !isAbsolute(server.command)) {
    throw new PaddockError(
      400,
      'invalid_command',
      'The command is "node" or an absolute path inside the sandbox.',
    );
  }
  const transport = new SandboxedStdioTransport(spawnPlan(server, sandbox, home));
  const client = new Client({ name: 'paddock', version: '0.1.0' });
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
