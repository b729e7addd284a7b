/**
 * Test reporter that prints, at the end of a run, the test files that took longest: when CI is
 * slow, its tail says where the time went.
 */
interface TestEvent {
  type: string;
  data: { nesting?: number; file?: string; details?: { duration_ms?: number } };
}

export default async function* slowest(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const perFile = new Map<string, number>();
  for await (const ev of source) {
    if ((ev.type === 'test:pass' || ev.type === 'test:fail') && ev.data.nesting === 0 && ev.data.file) {
      const file = ev.data.file.replace(`${process.cwd()}/`, '');
      perFile.set(file, (perFile.get(file) ?? 0) + (ev.data.details?.duration_ms ?? 0));
    }
  }
  const top = [...perFile].sort((a, b) => b[1] - a[1]).slice(0, 8);
  yield '\nslowest test files:\n';
  for (const [file, ms] of top) yield `  ${(ms / 1000).toFixed(1).padStart(7)} s  ${file}\n`;
}
