/**
 * PAD-NET-01 — egress allowlist. A cell reaches the network only through its org's egress
 * proxy, which admits the allowlist, the model keys' endpoints and the remote connections'
 * hosts, and never a private address unless an entry says so. Evidence: what the proxy admits
 * now, and the connections it refused in the period (from the log).
 */
import { egressRulesFor } from '../../cells/egress-rules.ts';
import { count, dataOf, figureDraft, type PaddockControl, some, stateDraft } from './context.ts';

interface Allowlist {
  enforced: boolean;
  explicit: Array<{ host: string; port: number; allowPrivate: boolean }>;
  admitted: Array<{ host: string; port: number }>;
}

export const egress: PaddockControl = {
  id: 'PAD-NET-01',
  title: 'Egress allowlist',
  description:
    'A cell has no network interface but loopback; its only way out is the org’s egress proxy, which admits the org’s allowlist, its model providers’ endpoints and its remote connections’ hosts, refuses private and loopback addresses unless an entry allows them, and records every refusal.',
  criteria: ['CC6.6', 'CC6.7'],
  async collect(ctx) {
    const admitted = await egressRulesFor(ctx.db, ctx.orgId, false);
    const seen = new Set<string>();
    const unique = admitted
      .map((r) => ({ host: r.host, port: r.port }))
      .filter((r) => !seen.has(`${r.host}:${r.port}`) && seen.add(`${r.host}:${r.port}`))
      .sort((a, b) => `${a.host}:${a.port}`.localeCompare(`${b.host}:${b.port}`));
    const sandbox = ctx.platform.sandbox;
    return [
      stateDraft('egress.allowlist', {
        enforced: !!sandbox && sandbox.name !== 'none',
        explicit: ctx.org.settings.egressAllowlist.map((e) => ({
          host: e.host,
          port: e.port,
          allowPrivate: e.allowPrivate === true,
        })),
        admitted: unique,
      } satisfies Allowlist),
      figureDraft(ctx, 'egress.refusals', {
        name: 'egress refusals by destination',
        where: { actions: ['egress.refused'] },
        by: 'target',
      }),
    ];
  },
  test(evidence) {
    const a = dataOf<Allowlist>(evidence, 'egress.allowlist');
    const refused = dataOf<{ value: Record<string, number> }>(evidence, 'egress.refusals');
    if (!a || !refused) return { status: 'fail', reason: 'The egress evidence is missing.' };
    if (!a.enforced)
      return {
        status: 'fail',
        reason: 'Cells are not network-isolated here (no sandbox), so the allowlist is not enforced.',
      };
    const n = Object.values(refused.value).reduce((x, y) => x + y, 0);
    const summary = `${count(a.admitted.length, 'destination')} admitted; ${count(n, 'connection')} refused in the period`;
    const open = a.explicit.filter((e) => e.allowPrivate);
    if (open.length > 0) {
      return {
        status: 'warning',
        reason: `${count(open.length, 'allowlist entry', 'allowlist entries')} open private or loopback addresses: ${some(open.map((e) => `${e.host}:${e.port}`))}. ${summary}.`,
      };
    }
    return { status: 'pass', reason: `${summary}.` };
  },
};
