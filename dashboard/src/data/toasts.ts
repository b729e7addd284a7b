/**
 * Toasts: short notes of results that happen out of sight (a call decided by someone else, a save
 * done, a failure in the background). Anything may `toast`; the frame shows them (`useToasts`).
 */
import { useSyncExternalStore } from 'react';

export type ToastKind = 'info' | 'success' | 'error';

export interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
}

/** How long a toast stays (an error stays until dismissed: it may need acting on). */
const SHOWN_MS = 6000;
/** More than this many at once and the oldest goes. */
const MAX = 4;

let toasts: readonly Toast[] = [];
let next = 1;
const listeners = new Set<() => void>();

function set(list: readonly Toast[]): void {
  toasts = list;
  for (const l of listeners) l();
}

export function dismissToast(id: number): void {
  set(toasts.filter((t) => t.id !== id));
}

/** Shows `message`; the same message already showing is not shown twice. */
export function toast(message: string, kind: ToastKind = 'info'): void {
  if (toasts.some((t) => t.message === message && t.kind === kind)) return;
  const id = next++;
  set([...toasts, { id, kind, message }].slice(-MAX));
  if (kind !== 'error') setTimeout(() => dismissToast(id), SHOWN_MS);
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** The toasts showing now, oldest first. */
export function useToasts(): readonly Toast[] {
  return useSyncExternalStore(subscribe, () => toasts);
}
