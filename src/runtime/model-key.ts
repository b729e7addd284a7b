/**
 * Which of the org's keys a run thinks with: the agent's chosen secret, or the org's model key
 * for the agent's provider that the agent may use (one scoped to it first). Only the sealed value
 * leaves here — the cell opens it with the org's data key; the control plane never sees it in
 * clear. The endpoint travels with the key, so whoever may only edit an agent cannot send the
 * org's key to a host of their choosing.
 */
import { PaddockError } from '../errors/index.ts';
import type { Db } from '../store/index.ts';
import type { RunSpec } from './cell/loop.ts';

/** Providers that think without a key (the demo replay). */
const KEYLESS = new Set(['demo']);

export async function modelKeyFor(
  db: Db,
  orgId: string,
  agentId: string,
  model: { provider: string; secretId?: string | null | undefined },
): Promise<RunSpec['key']> {
  if (KEYLESS.has(model.provider)) return null;
  let q = db
    .selectFrom('secrets')
    .select(['id', 'version', 'sealed', 'base_url', 'agent_ids', 'provider', 'created_at'])
    .where('org_id', '=', orgId)
    .where('kind', '=', 'model_key');
  if (model.secretId) q = q.where('id', '=', model.secretId);
  else q = q.where('provider', '=', model.provider);
  const usable = (await q.execute()).filter((s) => {
    const agents = s.agent_ids ? (JSON.parse(s.agent_ids) as string[]) : null;
    return !agents || agents.includes(agentId);
  });
  if (model.secretId && usable[0] && usable[0].provider !== model.provider) {
    throw new PaddockError(
      409,
      'model_key_mismatch',
      `The agent's key is for ${usable[0].provider ?? 'no provider'}, not ${model.provider}.`,
    );
  }
  // A key scoped to this agent first, then the newest org-wide one.
  const key = usable.sort(
    (a, b) =>
      Number(b.agent_ids !== null) - Number(a.agent_ids !== null) || b.created_at.localeCompare(a.created_at),
  )[0];
  if (!key) {
    throw new PaddockError(
      409,
      'model_key_missing',
      `No ${model.provider} model key this agent may use: add a secret of kind model_key with provider "${model.provider}".`,
    );
  }
  return { sealed: key.sealed, aad: `${orgId}/${key.id}/${key.version}`, baseUrl: key.base_url };
}
