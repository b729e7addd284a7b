/** Running an API action from a form or button: busy state, failure message, ended sessions. */
import { useCallback, useState } from 'react';
import { errorMessage, isSessionEnded } from '../api/index.ts';
import { navigate } from '../router.tsx';

/**
 * Runs an API action for a form or button: tracks busy state and turns failures into the
 * message shown in the page's alert. A session that ended sends the browser to sign-in.
 */
export function useAction(): {
  busy: boolean;
  error: string | null;
  setError: (e: string | null) => void;
  run: (fn: () => Promise<void>) => Promise<boolean>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      return true;
    } catch (err) {
      if (isSessionEnded(err) && location.pathname.startsWith('/orgs/')) {
        navigate('/signin', { replace: true });
        return false;
      }
      setError(errorMessage(err));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}
