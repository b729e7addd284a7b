/** Invitations: one-time links that let a person join an organization with a role. */
import { z } from 'zod';
import {
  acceptInvitation,
  createInvitation,
  invitationUrl,
  listInvitations,
  peekInvitation,
  revokeInvitation,
  sameSecret,
} from '../../identity/index.ts';
import { setSessionCookie } from '../cookies.ts';
import { defineRoute } from '../route.ts';
import {
  CsrfSchema,
  Id,
  InvitationPeekSchema,
  InvitationSchema,
  Name,
  OrgParams,
  RoleSchema,
} from '../schemas.ts';

const LinkSecret = z.string().min(20).max(200);

export const InvitationListSchema = z.object({ invitations: z.array(InvitationSchema) });
export const InviteBodySchema = z.strictObject({ email: z.string().min(3).max(254), role: RoleSchema });
export const InviteResultSchema = z.object({
  url: z.string().describe('One-time link; shown once'),
  invitation: InvitationSchema,
});
export const InvitationPeekBodySchema = z.strictObject({ secret: LinkSecret });
export const InvitationAcceptBodySchema = z.strictObject({
  secret: LinkSecret,
  name: Name(100).optional(),
  password: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .describe('a new account’s password, or an existing account’s own; none for an account without one'),
});

export const invitationRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/invitations',
    summary: 'List open invitations',
    tag: 'invitations',
    access: { permission: 'invitations.read' },
    params: OrgParams,
    response: InvitationListSchema,
    handler: async ({ ctx, deps }) => ({ invitations: await listInvitations(deps.store.db, ctx.scope) }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/invitations',
    summary: 'Invite a person; the link is in this response only',
    tag: 'invitations',
    access: { permission: 'invitations.manage' },
    params: OrgParams,
    body: InviteBodySchema,
    response: InviteResultSchema,
    status: 201,
    handler: async ({ ctx, deps, body }) => {
      const { secret, invitation } = await createInvitation(deps.store.db, ctx, body);
      return { url: invitationUrl(deps.config.publicUrl, secret), invitation };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/orgs/{org}/invitations/{invitation}',
    summary: 'Withdraw an invitation',
    tag: 'invitations',
    access: { permission: 'invitations.manage' },
    params: OrgParams.extend({ invitation: Id }),
    status: 204,
    handler: async ({ ctx, deps, params }) => {
      await revokeInvitation(deps.store.db, ctx, params.invitation);
      return undefined;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/invitations/peek',
    summary: 'What an invitation link is for (org, email, role), before accepting it',
    tag: 'invitations',
    access: 'public',
    body: InvitationPeekBodySchema,
    response: InvitationPeekSchema,
    handler: async ({ deps, body, principal }) =>
      peekInvitation(
        deps.store.db,
        body.secret,
        principal.kind === 'session' && principal.session.orgId === null
          ? principal.session.userId
          : undefined,
      ),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/invitations/accept',
    summary: 'Accept an invitation: join the org and sign in',
    tag: 'invitations',
    access: 'public',
    body: InvitationAcceptBodySchema,
    response: CsrfSchema,
    handler: async ({ deps, body, requestId, principal, c }) => {
      // Signed in already as the invited account: it joins, and the session it has stays (a
      // session bound to the inviting org must not replace one that opens all of theirs).
      // Only with its CSRF token (the route is public, so the pipeline did not ask for it), and
      // only a session that opens all the person's orgs: one bound to an org vouches for no more.
      const session =
        principal.kind === 'session' &&
        principal.session.orgId === null &&
        sameSecret(c.req.header('x-csrf-token') ?? '', principal.session.csrfToken)
          ? principal.session
          : undefined;
      const s = await acceptInvitation(deps.store.db, { ...body, requestId, signedInAs: session?.userId });
      if (s.kept) return { csrfToken: session!.csrfToken };
      setSessionCookie(c, deps.config, s);
      return { csrfToken: s.csrfToken };
    },
  }),
];
