/**
 * The dashboard's cookies, HttpOnly, SameSite=Lax, Secure when served over https: the session,
 * and a single sign-on's state while the browser is at the identity provider.
 */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Config } from '../config/index.ts';
import { SESSION_COOKIE, SSO_CALLBACK_PATH } from '../identity/index.ts';

const SSO_STATE_COOKIE = 'paddock_sso_state';

/** What every cookie of the dashboard is: out of scripts' reach, not sent cross-site, https-only on https. */
const guarded = (config: Config) =>
  ({ httpOnly: true, sameSite: 'Lax', secure: config.publicUrl.startsWith('https:') }) as const;

export function setSessionCookie(
  c: Context,
  config: Config,
  session: { secret: string; expiresAt: string },
): void {
  setCookie(c, SESSION_COOKIE, session.secret, {
    ...guarded(config),
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
    ...guarded(config),
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
