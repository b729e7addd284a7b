/** Signing in and out, the signed-in person's own account, and first-run setup. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ForbiddenError } from '../../errors/index.ts';
import {
  changePassword,
  completeSetup,
  endSession,
  SETUP_LINK_FILE,
  setupNeeded,
  signInWithPassword,
  useSigninLink,
} from '../../identity/index.ts';
import { clearSessionCookie, setSessionCookie } from '../cookies.ts';
import { addressKey, clientAddress } from '../request.ts';
import { defineRoute } from '../route.ts';
import { CsrfSchema, Name, Ok, OrgSchema, SessionSchema, Slug } from '../schemas.ts';

export const SignInBodySchema = z.strictObject({
  email: z.string().min(1).max(254),
  password: z.string().min(1).max(256),
});
export const SigninLinkBodySchema = z.strictObject({ secret: z.string().min(20).max(200) });
export const PasswordBodySchema = z.strictObject({
  currentPassword: z.string().max(256).optional(),
  newPassword: z.string().max(256),
});
export const SetupNeededSchema = z.object({ needed: z.boolean() });
export const SetupBodySchema = z.strictObject({
  secret: z.string().min(20).max(200),
  org: z.strictObject({ slug: Slug, name: Name(100) }),
  owner: z.strictObject({
    email: z.string().min(3).max(254),
    name: Name(100),
    password: z.string().max(256),
  }),
});
export const SetupResultSchema = z.object({ csrfToken: z.string(), org: OrgSchema });

export const sessionRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/session',
    summary: 'Who you are: the signed-in person, or the token in use',
    tag: 'session',
    access: 'signed-in',
    response: SessionSchema,
    handler: async ({ principal }) => {
      if (principal.kind === 'session') {
        const s = principal.session;
        return {
          kind: 'session' as const,
          person: { id: s.userId, email: s.email, name: s.name, hasPassword: s.hasPassword },
          token: null,
          csrfToken: s.csrfToken,
        };
      }
      if (principal.kind !== 'token') throw new ForbiddenError();
      const t = principal.token;
      return {
        kind: 'token' as const,
        person: null,
        token: { id: t.id, orgId: t.orgId, role: t.role },
        csrfToken: null,
      };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/session',
    summary: 'Sign in with email and password (sets the session cookie)',
    tag: 'session',
    access: 'public',
    body: SignInBodySchema,
    response: CsrfSchema,
    handler: async ({ deps, body, requestId, c }) => {
      deps.signInLimiter.check(`email:${body.email.trim().toLowerCase()}`);
      deps.signInLimiter.check(`addr:${addressKey(clientAddress(c, deps.config.trustedProxies))}`);
      const s = await signInWithPassword(deps.store.db, { ...body, requestId });
      setSessionCookie(c, deps.config, s);
      return { csrfToken: s.csrfToken };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/session',
    summary: 'Sign out',
    tag: 'session',
    access: 'signed-in',
    status: 204,
    handler: async ({ principal, deps, c }) => {
      if (principal.kind === 'session') await endSession(deps.store.db, principal.session.sessionId);
      clearSessionCookie(c);
      return undefined;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/session/link',
    summary: 'Sign in with a one-time sign-in link (from `paddock init`)',
    tag: 'session',
    access: 'public',
    body: SigninLinkBodySchema,
    response: CsrfSchema,
    handler: async ({ deps, body, requestId, c }) => {
      const s = await useSigninLink(deps.store.db, { secret: body.secret, requestId });
      setSessionCookie(c, deps.config, s);
      return { csrfToken: s.csrfToken };
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/v1/me/password',
    summary: 'Set your password (the current one is needed if you have one); ends your other sessions',
    tag: 'session',
    access: 'signed-in',
    body: PasswordBodySchema,
    response: Ok,
    handler: async ({ principal, deps, body, requestId }) => {
      if (principal.kind !== 'session') {
        throw new ForbiddenError(
          'session_required',
          'Change your password from a signed-in session, not with a token.',
        );
      }
      const s = principal.session;
      await changePassword(
        deps.store.db,
        { requestId, actor: { type: 'person', id: s.userId }, userId: s.userId, tokenId: null },
        { id: s.sessionId, orgId: s.orgId },
        body,
      );
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/setup',
    summary: 'Whether first-run setup is still to be done',
    tag: 'session',
    access: 'public',
    response: SetupNeededSchema,
    handler: async ({ deps }) => ({ needed: await setupNeeded(deps.store.db) }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/setup',
    summary: 'First-run setup: create the first organization and its owner (needs the start-up link)',
    tag: 'session',
    access: 'public',
    body: SetupBodySchema,
    response: SetupResultSchema,
    status: 201,
    handler: async ({ deps, body, requestId, c }) => {
      const s = await completeSetup(deps.store.db, {
        secret: body.secret,
        slug: body.org.slug,
        name: body.org.name,
        email: body.owner.email,
        personName: body.owner.name,
        password: body.owner.password,
        requestId,
      });
      // The link `paddock up` wrote for it is spent: not left on disk.
      rmSync(join(deps.config.home, SETUP_LINK_FILE), { force: true });
      setSessionCookie(c, deps.config, s);
      return { csrfToken: s.csrfToken, org: s.org };
    },
  }),
];
