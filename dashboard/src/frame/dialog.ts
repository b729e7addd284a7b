/**
 * A native modal <dialog> shown while `open`: the browser makes the rest of the page inert and
 * closes it on Escape; on close, focus goes back to what had it before (or to the page's main).
 */
import { type RefObject, useEffect, useRef } from 'react';

export function useModal(
  ref: RefObject<HTMLDialogElement | null>,
  open: boolean,
  onClosed: () => void,
): void {
  const returnTo = useRef<Element | null>(null);
  const closedRef = useRef(onClosed);
  closedRef.current = onClosed;
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    const closed = () => {
      closedRef.current();
      const back = returnTo.current;
      returnTo.current = null;
      // The browser may have given focus back already, or the page the dialog led to taken it: keep that.
      const now = document.activeElement;
      if (now && now !== document.body && !d.contains(now)) return;
      if (back instanceof HTMLElement && back.isConnected && back !== document.body) back.focus();
      else document.querySelector<HTMLElement>('main')?.focus();
    };
    d.addEventListener('close', closed);
    return () => d.removeEventListener('close', closed);
  }, [ref]);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      returnTo.current = document.activeElement;
      d.showModal();
    } else if (!open && d.open) d.close();
  }, [ref, open]);
}
