/**
 * A native modal <dialog> shown while `open`: the browser makes the rest of the page inert and
 * closes it on Escape; on close, focus goes back to what had it before (or to the page's main),
 * unless `toPage()` says the dialog led to another page: then focus starts on that page's main.
 */
import { type RefObject, useEffect, useRef } from 'react';

export function useModal(
  ref: RefObject<HTMLDialogElement | null>,
  open: boolean,
  onClosed: () => void,
  toPage: () => boolean = () => false,
): void {
  const returnTo = useRef<Element | null>(null);
  const closedRef = useRef(onClosed);
  closedRef.current = onClosed;
  const toPageRef = useRef(toPage);
  toPageRef.current = toPage;
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    // Escape closes the dialog at once but its close event comes a task later: the overlay is let go
    // now, so a shortcut pressed in between opens it again instead of being undone by that event.
    let cancelled = false;
    const cancel = () => {
      cancelled = true;
      closedRef.current();
    };
    const closed = () => {
      const handled = cancelled;
      cancelled = false;
      // Opened again before this event came: that is a new opening, not this close.
      if (d.open) return;
      if (!handled) closedRef.current();
      const back = returnTo.current;
      returnTo.current = null;
      const now = document.activeElement;
      // The browser gives focus back to the opener on close: after a jump, the new page's main has it.
      if (toPageRef.current()) {
        const main = document.querySelector<HTMLElement>('main');
        if (main && !main.contains(now)) main.focus();
        return;
      }
      // The browser may have given focus back already, or the page the dialog led to taken it: keep that.
      if (now && now !== document.body && !d.contains(now)) return;
      if (back instanceof HTMLElement && back.isConnected && back !== document.body) back.focus();
      else document.querySelector<HTMLElement>('main')?.focus();
    };
    d.addEventListener('cancel', cancel);
    d.addEventListener('close', closed);
    return () => {
      d.removeEventListener('cancel', cancel);
      d.removeEventListener('close', closed);
    };
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
