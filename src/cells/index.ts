/** Org cells: sandboxes, the supervisor, the egress proxy. */
import type { Logger } from '../log/index.ts';
import { bubblewrap } from './bubblewrap.ts';
import type { SandboxProvider } from './sandbox.ts';
import { noSandbox } from './unsafe.ts';

export { bubblewrap } from './bubblewrap.ts';
export { EgressProxy, type EgressRule, isNonPublic } from './egress.ts';
export { egressRulesFor } from './egress-rules.ts';
export { type CellEvent, cellHistory } from './history.ts';
export { type HostUser, orgHostUser } from './host-users.ts';
export type { CellSpec, SandboxProvider } from './sandbox.ts';
export { type SelfTest, type SelfTestCheck, sandboxSelfTest } from './self-test.ts';
export { type CellInfo, type CellState, CellSupervisor, cellSpec } from './supervisor.ts';
export { noSandbox } from './unsafe.ts';

export interface SandboxChoice {
  provider: SandboxProvider | null;
  /** Why cells cannot run, when they cannot. */
  problem: string | null;
}

/**
 * bubblewrap when the host allows it; no sandbox only when explicitly asked for; otherwise no
 * cells at all, with the reason. Never a silent fallback.
 */
export async function chooseSandbox(opts: { unsafeNoSandbox: boolean }, log: Logger): Promise<SandboxChoice> {
  if (opts.unsafeNoSandbox) {
    log.warn(
      '!!! UNSAFE: --unsafe-no-sandbox is set. Org cells run as plain processes with this server’s rights: no isolation between organizations. Development only. !!!',
    );
    return { provider: noSandbox, problem: null };
  }
  const check = await bubblewrap.check();
  if (check.ok) {
    // What this host cannot enforce is said at start, as on the cell page.
    for (const g of bubblewrap.guarantees.filter((x) => x.startsWith('not enforced')))
      log.warn(`cells: ${g}`);
    return { provider: bubblewrap, problem: null };
  }
  const problem = `Org cells cannot start: ${check.reason} (or start with --unsafe-no-sandbox for development, without isolation).`;
  log.error(problem);
  return { provider: null, problem };
}
