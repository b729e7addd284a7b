/**
 * PAD-VEND-01 — vendor register. The register is generated from what the org uses (model
 * providers from keys and calls, MCP packages and commands, remote hosts) and joined with the
 * org's assessments. A vendor in use that nobody reviewed fails the control; a review past its
 * date warns. Evidence: the register, and the model calls per provider and model from the log.
 */
import { type Vendor, vendorRegister } from '../vendors.ts';
import { count, dataOf, figureDraft, type PaddockControl, some, stateDraft, wholeLog } from './context.ts';

export const vendors: PaddockControl = {
  id: 'PAD-VEND-01',
  title: 'Vendor register',
  description:
    'Every third party the organization’s agents send data to or run — model providers, MCP server packages and commands, remote hosts — is listed from configuration and actual use, with the organization’s assessment (data handling, SOC 2 report date, review dates). A vendor in use without a review fails.',
  criteria: ['CC9.2', 'P6.4'],
  async collect(ctx) {
    const register = await vendorRegister(ctx.db, ctx.orgId, ctx.now, ctx.log.snapshot.treeSize);
    return [
      // Model providers in use come from the log's model.called entries up to the checkpoint too.
      { ...stateDraft('vendors.register', { vendors: register }), fromLog: true, range: wholeLog(ctx) },
      figureDraft(ctx, 'model_calls.by_provider', {
        name: 'model calls by provider and model',
        where: { actions: ['model.called'] },
        by: 'target',
      }),
    ];
  },
  test(evidence) {
    const r = dataOf<{ vendors: Vendor[] }>(evidence, 'vendors.register');
    if (!r) return { status: 'fail', reason: 'The vendor register is missing.' };
    const inUse = r.vendors.filter((v) => v.inUse);
    const unreviewed = inUse.filter((v) => v.status === 'unreviewed');
    if (unreviewed.length > 0) {
      return {
        status: 'fail',
        reason: `${count(unreviewed.length, 'vendor')} in use never reviewed: ${some(unreviewed.map((v) => v.name))}.`,
      };
    }
    const due = inUse.filter((v) => v.status === 'review_due');
    if (due.length > 0) {
      return {
        status: 'warning',
        reason: `${count(due.length, 'vendor review')} past due: ${some(due.map((v) => v.name))}.`,
      };
    }
    return { status: 'pass', reason: `${count(inUse.length, 'vendor')} in use, each reviewed and current.` };
  },
};
