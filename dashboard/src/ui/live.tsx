/**
 * The frame's live parts: how many calls wait (sidebar), the tab title with that count, and
 * a countdown of the time a call has left to be decided.
 */
import { useEffect } from 'react';
import { stillWaiting, useLive, useNow } from '../data/index.ts';

/** The number of calls waiting for a person, beside the Approvals link (nothing when none). */
export function PendingCount() {
  const { pending } = useLive();
  const n = stillWaiting(pending, useNow()).length;
  if (n === 0) return null;
  return (
    <span className="nav-count" data-testid="pending-count">
      {n}
      <span className="sr-only"> waiting</span>
    </span>
  );
}

/** Sets the tab's title, led by the count of calls waiting ("(2) Approvals · Acme · Paddock"). */
export function LiveTitle({ title }: { title: string }) {
  const { pending } = useLive();
  const n = stillWaiting(pending, useNow()).length;
  useEffect(() => {
    document.title = n > 0 ? `(${n}) ${title}` : title;
  }, [n, title]);
  return null;
}

function minutesSeconds(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** "4:59 left", ticking; "Expired" once past. */
export function TimeLeft({ until }: { until: string }) {
  const left = Date.parse(until) - useNow();
  if (left <= 0) return <span className="time-left expired">Expired</span>;
  return (
    <span className={left < 60_000 ? 'time-left soon' : 'time-left'} data-testid="time-left">
      {minutesSeconds(left)} left
    </span>
  );
}
