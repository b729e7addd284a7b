/** A moment as people read it: to the second in their own zone, UTC on hover (and for machines). */
import { formatSeconds, formatUtc } from './format.ts';

export function When({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={formatUtc(iso)}>
      {formatSeconds(iso)}
    </time>
  );
}
