/**
 * `?show={id}` in a page's address (the palette's way to a connection or a person): once the row
 * marked `data-item-id={id}` appears, it is scrolled to, marked and given focus.
 */
import { useEffect } from 'react';
import { useLocation } from '../router.tsx';

/** How long the row is awaited (the page loads its list first). */
const WAIT_MS = 10_000;

export function useShowItem(): void {
  const id = new URLSearchParams(useLocation().search).get('show');
  useEffect(() => {
    if (!id) return;
    const find = () => document.querySelector<HTMLElement>(`[data-item-id="${CSS.escape(id)}"]`);
    const show = (el: HTMLElement) => {
      for (const old of document.querySelectorAll('.item-shown')) old.classList.remove('item-shown');
      el.classList.add('item-shown');
      el.tabIndex = -1;
      el.focus({ preventScroll: true });
      el.scrollIntoView({ block: 'center' });
    };
    const now = find();
    if (now) {
      show(now);
      return;
    }
    const watch = new MutationObserver(() => {
      const el = find();
      if (!el) return;
      stop();
      show(el);
    });
    const timer = setTimeout(() => stop(), WAIT_MS);
    const stop = () => {
      watch.disconnect();
      clearTimeout(timer);
    };
    watch.observe(document.body, { childList: true, subtree: true });
    return stop;
  }, [id]);
}
