/**
 * Run inside a cell's sandbox (by the tests, and by the sandbox self-test of every evidence
 * collection, `self-test.ts`): tries what a compromised cell would try and prints what
 * happened, as JSON. Arguments: paths that must be unreadable, then `--connect HOST:PORT`.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';

const results: Record<string, string> = {};
const attempt = (name: string, fn: () => unknown) => {
  try {
    const v = fn();
    results[name] = `ALLOWED ${String(v).slice(0, 40)}`;
  } catch (err) {
    results[name] = `refused ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
};

const args = process.argv.slice(2);
const connectAt = args.indexOf('--connect');
const targets = connectAt >= 0 ? args.slice(connectAt + 1) : [];
for (const path of connectAt >= 0 ? args.slice(0, connectAt) : args)
  attempt(`read ${path}`, () => readFileSync(path, 'utf8'));
attempt('write /usr', () => writeFileSync('/usr/paddock-probe', 'x'));
attempt('write own /cell', () => writeFileSync('/cell/probe.txt', 'ok'));
results.processes = readdirSync('/proc')
  .filter((d) => /^\d+$/.test(d))
  .join(',');
results.env = Object.keys(process.env).sort().join(',');

// `--via-proxy HOST:PORT` (last argument): ask the egress proxy socket for a tunnel there.
const viaAt = process.argv.indexOf('--via-proxy');
const via = viaAt >= 0 ? process.argv[viaAt + 1] : undefined;
const direct = targets.includes('--via-proxy') ? targets.slice(0, targets.indexOf('--via-proxy')) : targets;

let pending = direct.length + (via ? 1 : 0);
const done = () => {
  if (--pending <= 0) process.stdout.write(`${JSON.stringify(results)}\n`);
};
if (pending === 0) process.stdout.write(`${JSON.stringify(results)}\n`);
if (via) {
  const s = connect({ path: '/run/paddock/egress.sock' });
  s.on('connect', () => s.write(`CONNECT ${via} HTTP/1.1\r\nhost: ${via}\r\n\r\n`));
  s.once('data', (d) => {
    results[`proxy ${via}`] = String(d).split('\r\n')[0]!;
    s.destroy();
    done();
  });
  s.on('error', (e: NodeJS.ErrnoException) => {
    results[`proxy ${via}`] = `refused ${e.code}`;
    done();
  });
}
for (const t of direct) {
  const [host, port] = t.split(':');
  const s = connect({ host: host!, port: Number(port) });
  s.setTimeout(2000);
  s.on('connect', () => {
    results[`connect ${t}`] = 'ALLOWED';
    s.destroy();
    done();
  });
  s.on('error', (e: NodeJS.ErrnoException) => {
    results[`connect ${t}`] = `refused ${e.code}`;
    done();
  });
  s.on('timeout', () => {
    results[`connect ${t}`] = 'refused timeout';
    s.destroy();
    done();
  });
}
