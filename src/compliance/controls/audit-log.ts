/**
 * PAD-LOG-01 — tamper-evident audit log with verification. Every collection verifies the org's
 * whole log (every leaf against its hash and its place in the tree, every signed checkpoint,
 * the checkpoints published outside the database) and records "verified to size N" with the
 * latest signed checkpoint, which every other figure of the collection is computed under.
 */
import { verifyLog } from '../../audit/index.ts';
import { dataOf, type PaddockControl } from './context.ts';

interface Verification {
  ok: boolean;
  verifiedToSize: number;
  checkpoints: number;
  erased: number;
  problem: { index?: number; message: string } | null;
  checkpoint: { treeSize: number; note: string };
  custody: { offHost: boolean; description: string } | null;
}

export const auditLog: PaddockControl = {
  id: 'PAD-LOG-01',
  title: 'Tamper-evident audit log with verification',
  description:
    'Every action and change is an entry of the org’s log: an RFC 6962 Merkle tree with Ed25519-signed C2SP checkpoints, published outside the database, verifiable offline with public tools. Each collection verifies the whole log.',
  criteria: ['CC2.1', 'CC4.1', 'CC7.2', 'PI1.5'],
  async collect(ctx) {
    const report = await verifyLog(ctx.db, ctx.orgId, { publishedDir: ctx.platform.checkpointDir });
    return [
      {
        kind: 'audit.verification',
        data: {
          ok: report.ok,
          verifiedToSize: report.entries,
          checkpoints: report.checkpoints,
          erased: report.erased,
          v1Erased: report.v1Erased,
          pending: report.pending,
          problem: report.problem ?? null,
          checkpoint: { treeSize: ctx.log.snapshot.treeSize, note: ctx.log.snapshot.checkpoint },
          custody: ctx.platform.custody ?? null,
        },
        fromLog: true,
        range: [0, ctx.log.snapshot.treeSize],
      },
    ];
  },
  test(evidence) {
    const v = dataOf<Verification>(evidence, 'audit.verification');
    if (!v) return { status: 'fail', reason: 'The verification evidence is missing.' };
    if (!v.ok) {
      const at = v.problem?.index === undefined ? '' : ` (entry #${v.problem.index})`;
      return {
        status: 'fail',
        reason: `Audit log verification failed${at}: ${v.problem?.message ?? 'unknown'}.`,
      };
    }
    const summary = `Audit log verified to size ${v.verifiedToSize.toLocaleString('en-US')} (${v.checkpoints.toLocaleString('en-US')} signed checkpoints checked; latest collected at size ${v.checkpoint.treeSize.toLocaleString('en-US')})`;
    if (v.custody && !v.custody.offHost) {
      return {
        status: 'warning',
        reason: `${summary}, but its checkpoints are published to ${v.custody.description}.`,
      };
    }
    return { status: 'pass', reason: `${summary}.` };
  },
};
