/**
 * A run's continuation once a person decided what it waited for, streamed as it goes: the chat
 * follows the run (`GET …/runs/{run}/stream`) after each decision made in it, so the rest of the
 * answer streams in as the first part did.
 */
import { useEffect, useState } from 'react';
import { api, errorMessage, followRun, type RunMessage } from '../api/index.ts';

/** The continuation as streamed so far (null until it starts), followed again after each decision. */
export function useRunContinuation(
  slug: string,
  runId: string | undefined,
  decisions: number,
): { message: RunMessage | null; error: string | null } {
  const [message, setMessage] = useState<RunMessage | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!runId || decisions === 0) return;
    const stop = new AbortController();
    followRun(api.runStreamEndpoint(slug, runId), runId, setMessage, stop.signal).catch((err: unknown) => {
      if (!stop.signal.aborted) setError(errorMessage(err));
    });
    return () => stop.abort();
  }, [slug, runId, decisions]);
  return { message, error };
}
