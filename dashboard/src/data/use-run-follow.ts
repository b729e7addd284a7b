/**
 * A run followed to its end. The continuation after an approval runs in the background and does
 * not stream: the run is read again until it ends.
 */
import { useEffect, useState } from 'react';
import { api, errorMessage, type Run, runEnded } from '../api/index.ts';

/**
 * The run as last read: `run` (as streamed) until a read brings news. While `everyMs` is set and
 * the run has not ended, it is read again every `everyMs`.
 */
export function useRunFollow(
  slug: string,
  run: Run | null,
  everyMs: number | null,
): { run: Run | null; error: string | null } {
  const [read, setRead] = useState<Run | null>(null);
  const [error, setError] = useState<string | null>(null);
  const current = read && read.id === run?.id ? read : run;
  const id = current?.id;
  const ended = !current || runEnded(current.status);
  useEffect(() => {
    if (!id || ended || everyMs === null) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout>;
    const tick = async () => {
      try {
        const r = await api.run(slug, id);
        if (!live) return;
        setRead(r.run);
        setError(null);
      } catch (err) {
        if (live) setError(errorMessage(err));
      }
      if (live) timer = setTimeout(tick, everyMs);
    };
    timer = setTimeout(tick, everyMs);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [slug, id, ended, everyMs]);
  return { run: current, error };
}
