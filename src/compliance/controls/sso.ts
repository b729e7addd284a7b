/**
 * PAD-SSO-01 — single sign-on. People sign in through the organization's identity provider
 * (OIDC, PKCE, nonce); a person removed is not provisioned again. Evidence: the SSO settings
 * (never the client secret) and the sign-ins of the period. Auto-provisioning as owner or admin
 * fails the control: anyone the provider vouches for would administer the organization.
 */
import { getSso, trustedScope } from '../../identity/index.ts';
import { dataOf, type PaddockControl, stateDraft } from './context.ts';

interface Sso {
  configured: boolean;
  issuer: string | null;
  autoProvisionRole: string | null;
}

export const sso: PaddockControl = {
  id: 'PAD-SSO-01',
  title: 'Single sign-on',
  description:
    'People sign in through the organization’s OpenID Connect provider (authorization code with PKCE and nonce), so joining and leaving follow the customer’s directory; people removed here are not provisioned again by it.',
  criteria: ['CC6.1', 'CC6.2'],
  async collect(ctx) {
    const s = await getSso(ctx.db, trustedScope(ctx.orgId));
    return [
      stateDraft('sso.settings', {
        configured: s !== null,
        issuer: s?.issuer ?? null,
        clientId: s?.clientId ?? null,
        hasClientSecret: s?.hasClientSecret ?? false,
        autoProvisionRole: s?.autoProvisionRole ?? null,
        updatedAt: s?.updatedAt ?? null,
      }),
    ];
  },
  test(evidence) {
    const s = dataOf<Sso>(evidence, 'sso.settings');
    if (!s) return { status: 'fail', reason: 'The SSO evidence is missing.' };
    if (!s.configured)
      return {
        status: 'warning',
        reason: 'Single sign-on is not set up: people sign in with passwords and links.',
      };
    if (s.autoProvisionRole === 'owner' || s.autoProvisionRole === 'admin') {
      return {
        status: 'fail',
        reason: `Anyone ${s.issuer} signs in becomes ${s.autoProvisionRole === 'admin' ? 'an admin' : 'an owner'} (autoProvisionRole).`,
      };
    }
    return {
      status: 'pass',
      reason: `Single sign-on through ${s.issuer}; ${s.autoProvisionRole ? `new people join as ${s.autoProvisionRole}` : 'only invited people get in'}.`,
    };
  },
};
