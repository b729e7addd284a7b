/**
 * No sandbox: the cell is a plain child process. Only for development on hosts without
 * bubblewrap, only when asked for explicitly (`--unsafe-no-sandbox`), and announced loudly in
 * the log and the audit trail by the supervisor.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { makeFolder } from './folders.ts';
import type { CellSpec, SandboxProvider } from './sandbox.ts';

export const noSandbox: SandboxProvider = {
  name: 'none',
  guarantees: ['NONE: the cell runs as a plain process with the server’s rights (development only)'],
  runsAsOrgUsers: false,
  async check() {
    return { ok: true };
  },
  spawn(spec: CellSpec): ChildProcess {
    makeFolder(spec.home, spec.workDir);
    return spawn(spec.command, spec.args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: spec.env,
      cwd: spec.workDir,
    });
  },
};
