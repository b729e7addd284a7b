/** Client-side routing on the history API: no router dependency. */
import { type AnchorHTMLAttributes, type MouseEvent, useEffect, useState, useSyncExternalStore } from 'react';

const listeners = new Set<() => void>();

function emit(): void {
  for (const l of listeners) l();
}

window.addEventListener('popstate', emit);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.scrollTo(0, 0);
  emit();
}

/** The current path and query string (the fragment is read separately: it carries secrets). */
export function useLocation(): { pathname: string; search: string } {
  const href = useSyncExternalStore(subscribe, () => location.pathname + location.search);
  const url = new URL(href, location.origin);
  return { pathname: url.pathname, search: url.search };
}

const fragments = new Map<string, string>();

/**
 * The one-time secret in the URL fragment (`#...`) of this page. It is read once and then
 * dropped from the address bar and history so it does not linger after use.
 */
export function takeFragmentSecret(): string {
  const path = location.pathname;
  const hash = location.hash.replace(/^#/, '');
  if (hash) {
    fragments.set(path, decodeURIComponent(hash));
    history.replaceState(null, '', path + location.search);
  }
  return fragments.get(path) ?? '';
}

/** The page's fragment secret, updated when a new link is pasted into the same tab. */
export function useFragmentSecret(): string {
  const [secret, setSecret] = useState(takeFragmentSecret);
  useEffect(() => {
    const onHash = () => setSecret(takeFragmentSecret());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return secret;
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & { to: string };

export function Link({ to, onClick, ...rest }: LinkProps) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={handle} {...rest} />;
}
