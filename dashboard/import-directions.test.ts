/**
 * The dashboard's import directions (biome.json: noRestrictedImports for dashboard/src) refuse
 * what docs/architecture.md says they refuse: each import below is linted, at its path, with the
 * repository's own biome.json, and exactly the forbidden ones are reported.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A file under dashboard/src, an import line in it, and whether the directions allow it. */
const CASES: { file: string; line: string; allowed: boolean }[] = [
  { file: 'pages/A.tsx', line: "import type { PageProps } from '../page.ts';", allowed: true },
  { file: 'pages/B.tsx', line: "import { Link, navigate } from '../router.tsx';", allowed: true },
  { file: 'pages/C.tsx', line: "import { Alert } from '../ui/index.ts';", allowed: true },
  { file: 'pages/D.tsx', line: "import { AgentForm } from './AgentForm.tsx';", allowed: true },
  { file: 'pages/E.tsx', line: "import type { PageProps } from '../Layout.tsx';", allowed: false },
  { file: 'pages/F.tsx', line: "import { useLocation } from '../router.tsx';", allowed: false },
  { file: 'pages/G.tsx', line: "import { Alert } from '../ui/alerts.tsx';", allowed: false },
  { file: 'pages/H.tsx', line: "import { Id } from '../../../src/server/schemas.ts';", allowed: false },
  { file: 'ui/a.tsx', line: "import { useAction } from '../data/index.ts';", allowed: true },
  { file: 'ui/b.tsx', line: "import { HomePage } from '../pages/Home.tsx';", allowed: false },
  { file: 'ui/c.tsx', line: "import { Link } from '../router.tsx';", allowed: false },
  { file: 'data/a.ts', line: "import { navigate } from '../router.tsx';", allowed: true },
  { file: 'data/b.ts', line: "import { Alert } from '../ui/index.ts';", allowed: false },
  { file: 'api/a.ts', line: "import type * as S from '../../../src/server/schemas.ts';", allowed: true },
  { file: 'api/b.ts', line: "import { navigate } from '../router.tsx';", allowed: false },
  { file: 'frame/a.tsx', line: "import { useLive } from '../data/index.ts';", allowed: true },
  { file: 'frame/b.tsx', line: "import { navigate, useLocation } from '../router.tsx';", allowed: true },
  { file: 'frame/c.tsx', line: "import { AgentsPage } from '../pages/Agents.tsx';", allowed: false },
  { file: 'frame/d.tsx', line: "import { Layout } from '../Layout.tsx';", allowed: false },
  { file: 'frame/e.tsx', line: "import { useLive } from '../data/use-live.ts';", allowed: false },
  { file: 'page.ts', line: "import { Layout } from './Layout.tsx';", allowed: false },
];

test('the linter refuses exactly the imports that break the dashboard’s directions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-imports-'));
  try {
    copyFileSync(join(ROOT, 'biome.json'), join(dir, 'biome.json'));
    for (const c of CASES) {
      const path = join(dir, 'dashboard/src', c.file);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `${c.line}\n`);
    }
    const run = spawnSync(
      join(ROOT, 'node_modules/.bin/biome'),
      ['lint', '--vcs-enabled=false', '--reporter=github', '--max-diagnostics=none', 'dashboard'],
      { cwd: dir, encoding: 'utf8' },
    );
    const refused = new Set(
      [
        ...run.stdout.matchAll(
          /^::error title=lint\/style\/noRestrictedImports,file=[^,]*\/dashboard\/src\/([^,]+),/gm,
        ),
      ].map((m) => m[1]),
    );
    assert.deepEqual(
      CASES.filter((c) => refused.has(c.file)).map((c) => c.file),
      CASES.filter((c) => !c.allowed).map((c) => c.file),
      run.stdout + run.stderr,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
