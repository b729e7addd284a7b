/** Which of the frame's dialogs is open (one at a time): the command palette or the shortcuts list. */
import { useSyncExternalStore } from 'react';

export type Overlay = 'palette' | 'shortcuts' | null;

let current: Overlay = null;
const listeners = new Set<() => void>();

export function setOverlay(next: Overlay): void {
  if (next === current) return;
  current = next;
  for (const l of listeners) l();
}

export function useOverlay(): Overlay {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => current,
  );
}
