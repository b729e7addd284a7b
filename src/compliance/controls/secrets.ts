/**
 * PAD-VAULT-01 — encrypted secrets and key rotation. Secrets are sealed (AES-256-GCM) under the
 * org's data key, itself wrapped by the key-encryption key; values never come back out. Model
 * keys are rotated within the org's policy (`keyRotationDays`, 90 by default). Evidence: the
 * inventory — metadata only, never a value nor its last characters — with each secret's age.
 */

import { trustedScope } from '../../identity/index.ts';
import { listSecrets } from '../../vault/index.ts';
import { count, dataOf, daysBetween, type PaddockControl, some, stateDraft } from './context.ts';

/** A model key this close to the policy is due soon (a warning). */
export const DUE_SOON_DAYS = 14;

interface Inventory {
  policyDays: number;
  sealedUnderDataKey: boolean;
  secrets: Array<{ id: string; name: string; kind: string; provider: string | null; ageDays: number }>;
}

export const secretsControl: PaddockControl = {
  id: 'PAD-VAULT-01',
  title: 'Encrypted secrets and key rotation',
  description:
    'Model keys and connector credentials are envelope-encrypted at rest (AES-256-GCM under a per-org data key wrapped by the key-encryption key), never shown back, in logs or in evidence, and rotated: a model key older than the org’s rotation policy fails the control.',
  criteria: ['CC6.1', 'CC6.7', 'C1.1'],
  async collect(ctx) {
    const secrets = await listSecrets(ctx.db, trustedScope(ctx.orgId));
    const dataKey = await ctx.db
      .selectFrom('vault_keys')
      .select(['kek_id', 'created_at'])
      .where('org_id', '=', ctx.orgId)
      .executeTakeFirst();
    return [
      stateDraft('secrets.inventory', {
        asOf: ctx.now.toISOString(),
        policyDays: ctx.org.settings.keyRotationDays,
        sealedUnderDataKey: secrets.length === 0 || dataKey !== undefined,
        wrappedBy: dataKey ? { kekId: dataKey.kek_id, since: dataKey.created_at } : null,
        // Metadata only: no value, no hint of one.
        secrets: secrets.map((s) => ({
          id: s.id,
          name: s.name,
          kind: s.kind,
          provider: s.provider,
          version: s.version,
          createdAt: s.createdAt,
          rotatedAt: s.rotatedAt,
          rotatedBy: s.rotatedBy,
          ageDays: daysBetween(s.rotatedAt ?? s.createdAt, ctx.now),
          agents: s.agentIds === null ? 'all' : s.agentIds.length,
        })),
      }),
    ];
  },
  test(evidence) {
    const inv = dataOf<Inventory>(evidence, 'secrets.inventory');
    if (!inv) return { status: 'fail', reason: 'The secrets inventory is missing.' };
    if (!inv.sealedUnderDataKey)
      return { status: 'fail', reason: 'Secrets are stored but the org has no wrapped data key.' };
    const policy = inv.policyDays;
    const models = inv.secrets.filter((s) => s.kind === 'model_key');
    const stale = models.filter((s) => s.ageDays > policy);
    if (stale.length > 0) {
      return {
        status: 'fail',
        reason: `${count(stale.length, 'model key')} not rotated in ${policy} days: ${some(stale.map((s) => `${s.name} (${s.ageDays} days)`))}.`,
      };
    }
    const summary = `${count(inv.secrets.length, 'secret')} sealed under the org’s data key; ${models.length ? `${count(models.length, 'model key')}, each rotated within ${policy} days` : 'no model key'}`;
    const soon = models.filter((s) => s.ageDays > policy - DUE_SOON_DAYS);
    const other = inv.secrets.filter((s) => s.kind !== 'model_key' && s.ageDays > policy);
    if (soon.length + other.length > 0) {
      const parts = [
        soon.length ? `${count(soon.length, 'model key')} due for rotation within ${DUE_SOON_DAYS} days` : '',
        other.length ? `${count(other.length, 'other secret')} older than ${policy} days` : '',
      ].filter(Boolean);
      return { status: 'warning', reason: `${parts.join('; ')}. ${summary}.` };
    }
    return { status: 'pass', reason: `${summary}.` };
  },
};
