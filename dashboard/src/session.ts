/** Where to go once signed in, and where to go when not. */
import { api, isSessionEnded } from './api/index.ts';
import { navigate } from './router.tsx';

/** After signing in: the first organization, or the home page that explains there is none. */
export async function enterApp(): Promise<void> {
  const orgs = await api.orgs();
  const first = orgs[0];
  navigate(first ? `/orgs/${encodeURIComponent(first.slug)}` : '/', { replace: true });
}

/**
 * Signing in on the way to an MCP client's consent page (`/signin?next=/oauth/authorize?…`): back
 * there, and nowhere else (a same-origin path of that one page, never another site).
 */
export function oauthReturn(search: string): string | null {
  const next = new URLSearchParams(search).get('next');
  return next?.startsWith('/oauth/authorize?') ? next : null;
}

/** Not signed in: first-run setup while no organization exists, sign-in otherwise. */
export async function leaveApp(err: unknown): Promise<boolean> {
  if (!isSessionEnded(err)) return false;
  let needed = false;
  try {
    needed = (await api.setupNeeded()).needed;
  } catch {
    needed = false;
  }
  navigate(needed ? '/setup' : '/signin', { replace: true });
  return true;
}
