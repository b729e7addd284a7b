/** Loading a page's data, again after a change, afresh for a new key. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage, isSessionEnded } from '../api/index.ts';
import { navigate } from '../router.tsx';

/** Loads data for a page; `reload` fetches it again after a change; a new `key` loads afresh. */
export function useLoad<T>(
  load: () => Promise<T>,
  key: string,
): { data: T | undefined; error: string | null; reload: () => Promise<void> } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  const generation = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const value = await loadRef.current();
      if (mine !== generation.current) return;
      setData(value);
      setError(null);
    } catch (err) {
      if (mine !== generation.current) return;
      if (isSessionEnded(err)) navigate('/signin', { replace: true });
      else setError(errorMessage(err));
    }
  }, []);
  // `key` names what the load depends on (the org slug): a new key loads afresh.
  // biome-ignore lint/correctness/useExhaustiveDependencies: key is the trigger, not a value read here.
  useEffect(() => {
    setData(undefined);
    void reload();
  }, [key, reload]);
  return { data, error, reload };
}
