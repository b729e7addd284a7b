/**
 * The program that runs inside an org's cell. It learns its org and receives the org's data
 * key (in memory only, over the private stdin pipe, never in its environment or arguments),
 * then heartbeats and answers liveness pings, and runs the org's agents when told to (the
 * runtime loads on the first run, so an idle cell stays small).
 */
import type { RunHost } from '../runtime/cell/host.ts';
import { encode, type FromCell, frameReader, type ToCell } from './protocol.ts';

let org: string | undefined;
let dataKey: Buffer | undefined;
let beat: NodeJS.Timeout | undefined;
let runs: Promise<RunHost> | undefined;

/**
 * What a run streams waits for the end of this turn of the event loop, to go out in one write
 * with whatever else the turn streams (a step's chunks come in a burst); any other frame (a gate
 * call, a run's end, a heartbeat) goes at once, after what was queued before it.
 */
let queued = '';
let flushing = false;
const send = (frame: FromCell) => {
  queued += encode(frame);
  if (frame.type !== 'run.event') flush();
  else if (!flushing) {
    flushing = true;
    setImmediate(flush);
  }
};

function flush(): void {
  flushing = false;
  if (queued === '') return;
  const text = queued;
  queued = '';
  process.stdout.write(text);
}

function onFrame(raw: unknown): void {
  const f = raw as ToCell;
  if (f.type === 'hello') {
    if (org && f.org !== org) process.exit(3); // a cell serves one org for its whole life
    org = f.org;
    dataKey = Buffer.from(f.dataKey, 'base64');
    send({ v: 1, type: 'ready', org, pid: process.pid });
    beat = setInterval(
      () => send({ v: 1, type: 'heartbeat', org: org!, rss: process.memoryUsage.rss() }),
      f.heartbeatMs,
    );
    return;
  }
  if (!org || f.org !== org) process.exit(3);
  if (f.type === 'ping') send({ v: 1, type: 'pong', org, id: f.id });
  else if (f.type === 'run' || f.type === 'run.stop' || f.type === 'mcp') {
    const cellOrg = org;
    runs ??= import('../runtime/cell/host.ts').then(
      ({ RunHost }) => new RunHost(cellOrg, () => dataKey!, send),
    );
    void runs.then((host) => host.handle(f));
  } else if (f.type === 'shutdown') {
    clearInterval(beat);
    dataKey?.fill(0);
    process.exit(0);
  }
}

process.stdin.on(
  'data',
  frameReader(onFrame, (why) => {
    process.stderr.write(`cell: ${why}\n`);
    process.exit(2);
  }),
);
// The supervisor is gone: so is the reason to run.
process.stdin.on('end', () => process.exit(0));
