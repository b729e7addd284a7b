/**
 * The built dashboard the end-to-end suites serve, rebuilt when any of its sources is newer than
 * the build: a suite run after an edit without `npm run build:dashboard` would otherwise test the
 * old code (how a chart fix once seemed to "not take effect").
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILT = join(ROOT, 'dashboard/dist/index.html');
/** What the build is made of (besides node_modules, which a reinstall marks by package-lock.json). */
const SOURCES = [
  'dashboard/src',
  'dashboard/public',
  'dashboard/index.html',
  'dashboard/vite.config.ts',
  'package-lock.json',
];

/** The newest modification time under `path` (a file or a folder), in ms. */
function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let max = 0;
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

/** Whether dashboard/dist is missing or older than a source of it. */
export function dashboardStale(): boolean {
  if (!existsSync(BUILT)) return true;
  const built = statSync(BUILT).mtimeMs;
  return SOURCES.some((p) => newest(join(ROOT, p)) > built);
}

/**
 * Builds the dashboard (vite) when it is missing or stale (run alone; under `npm test` the
 * runner has built it); fails with vite's output.
 */
export function ensureDashboardBuilt(): void {
  // The test runner built it before starting the suites side by side: a rebuild now would empty
  // dist/ under the others' servers.
  if (process.env.PADDOCK_DASHBOARD_BUILT === '1' || !dashboardStale()) return;
  const built = spawnSync(
    join(ROOT, 'node_modules/.bin/vite'),
    ['build', '--config', 'dashboard/vite.config.ts', '--logLevel', 'warn'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.equal(built.status, 0, `vite build failed:\n${built.stdout}\n${built.stderr}`);
}
