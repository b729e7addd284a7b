/**
 * PAD-CELL-01 — org isolation. Each org's agents and MCP servers run in its own cell: a sandbox
 * with its own namespaces, host user, filesystem view and no network but its egress proxy.
 * Evidence: the sandbox's own report of what it enforces on this host, its self-check (it can
 * create the namespaces it needs), its self-test from inside a sandbox made as the org's cell is
 * (what a compromised cell would try, each attempt with its result), and the org's host user.
 */
import { count, dataOf, type PaddockControl, stateDraft } from './context.ts';

interface Sandbox {
  provider: string | null;
  problem: string | null;
  selfTest: { ok: boolean; reason: string | null } | null;
  /** The self-test from inside a sandbox made as the org's cell is: each attempt and its result. */
  probe?: {
    ok: boolean;
    reason: string | null;
    checks: Array<{ attempt: string; expected: string; result: string; ok: boolean }>;
  } | null;
  guarantees: string[];
  notEnforced: string[];
  runsAsOrgUsers: boolean;
  hostUser: { uid: number; allocatedAt: string } | null;
}

export const isolation: PaddockControl = {
  id: 'PAD-CELL-01',
  title: 'Org isolation',
  description:
    'Every organization’s agents run in their own cell: own user, pid, network and ipc namespaces, own unprivileged host user, an empty environment, a private writable folder, a seccomp filter, and no network but the org’s egress proxy. One org’s failure or compromise cannot reach another’s.',
  criteria: ['CC6.1', 'CC6.6', 'CC6.8', 'C1.1'],
  async collect(ctx) {
    const sandbox = ctx.platform.sandbox;
    const selfTest = sandbox ? await sandbox.check() : null;
    const probe = selfTest?.ok && ctx.platform.selfTest ? await ctx.platform.selfTest(ctx.orgId) : null;
    const uid = await ctx.db
      .selectFrom('cell_host_ids')
      .select(['uid', 'created_at'])
      .where('org_id', '=', ctx.orgId)
      .executeTakeFirst();
    const guarantees = sandbox?.guarantees ?? [];
    return [
      stateDraft('cells.sandbox', {
        provider: sandbox?.name ?? null,
        problem: ctx.platform.sandboxProblem,
        selfTest: selfTest ? { ok: selfTest.ok, reason: selfTest.reason ?? null } : null,
        probe,
        guarantees,
        notEnforced: guarantees.filter((g) => g.startsWith('not enforced') || g.startsWith('NONE')),
        runsAsOrgUsers: sandbox?.runsAsOrgUsers ?? false,
        hostUser: uid ? { uid: Number(uid.uid), allocatedAt: uid.created_at } : null,
      } satisfies Sandbox),
    ];
  },
  test(evidence) {
    const s = dataOf<Sandbox>(evidence, 'cells.sandbox');
    if (!s) return { status: 'fail', reason: 'The sandbox evidence is missing.' };
    if (!s.provider)
      return {
        status: 'fail',
        reason: `No sandbox: ${(s.problem ?? 'org cells cannot run').replace(/\.$/, '')}.`,
      };
    if (s.provider === 'none')
      return { status: 'fail', reason: 'Cells run with no sandbox (--unsafe-no-sandbox): no isolation.' };
    if (s.selfTest && !s.selfTest.ok)
      return { status: 'fail', reason: `The sandbox’s self-check failed: ${s.selfTest.reason}.` };
    if (s.probe && !s.probe.ok)
      return {
        status: 'fail',
        reason: `The sandbox’s self-test from inside a cell failed: ${s.probe.reason}.`,
      };
    const probed = s.probe
      ? `self-test from inside a cell: ${count(s.probe.checks.filter((c) => c.expected === 'refused').length, 'attempt')} refused, its own folder writable`
      : 'self-check passed';
    const user = s.hostUser ? `host user ${s.hostUser.uid}` : 'its own host user when its cell first starts';
    if (s.notEnforced.length > 0) {
      return {
        status: 'warning',
        reason: `${s.provider}: ${count(s.notEnforced.length, 'property', 'properties')} not enforced on this host — ${s.notEnforced.join('; ')}.`,
      };
    }
    return {
      status: 'pass',
      reason: `${s.provider}: ${count(s.guarantees.length, 'property', 'properties')} enforced (own namespaces, ${s.runsAsOrgUsers ? user : 'shared host user'}, egress only through the proxy); ${probed}.`,
    };
  },
};
