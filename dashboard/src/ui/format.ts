/** Times, dates and Unix seconds in the browser's locale ("—" when unset). */

const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

export function formatTime(iso: string | null | undefined, empty = '—'): string {
  if (!iso) return empty;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : TIME.format(d);
}

export function formatDate(iso: string | null | undefined, empty = '—'): string {
  if (!iso) return empty;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : DATE.format(d);
}

/** Unix seconds as a local time ("—" when unset). */
export function formatUnix(seconds: number | null | undefined, empty = '—'): string {
  return seconds === null || seconds === undefined
    ? empty
    : formatTime(new Date(seconds * 1000).toISOString());
}

const SECONDS = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** A time to the second in the viewer's zone ("—" when unset). */
export function formatSeconds(iso: string | null | undefined, empty = '—'): string {
  if (!iso) return empty;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : SECONDS.format(d);
}

const DAY = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const WALL_CLOCK = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

/** The day of a time in the viewer's zone ("Dec 6, 2026"). */
export function formatDay(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : DAY.format(d);
}

/** The time of day to the second in the viewer's zone ("8:50:05 PM"); empty for a bad time. */
export function formatWallClock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : WALL_CLOCK.format(d);
}

/** The same time in UTC, as ISO-8601 to the second ("2026-05-04 12:03:09 UTC"). */
export function formatUtc(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
