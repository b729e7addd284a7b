/**
 * `npm test`: the system packages the suite needs (installed when missing, or a stop saying how),
 * lint and format check, strict type-check, then every test (`*.test.ts`) with node's test
 * runner, storage tests on both SQLite and a throwaway PostgreSQL.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { dashboardStale } from '../dashboard/e2e-build.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from './postgres.ts';
import { ensureSystemPackages } from './system-packages.ts';

// First, so a fresh machine learns at once what it lacks rather than from failing tests.
const stopped = ensureSystemPackages();
if (stopped) {
  process.stderr.write(`\n${stopped}`);
  process.exit(1);
}

const step = (title: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) => {
  process.stdout.write(`\n== ${title}\n`);
  return spawnSync(cmd, args, { stdio: 'inherit', env }).status === 0;
};

let ok = step('lint and format (biome)', 'biome', ['check', '--error-on-warnings', '.']);
ok = step('type-check (tsc, strict)', 'tsc', ['-p', 'tsconfig.json']) && ok;
// Built afresh when a source is newer than the build: the end-to-end suites test what is built.
if (dashboardStale()) {
  ok =
    step('build dashboard (vite)', 'vite', [
      'build',
      '--config',
      'dashboard/vite.config.ts',
      '--logLevel',
      'warn',
    ]) && ok;
}

// Test scratch data (homes, SQLite files, the PostgreSQL cluster) lives on tmpfs when the host
// has one, so the suite's speed does not hang on the disk's fsync; a kill -9 keeps the page cache
// either way, so durability tests mean the same. Benchmarks run on the real disk.
const env = { ...process.env };
// Built above: the end-to-end suites, running side by side, must not rebuild it under each other.
env.PADDOCK_DASHBOARD_BUILT = '1';
let scratch: string | undefined;
if (!env.PADDOCK_TEST_ON_DISK && existsSync('/dev/shm')) {
  try {
    scratch = mkdtempSync('/dev/shm/paddock-test-');
    chmodSync(scratch, 0o1777);
    env.TMPDIR = scratch;
  } catch {
    scratch = undefined;
  }
}

let pg: ThrowawayPostgres | undefined;
if (!env.PADDOCK_TEST_DATABASE_URL) {
  try {
    pg = await startThrowawayPostgres(scratch);
    env.PADDOCK_TEST_DATABASE_URL = pg.url;
    process.stdout.write(`\n== PostgreSQL for tests at ${pg.url}\n`);
  } catch (err) {
    // The PostgreSQL variants of the storage tests then fail, each saying what is missing.
    process.stdout.write(`\n== PostgreSQL not started: ${(err as Error).message}\n`);
  }
}

// A whole run past this is a hang (a leaked process or handle), not a slow machine.
const WATCHDOG_MS = 20 * 60_000;

function runTests(patterns: string[]): Promise<boolean> {
  process.stdout.write('\n== tests (node --test)\n');
  const child = spawn(
    'node',
    [
      '--test',
      '--test-concurrency=2',
      '--test-timeout=120000',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=./scripts/slowest-reporter.ts',
      '--test-reporter-destination=stdout',
      ...patterns,
    ],
    { stdio: 'inherit', env, detached: true },
  );
  const stopAll = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
  };
  const watchdog = setTimeout(() => {
    process.stdout.write(`\n== tests still running after ${WATCHDOG_MS / 60_000} min: stopped as hung\n`);
    stopAll();
  }, WATCHDOG_MS);
  process.once('SIGINT', stopAll);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(watchdog);
      resolve(code === 0);
    });
  });
}

const files = process.argv.slice(2);
const patterns = files.length
  ? files
  : ['src/**/*.test.ts', 'dashboard/**/*.test.ts', 'scripts/**/*.test.ts', 'bin/**/*.test.ts'];
try {
  ok = (await runTests(patterns)) && ok;
} finally {
  pg?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
