// Runs Paddock as a child under another Node.js (the repository's Node 24) and stands in for it:
// the signals that stop a server reach the child, and this process exits as the child did. So
// `kill <pid>` of whatever started Paddock stops the server too, instead of orphaning it.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/** @param {string} node @param {string[]} args */
export function relaunch(node, args) {
  const child = spawn(node, args, { stdio: 'inherit' });
  // On a terminal's Ctrl-C the child gets SIGINT itself too; it stops once however often told.
  const forward = (signal) => child.kill(signal);
  for (const s of FORWARDED) process.on(s, forward);
  child.once('error', (err) => {
    process.stderr.write(`paddock: cannot run ${node}: ${err.message}\n`);
    process.exit(1);
  });
  child.once('exit', (code, signal) => {
    for (const s of FORWARDED) process.off(s, forward);
    if (code !== null) process.exit(code);
    // Killed by a signal: end the same way, so a shell sees the same status (128 + n).
    process.kill(process.pid, signal);
    setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), 100);
  });
}
