/**
 * The time axis's span for a chart's points. uPlot widens a span of one instant by itself, but by
 * 86,400 / `ms` seconds (1,000 days with its second-based default) and before any `range` option
 * sees it, so a chart of collections that all share one instant spanned years. The span is set
 * here from the points themselves instead.
 */

/** The narrowest span the axis shows (seconds): points closer than this sit in an hour's window. */
export const MIN_SPAN_S = 3600;

/** The axis's [min, max] in Unix seconds for points at `xs` (Unix seconds). */
export function timeRange(xs: readonly number[]): [number, number] {
  const finite = xs.filter(Number.isFinite);
  if (finite.length === 0) {
    const now = Math.floor(Date.now() / 1000);
    return [now - MIN_SPAN_S, now];
  }
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  if (max - min >= MIN_SPAN_S) return [min, max];
  const mid = (min + max) / 2;
  return [mid - MIN_SPAN_S / 2, mid + MIN_SPAN_S / 2];
}
