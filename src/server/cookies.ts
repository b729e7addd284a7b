/**
 * The dashboard's cookies, HttpOnly, SameSite=Lax, Secure when served over https: the session,
 * and a single sign-on's state while the browser is at the identity provider.
 */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Config } from '../config/index.ts';
import { SESSION_COOKIE, SSO_CALLBACK_PATH } from '../identity/index.ts';

const SSO_STATE_COOKIE = 'paddock_sso_state';

export function setSessionCookie(
  c: Context,
  config: Config,
  session: { secret: string; expiresAt: string },
): void {
  setCookie(c, SESSION_COOKIE, session.secret, {
    httpOnly: true,
    sameSite: 'Lax',
    secure: config.publicUrl.startsWith('https:'),
    path: '/',
    expires: new Date(session.expiresAt),
  });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/' });
}

/** Keeps a sign-in's state in this browser, sent back with the provider's redirect (a top-level GET). */
export function keepSsoState(
  c: Context,
  config: Config,
  started: { state: string; maxAgeSeconds: number },
): void {
  setCookie(c, SSO_STATE_COOKIE, started.state, {
    httpOnly: true,
    sameSite: 'Lax',
    secure: config.publicUrl.startsWith('https:'),
    path: SSO_CALLBACK_PATH,
    maxAge: started.maxAgeSeconds,
  });
}

/** The sign-in state this browser kept, once: the cookie is cleared as it is read. */
export function takeSsoState(c: Context): string | undefined {
  const kept = getCookie(c, SSO_STATE_COOKIE);
  if (kept !== undefined) deleteCookie(c, SSO_STATE_COOKIE, { path: SSO_CALLBACK_PATH });
  return kept;
}
