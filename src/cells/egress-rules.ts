/**
 * What an org's egress proxy admits: the admin's explicit allowlist, plus what the org has
 * already declared it talks to — the hosts of its remote MCP connections and the API endpoints
 * of its model keys (their provider's, or the endpoint a key carries). Derived entries never open private or loopback addresses; only
 * an explicit entry with `allowPrivate` does.
 */

import { toOrg } from '../identity/orgs.ts';
import type { Db } from '../store/index.ts';
import type { EgressRule } from './egress.ts';

/** Model providers' API endpoints (a key of kind `model_key` with this provider opens it). */
export const PROVIDER_ENDPOINTS: Record<string, EgressRule[]> = {
  openai: [{ host: 'api.openai.com', port: 443 }],
  anthropic: [{ host: 'api.anthropic.com', port: 443 }],
  google: [{ host: 'generativelanguage.googleapis.com', port: 443 }],
  mistral: [{ host: 'api.mistral.ai', port: 443 }],
};

function hostPort(url: string): EgressRule | null {
  if (!URL.canParse(url)) return null;
  const u = new URL(url);
  const port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase(), port };
}

/**
 * `forCell`: the rules of the proxy mounted into the org's cell, which leave out the remote
 * connections' hosts (only the gateway talks to those, under grants).
 */
export async function egressRulesFor(db: Db, orgId: string, forCell = false): Promise<EgressRule[]> {
  const org = await db.selectFrom('orgs').selectAll().where('id', '=', orgId).executeTakeFirst();
  if (!org) return [];
  const rules: EgressRule[] = [...toOrg(org).settings.egressAllowlist];
  const remote = forCell
    ? []
    : await db
        .selectFrom('connections')
        .select('url')
        .where('org_id', '=', orgId)
        .where('transport', '=', 'http')
        .execute();
  for (const c of remote) {
    const r = c.url ? hostPort(c.url) : null;
    if (r) rules.push(r);
  }
  // The authorization servers remote connections named, and their token and registration endpoints.
  const oauth = forCell
    ? []
    : await db
        .selectFrom('remote_auth_servers')
        .select(['issuer', 'metadata'])
        .where('org_id', '=', orgId)
        .execute();
  for (const a of oauth) {
    const m = a.metadata ? (JSON.parse(a.metadata) as Record<string, unknown>) : {};
    for (const url of [a.issuer, m.token_endpoint, m.registration_endpoint, m.revocation_endpoint]) {
      const r = typeof url === 'string' ? hostPort(url) : null;
      if (r) rules.push(r);
    }
  }
  const keys = await db
    .selectFrom('secrets')
    .select(['provider', 'base_url'])
    .where('org_id', '=', orgId)
    .where('kind', '=', 'model_key')
    .execute();
  for (const k of keys) {
    // A key with its own endpoint opens that endpoint (a public one only: see the header).
    const own = k.base_url ? hostPort(k.base_url) : null;
    if (own) rules.push(own);
    else rules.push(...(PROVIDER_ENDPOINTS[k.provider ?? ''] ?? []));
  }
  return rules;
}
