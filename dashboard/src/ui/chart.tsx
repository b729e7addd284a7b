/**
 * A small chart over time (uPlot: one dependency-free package, about 50 kB, drawn on a canvas).
 * The figures are also in a visually hidden table, for screen readers and for tests.
 */
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { timeRange } from './chart-range.ts';

export interface ChartSeries {
  label: string;
  values: number[];
  /** A CSS colour. */
  color: string;
}

/** A colour of the page's scheme (light or dark), for what the canvas draws itself. */
function cssColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || 'currentColor';
}

/** Whether the system asks for dark colours, followed as it changes. */
function useDark(): boolean {
  const [query] = useState(() =>
    typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null,
  );
  const [dark, setDark] = useState(query?.matches ?? false);
  useEffect(() => {
    if (!query) return;
    const change = () => setDark(query.matches);
    query.addEventListener('change', change);
    return () => query.removeEventListener('change', change);
  }, [query]);
  return dark;
}

/** The y-axis steps of a chart of counts. */
const COUNT_STEPS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 1e6, 1e7,
];

/** A time range widened by half the step between points (or half an hour) on each side. */
function padded([min, max]: [number, number], xs: readonly number[]): [number, number] {
  const step = xs.length > 1 ? Math.abs((xs[1] ?? 0) - (xs[0] ?? 0)) : 3600;
  return [min - step / 2, max + step / 2];
}

export function TimeChart({
  title,
  times,
  series,
  height = 160,
  bars = false,
}: {
  title: string;
  /** Each point's time, as ISO strings. */
  times: string[];
  series: ChartSeries[];
  height?: number;
  /** Bars (counts per bucket) rather than lines. */
  bars?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  // Drawn again only when the figures change, not on every render of the page.
  const dark = useDark();
  const figures = JSON.stringify([times, series, height, bars, dark]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `figures` stands for the props it is made of.
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const xs = times.map((t) => Date.parse(t) / 1000);
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        // From the points, not uPlot's own widening (chart-range.ts says why).
        // Bars sit on their instants: half a bucket of room each side, so the first and last show whole.
        x: { time: true, range: () => (bars ? padded(timeRange(xs), xs) : timeRange(xs)) },
        y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
      },
      hooks: {
        // The time axis's labels as drawn, for tests (the canvas holds no text to read).
        draw: [
          (u) => {
            const labels = (u.axes[0] as { _values?: unknown[] | null })._values ?? [];
            el.dataset.xTicks = labels.map(String).join(' | ');
          },
        ],
      },
      // Axis labels and grid in the page's colours (the canvas does not read CSS by itself).
      axes: [
        {
          stroke: cssColor('--muted'),
          grid: { stroke: cssColor('--border') },
          ticks: { stroke: cssColor('--border') },
        },
        {
          size: 44,
          // Bars are counts: whole-number steps only (no 0.5 of a call).
          ...(bars ? { incrs: COUNT_STEPS } : {}),
          stroke: cssColor('--muted'),
          grid: { stroke: cssColor('--border') },
          ticks: { stroke: cssColor('--border') },
        },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          fill: bars ? s.color : undefined,
          width: 2,
          ...(bars ? { paths: uPlot.paths.bars?.({ size: [0.6, 24] }), points: { show: false } } : {}),
        })),
      ],
    };
    const plot = new uPlot(opts, [xs, ...series.map((s) => s.values)], el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(240, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [figures]);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} className="chart-plot" aria-hidden="true" />
      {/* Hidden by its box: a table is as wide as its figures whatever its own width says. */}
      <div className="sr-only">
        <table aria-label={title}>
          <thead>
            <tr>
              <th scope="col">Time</th>
              {series.map((s) => (
                <th scope="col" key={s.label}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {times.map((t, i) => (
              <tr key={t}>
                <td>{t}</td>
                {series.map((s) => (
                  <td key={s.label}>{s.values[i]}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
