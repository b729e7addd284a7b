/**
 * The server side's import directions (biome.json: noRestrictedImports for src/) refuse what
 * docs/architecture.md says they refuse: each import below is linted, at its path, with the
 * repository's own biome.json, and exactly the forbidden ones are reported. (The dashboard's are
 * checked the same way in dashboard/import-directions.test.ts.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A file under src, an import line in it, and whether the directions allow it. */
const CASES: { file: string; line: string; allowed: boolean }[] = [
  { file: 'gateway/a.ts', line: "import { agentTokens } from '../agents/index.ts';", allowed: true },
  {
    file: 'gateway/b.ts',
    line: "import { Server } from '@modelcontextprotocol/sdk/server/index.js';",
    allowed: true,
  },
  { file: 'gateway/c.ts', line: "import type { Deps } from '../server/deps.ts';", allowed: false },
  {
    file: 'gateway/steps/d.ts',
    line: "import { defineRoute } from '../../server/route.ts';",
    allowed: false,
  },
  { file: 'gateway/e.ts', line: "import { RunCoordinator } from '../runtime/index.ts';", allowed: false },
  { file: 'gateway/f.ts', line: "import { main } from '../cli/main.ts';", allowed: false },
  // Tests may reach anywhere; adapters above the gate import its face.
  { file: 'gateway/g.test.ts', line: "import { buildDeps } from '../server/deps.ts';", allowed: true },
  { file: 'server/routes/h.ts', line: "import { serveAgent } from '../../gateway/index.ts';", allowed: true },
  { file: 'runtime/i.ts', line: "import { agentServer } from '../gateway/index.ts';", allowed: true },
  // The layers below the domains (docs/architecture.md).
  { file: 'ids/a.ts', line: "import { PaddockError } from '../errors/index.ts';", allowed: false },
  { file: 'store/a.ts', line: "import { PaddockError } from '../errors/index.ts';", allowed: true },
  { file: 'store/b.ts', line: "import { newId } from '../ids/index.ts';", allowed: false },
  { file: 'audit/a.ts', line: "import { newId } from '../ids/index.ts';", allowed: true },
  { file: 'audit/b.ts', line: "import { trustedScope } from '../identity/index.ts';", allowed: false },
  { file: 'vault/a.ts', line: "import { recordChange } from '../audit/index.ts';", allowed: true },
  { file: 'vault/b.ts', line: "import { orgAccess } from '../identity/index.ts';", allowed: false },
];

test('the linter refuses exactly the imports that break the server side’s directions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-imports-'));
  try {
    copyFileSync(join(ROOT, 'biome.json'), join(dir, 'biome.json'));
    for (const c of CASES) {
      const path = join(dir, 'src', c.file);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `${c.line}\n`);
    }
    const run = spawnSync(
      join(ROOT, 'node_modules/.bin/biome'),
      ['lint', '--vcs-enabled=false', '--reporter=github', '--max-diagnostics=none', 'src'],
      { cwd: dir, encoding: 'utf8' },
    );
    const refused = new Set(
      [
        ...run.stdout.matchAll(/^::error title=lint\/style\/noRestrictedImports,file=[^,]*\/src\/([^,]+),/gm),
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
