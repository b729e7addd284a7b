/** `/`: sends you to your first organization, to sign-in, or to first-run setup. */
import { useEffect, useState } from 'react';
import { api, errorMessage } from '../api/index.ts';
import { navigate } from '../router.tsx';
import { leaveApp } from '../session.ts';
import { Alert, AuthShell, Loading } from '../ui/index.ts';

export function HomePage() {
  const [state, setState] = useState<'loading' | 'no-orgs'>('loading');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    (async () => {
      try {
        await api.session();
        const orgs = await api.orgs();
        if (!live) return;
        const first = orgs[0];
        if (first) navigate(`/orgs/${encodeURIComponent(first.slug)}`, { replace: true });
        else setState('no-orgs');
      } catch (err) {
        if (live && !(await leaveApp(err))) setError(errorMessage(err));
      }
    })();
    return () => {
      live = false;
    };
  }, []);

  if (state === 'loading') {
    return (
      <div className="app-loading">{error ? <Alert message={error} /> : <Loading what="Paddock" />}</div>
    );
  }
  return (
    <AuthShell title="No organizations yet">
      <p>You are signed in but do not belong to any organization. Ask an owner or admin for an invitation.</p>
      <button
        type="button"
        className="btn btn-secondary"
        onClick={async () => {
          try {
            await api.signOut();
          } catch {
            // Already signed out.
          }
          navigate('/signin', { replace: true });
        }}
      >
        Sign out
      </button>
    </AuthShell>
  );
}
