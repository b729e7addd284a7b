/** Single sign-on: per-org OIDC settings, and the browser sign-in round trip. */
import { z } from 'zod';
import { PaddockError } from '../../errors/index.ts';
import {
  finishSso,
  getSso,
  removeSso,
  requireOrgBySlug,
  SSO_CALLBACK_PATH,
  setSso,
  ssoRedirectUri,
  startSso,
} from '../../identity/index.ts';
import { keepSsoState, setSessionCookie, takeSsoState } from '../cookies.ts';
import { defineRoute } from '../route.ts';
import { OrgParams, RoleSchema, SsoSchema } from '../schemas.ts';

export const SsoStatusSchema = z.object({ sso: SsoSchema.nullable(), redirectUri: z.string() });
export const SsoBodySchema = z.strictObject({
  issuer: z.string().min(1).max(500),
  clientId: z.string().min(1).max(200),
  clientSecret: z.string().min(1).max(500).nullable().optional(),
  autoProvisionRole: RoleSchema.nullable().default(null),
});

export const ssoRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/sso',
    summary: 'Read the single sign-on settings (never the client secret)',
    tag: 'sso',
    access: { permission: 'sso.read' },
    params: OrgParams,
    response: SsoStatusSchema,
    handler: async ({ ctx, deps }) => {
      const redirectUri = ssoRedirectUri(deps.config.publicUrl);
      const sso = await getSso(deps.store.db, ctx.scope);
      return { sso: sso ? { ...sso, redirectUri } : null, redirectUri };
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/v1/orgs/{org}/sso',
    summary: 'Set the single sign-on settings; the client secret is sealed in the vault',
    tag: 'sso',
    access: { permission: 'sso.manage' },
    params: OrgParams,
    body: SsoBodySchema,
    response: SsoSchema,
    handler: async ({ ctx, deps, body }) => ({
      ...(await setSso(deps.store.db, deps.vault, ctx, body)),
      redirectUri: ssoRedirectUri(deps.config.publicUrl),
    }),
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/orgs/{org}/sso',
    summary: 'Turn single sign-on off',
    tag: 'sso',
    access: { permission: 'sso.manage' },
    params: OrgParams,
    status: 204,
    handler: async ({ ctx, deps }) => {
      await removeSso(deps.store.db, ctx);
      return undefined;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/auth/sso/{org}/start',
    summary: "Start signing in through the organization's identity provider (redirects)",
    tag: 'sso',
    access: 'public',
    params: OrgParams,
    raw: {
      status: 302,
      description: "Redirect to the organization's identity provider (or to sign-in with an error code)",
    },
    handler: async ({ deps, params, requestId, c }) => {
      // Begun by another site's page, a sign-in would end with this browser signed in as whoever
      // the provider says (login CSRF): it starts from Paddock's own page, a bookmark or the address bar.
      if (c.req.header('sec-fetch-site') === 'cross-site')
        return c.redirect('/signin?error=sso_start_here', 302);
      try {
        const org = await requireOrgBySlug(deps.store.db, params.org);
        const started = await startSso(deps.store.db, deps.vault, org, deps.config.publicUrl);
        keepSsoState(c, deps.config, started);
        return c.redirect(started.url, 302);
      } catch (err) {
        if (!PaddockError.isInstance(err)) throw err;
        deps.log.warn({ err, requestId }, 'single sign-on could not start');
        // Back to the sign-in page, which says why; an org that does not exist reads as one
        // without single sign-on, so that no one learns which orgs exist from here.
        const code = err.code === 'org_not_found' ? 'sso_not_configured' : err.code;
        return c.redirect(`/signin?error=${encodeURIComponent(code)}`, 302);
      }
    },
  }),
  defineRoute({
    method: 'get',
    path: SSO_CALLBACK_PATH,
    summary: 'Where the identity provider sends the browser back (redirects to the dashboard)',
    tag: 'sso',
    access: 'public',
    raw: { status: 302, description: 'Redirect to the dashboard (or to sign-in with an error code)' },
    handler: async ({ deps, requestId, c }) => {
      const url = new URL(c.req.url);
      // Rebuild the callback URL as the provider saw it: behind a proxy, c.req.url is internal.
      const callback = new URL(ssoRedirectUri(deps.config.publicUrl));
      callback.search = url.search;
      try {
        const s = await finishSso(deps.store.db, deps.vault, callback, takeSsoState(c), requestId);
        setSessionCookie(c, deps.config, s);
        return c.redirect(`/orgs/${s.orgSlug}`, 302);
      } catch (err) {
        const code = PaddockError.isInstance(err) ? err.code : 'sso_failed';
        deps.log.warn({ err, requestId }, 'single sign-on failed');
        return c.redirect(`/signin?error=${encodeURIComponent(code)}`, 302);
      }
    },
  }),
];
