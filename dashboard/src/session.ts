/** Where to go once signed in, and where to go when not. */
import { api, isSessionEnded } from './api/index.ts';
import { navigate } from './router.tsx';

/** After signing in: the first organization, or the home page that explains there is none. */
export async function enterApp(): Promise<void> {
  const orgs = await api.orgs();
  const first = orgs[0];
  navigate(first ? `/orgs/${encodeURIComponent(first.slug)}` : '/', { replace: true });
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
