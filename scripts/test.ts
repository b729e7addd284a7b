/**
 * `npm test`: lint and format check, strict type-check, then every test (`*.test.ts`) with
 * node's test runner, storage tests on both SQLite and a throwaway PostgreSQL.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startThrowawayPostgres, type ThrowawayPostgres } from './postgres.ts';

const step = (title: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) => {
  process.stdout.write(`\n== ${title}\n`);
  return spawnSync(cmd, args, { stdio: 'inherit', env }).status === 0;
};

let ok = step('lint and format (biome)', 'biome', ['check', '--error-on-warnings', '.']);
ok = step('type-check (tsc, strict)', 'tsc', ['-p', 'tsconfig.json']) && ok;
if (!existsSync('dashboard/dist/index.html')) {
  ok =
    step('build dashboard (vite)', 'vite', [
      'build',
      '--config',
      'dashboard/vite.config.ts',
      '--logLevel',
      'warn',
    ]) && ok;
}

let pg: ThrowawayPostgres | undefined;
const env = { ...process.env };
if (!env.PADDOCK_TEST_DATABASE_URL) {
  try {
    pg = await startThrowawayPostgres();
    env.PADDOCK_TEST_DATABASE_URL = pg.url;
    process.stdout.write(`\n== PostgreSQL for tests at ${pg.url}\n`);
  } catch (err) {
    // The PostgreSQL variants of the storage tests then fail, each saying what is missing.
    process.stdout.write(`\n== PostgreSQL not started: ${(err as Error).message}\n`);
  }
}

const files = process.argv.slice(2);
const patterns = files.length
  ? files
  : ['src/**/*.test.ts', 'dashboard/**/*.test.ts', 'scripts/**/*.test.ts'];
try {
  ok =
    step(
      'tests (node --test)',
      'node',
      ['--test', '--test-concurrency=2', '--test-timeout=120000', ...patterns],
      env,
    ) && ok;
} finally {
  pg?.stop();
}
process.exit(ok ? 0 : 1);
