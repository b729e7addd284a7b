/**
 * The Node flags `npm start` runs the server with (package.json's `start` script: one place), so
 * a benchmark's server runs as a user's does.
 */
import { readFileSync } from 'node:fs';

const start: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).scripts
  .start;
export const SERVER_NODE_FLAGS: string[] =
  start
    .match(/\bnode((?: --\S+)*) bin\/paddock\.js/)?.[1]
    ?.trim()
    .split(' ') ?? [];
if (SERVER_NODE_FLAGS.length === 0 || SERVER_NODE_FLAGS[0] === '')
  throw new Error(`bench/server-flags.ts: no Node flags found in the start script "${start}"`);
