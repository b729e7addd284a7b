/**
 * The org's live updates (`GET …/live`) as the browser's EventSource reads them: it reconnects by
 * itself after a dropped or ended stream (the server ends each after some minutes, so access is
 * checked afresh); `onOpen` and `onLost` say whether events are flowing.
 */
import type { LiveEvent } from './wire.ts';

const TOPICS: readonly LiveEvent['type'][] = ['approvals', 'agents', 'runs', 'cell', 'activity'];

export interface LiveHandlers {
  onEvent: (event: LiveEvent) => void;
  onOpen?: () => void;
  onLost?: () => void;
}

/** Opens the org's live stream; the returned function closes it. */
export function openLive(slug: string, h: LiveHandlers): () => void {
  const source = new EventSource(`/api/v1/orgs/${encodeURIComponent(slug)}/live`);
  for (const type of TOPICS) {
    source.addEventListener(type, (m) => {
      try {
        h.onEvent({ type, data: JSON.parse((m as MessageEvent<string>).data) } as LiveEvent);
      } catch {
        // A malformed event is skipped; the next one carries the whole state of its topic.
      }
    });
  }
  source.onopen = () => h.onOpen?.();
  source.onerror = () => h.onLost?.();
  return () => source.close();
}
