/**
 * No sandbox: the cell is a plain child process. Only for development on hosts without
 * bubblewrap, only when asked for explicitly (`--unsafe-no-sandbox`), and announced loudly in
 * the log and the audit trail by the supervisor.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { CellSpec, SandboxProvider } from './sandbox.ts';

export const noSandbox: SandboxProvider = {
  name: 'none',
  guarantees: ['NONE: the cell runs as a plain process with the server’s rights (development only)'],
  async check() {
    return { ok: true };
  },
  spawn(spec: CellSpec): ChildProcess {
    mkdirSync(spec.workDir, { recursive: true, mode: 0o700 });
    return spawn(spec.command, spec.args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: spec.env,
      cwd: spec.workDir,
    });
  },
};
