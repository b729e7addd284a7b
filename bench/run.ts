/** `npm run bench`: runs every `bench/*.bench.ts` in its own process and prints their figures. */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

const only = process.argv[2];
const files = readdirSync(new URL('.', import.meta.url)).filter(
  (f) => f.endsWith('.bench.ts') && (!only || f.includes(only)),
);
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`,
);
let ok = true;
for (const f of files.sort()) {
  console.log(`\n== bench/${f}`);
  ok = spawnSync(process.execPath, [`bench/${f}`], { stdio: 'inherit' }).status === 0 && ok;
}
process.exit(ok ? 0 : 1);
