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
