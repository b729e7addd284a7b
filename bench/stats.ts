/** Figures every benchmark prints: median and p99 of samples in microseconds, and ratios. */
export interface Figures {
  name: string;
  n: number;
  medianUs: number;
  p99Us: number;
}

export function figures(name: string, samplesNs: number[]): Figures {
  const s = [...samplesNs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]! / 1000;
  return { name, n: s.length, medianUs: at(0.5), p99Us: at(0.99) };
}

export async function sample(n: number, fn: () => unknown): Promise<number[]> {
  for (let i = 0; i < Math.min(200, n); i++) await fn(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t0));
  }
  return out;
}

export function report(rows: Figures[], baseline?: Figures): void {
  for (const r of rows) {
    const ratio =
      baseline && r !== baseline ? `  ×${(r.medianUs / baseline.medianUs).toFixed(1)} of baseline` : '';
    console.log(
      `${r.name.padEnd(56)} n=${String(r.n).padEnd(6)} median ${r.medianUs.toFixed(1).padStart(8)} µs   p99 ${r.p99Us.toFixed(1).padStart(8)} µs${ratio}`,
    );
  }
}

/** Peak resident memory while `fn` runs (sampled every 20 ms), and its time. */
export async function measured<T>(fn: () => Promise<T>): Promise<{ value: T; s: number; peakMiB: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const t0 = performance.now();
  try {
    const value = await fn();
    return { value, s: (performance.now() - t0) / 1000, peakMiB: Math.round(peak / 2 ** 20) };
  } finally {
    clearInterval(timer);
  }
}
