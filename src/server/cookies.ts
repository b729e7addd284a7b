/** The dashboard's session cookie: HttpOnly, SameSite=Lax, Secure when served over https. */
import type { Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import type { Config } from '../config/index.ts';
import { SESSION_COOKIE } from '../identity/index.ts';

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
