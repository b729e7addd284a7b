/**
 * The org's live state for every page of it: one stream per open org (`LiveProvider`, in the
 * frame), read with `useLive`; `useLiveReload` loads a page's data again when a topic it shows
 * changed; `useNow` ticks for countdowns; `useApprovalAlerts` tells the browser's notifications
 * of a call that newly waits for this person.
 */
import { createContext, createElement, type ReactNode, useContext, useEffect, useRef, useState } from 'react';
import { type LiveApproval, type LiveCell, openLive } from '../api/index.ts';
import { navigate } from '../router.tsx';

export interface LiveState {
  /** Calls waiting for a person, as last heard; null before the first word (or for roles that read none). */
  pending: LiveApproval[] | null;
  /** Changes whenever an agent or the kill switch does. */
  agentsVersion: string | null;
  /** Changes whenever a run this person may read starts, waits, goes on or ends. */
  runsVersion: string | null;
  /** The org's cell as last heard; undefined before the first word (or for roles that read none). */
  cell: LiveCell | undefined;
  /** How many times the log grew since the page opened. */
  activity: number;
  /** Whether the stream is open now (else pages still work, on what they loaded). */
  connected: boolean;
}

const NONE: LiveState = {
  pending: null,
  agentsVersion: null,
  runsVersion: null,
  cell: undefined,
  activity: 0,
  connected: false,
};
const LiveContext = createContext<LiveState>(NONE);

/** Holds the org's stream open while mounted, and gives its state to the pages inside. */
export function LiveProvider({ slug, children }: { slug: string; children: ReactNode }) {
  const [state, setState] = useState<LiveState>(NONE);
  useEffect(() => {
    setState(NONE);
    return openLive(slug, {
      onOpen: () => setState((s) => ({ ...s, connected: true })),
      onLost: () => setState((s) => ({ ...s, connected: false })),
      onEvent: (e) =>
        setState((s) => {
          switch (e.type) {
            case 'approvals':
              return { ...s, pending: e.data.pending };
            case 'agents':
              return { ...s, agentsVersion: e.data.version };
            case 'runs':
              return { ...s, runsVersion: e.data.version };
            case 'cell':
              return { ...s, cell: e.data.cell };
            case 'activity':
              return { ...s, activity: s.activity + 1 };
          }
          return s;
        }),
    });
  }, [slug]);
  return createElement(LiveContext.Provider, { value: state }, children);
}

export function useLive(): LiveState {
  return useContext(LiveContext);
}

/** The current time, again every `ms` (for countdowns and for what expired meanwhile). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/** The calls still waiting (not yet expired) at `now`. */
export function stillWaiting(pending: LiveApproval[] | null, now: number): LiveApproval[] {
  return (pending ?? []).filter((a) => Date.parse(a.expiresAt) > now);
}

type Topic = 'approvals' | 'agents' | 'runs' | 'cell' | 'activity';

/** What a topic is now, or null before the stream's first word on it. */
function topicKey(s: LiveState, topic: Topic): string | null {
  switch (topic) {
    case 'approvals':
      return s.pending ? s.pending.map((a) => a.id).join(',') : null;
    case 'agents':
      return s.agentsVersion;
    case 'runs':
      return s.runsVersion;
    case 'cell':
      return s.cell === undefined ? null : JSON.stringify(s.cell);
    case 'activity':
      return String(s.activity);
  }
}

/**
 * Calls `reload` when any of `topics` changes after the page loaded (not on the stream's first
 * word, which tells what the page has just read itself); with `everyMs`, at most that often (a
 * change meanwhile is read at the end of the wait).
 */
export function useLiveReload(topics: Topic[], reload: () => unknown, everyMs = 0): void {
  const live = useLive();
  const keys = topics.map((t) => topicKey(live, t));
  const key = keys.every((k) => k !== null) ? keys.join('|') : null;
  const seen = useRef<string | null>(null);
  const reloadRef = useRef(reload);
  reloadRef.current = reload;
  const last = useRef(0);
  const owed = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    if (key === null) return;
    const before = seen.current;
    seen.current = key;
    if (before === null || before === key || owed.current) return;
    const wait = last.current + everyMs - Date.now();
    const go = () => {
      owed.current = null;
      last.current = Date.now();
      void reloadRef.current();
    };
    if (wait <= 0) go();
    else owed.current = setTimeout(go, wait);
  }, [key, everyMs]);
  useEffect(
    () => () => {
      if (owed.current) clearTimeout(owed.current);
    },
    [],
  );
}

/**
 * A browser notification for each call that newly waits for this person's decision (not their
 * own under the two-person rule), once they allowed notifications; clicking it opens the inbox.
 */
export function useApprovalAlerts(opts: {
  slug: string;
  meId: string;
  mayDecide: boolean;
  twoPeople: boolean;
}): void {
  const { pending } = useLive();
  const known = useRef<Set<string> | null>(null);
  const { slug, meId, mayDecide, twoPeople } = opts;
  useEffect(() => {
    if (pending === null) return;
    const before = known.current;
    known.current = new Set(pending.map((a) => a.id));
    // The first word is what already waited when the page opened: no alert for those.
    if (before === null || !mayDecide || typeof Notification === 'undefined') return;
    if (Notification.permission !== 'granted') return;
    for (const a of pending) {
      if (before.has(a.id) || (twoPeople && a.requestedBy === meId)) continue;
      const n = new Notification('A call waits for your approval', {
        body: `${a.tool}: approve or deny it in Paddock.`,
        tag: a.id,
      });
      n.onclick = () => {
        window.focus();
        navigate(`/orgs/${encodeURIComponent(slug)}/approvals`);
        n.close();
      };
    }
  }, [pending, slug, meId, mayDecide, twoPeople]);
}
