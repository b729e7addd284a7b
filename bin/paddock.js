#!/usr/bin/env node
// Paddock needs Node.js 24 (node:sqlite, TypeScript type stripping). When started by an older
// Node, re-run with the Node 24 that the repository installs as a dev dependency.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const bundled = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(bundled)) {
    process.stderr.write(
      `paddock: Node.js 24 is required (this is ${process.versions.node}). Run \`npm install\` in the Paddock folder first.\n`,
    );
    process.exit(1);
  }
  const { relaunch } = await import('./launch.js');
  relaunch(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)]);
} else {
  await import('../src/cli/main.ts');
}
