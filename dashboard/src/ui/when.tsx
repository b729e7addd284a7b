/** A moment as people read it: to the second in their own zone, UTC on hover (and for machines). */
import { Fragment } from 'react';
import { formatDay, formatSeconds, formatUtc, formatWallClock } from './format.ts';

/** `wrap`: the day and the time may sit on two lines (a narrow table column), each kept whole. */
export function When({ iso, wrap = false }: { iso: string; wrap?: boolean }) {
  return (
    <time dateTime={iso} title={formatUtc(iso)}>
      {wrap ? (
        <Fragment>
          <span className="nowrap">{formatDay(iso)}</span>{' '}
          <span className="nowrap">{formatWallClock(iso)}</span>
        </Fragment>
      ) : (
        formatSeconds(iso)
      )}
    </time>
  );
}

/** Text that may break only after each of `after` (an action after its dots, a tool after its slash). */
export function Breakable({ text, after }: { text: string; after: string }) {
  const parts = text.split(after);
  return (
    <>
      {parts.map((p, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one fixed text, in order
        <Fragment key={i}>
          {p}
          {i < parts.length - 1 ? (
            <>
              {after}
              <wbr />
            </>
          ) : null}
        </Fragment>
      ))}
    </>
  );
}
