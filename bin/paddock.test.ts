/**
 * Stopping Paddock through whatever started it: `kill <pid>` of `npm start`, or of the launcher
 * that re-runs Paddock under the repository's Node 24, stops the server (its port closes, its
 * process is gone), and the launcher exits as the server did.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { until } from '../src/testing/until.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'paddock.js');
const LAUNCH = pathToFileURL(join(ROOT, 'bin', 'launch.js')).href;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** The direct children of a process, from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid …; comm may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {}
  }
  return out;
}

interface Started {
  proc: ChildProcess;
  port: number;
  serverPid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `cmd` (which starts a server as its child) and waits until the server answers. */
async function start(cmd: string, args: string[], home: string): Promise<Started> {
  const proc = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, PADDOCK_HOME: home, DATABASE_URL: '', PADDOCK_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a failed test can clean up every process it left (see `cleanUp`).
    detached: true,
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.once('exit', (code, signal) => r({ code, signal })),
  );
  let out = '';
  proc.stdout!.on('data', (d) => (out += String(d)));
  proc.stderr!.on('data', (d) => (out += String(d)));
  try {
    await until(() => /is running at http:\/\/127\.0\.0\.1:\d+/.test(out) || proc.exitCode !== null, {
      what: `${cmd} to start the server`,
      timeoutMs: 60_000,
    });
    const m = /is running at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
    assert.ok(m, `did not start: ${out}`);
    const children = childrenOf(proc.pid!);
    assert.equal(children.length, 1, `one server process under ${cmd}: ${children.join()}`);
    return { proc, port: Number(m[1]), serverPid: children[0]!, exited };
  } catch (err) {
    cleanUp({ proc, port: 0, serverPid: 0, exited }, home);
    throw err;
  }
}

/** After a test, pass or fail: nothing it started survives, and no pipe keeps this process up. */
function cleanUp(s: Started | undefined, home: string): void {
  if (s) {
    try {
      process.kill(-s.proc.pid!, 'SIGKILL');
    } catch {}
    if (s.serverPid && alive(s.serverPid)) process.kill(s.serverPid, 'SIGKILL');
    s.proc.stdout?.destroy();
    s.proc.stderr?.destroy();
  }
  rmSync(home, { recursive: true, force: true });
}

async function assertStopsOn(signal: NodeJS.Signals, s: Started) {
  assert.ok(await listening(s.port));
  s.proc.kill(signal);
  await until(async () => !(await listening(s.port)), { what: 'the port to close', timeoutMs: 30_000 });
  await until(() => !alive(s.serverPid), { what: 'the server process to end', timeoutMs: 30_000 });
  return s.exited;
}

test('SIGTERM to the pid of `npm start` stops the server', async () => {
  const home = mkdtempSync(join(tmpdir(), 'paddock-npm-start-'));
  let s: Started | undefined;
  try {
    s = await start('npm', ['start', '--', '--port', '0'], home);
    const exit = await assertStopsOn('SIGTERM', s);
    assert.deepEqual(exit, { code: 0, signal: null }, 'npm reports the graceful stop');
  } finally {
    cleanUp(s, home);
  }
});

const launcher = (args: string[]) => [
  '--input-type=module',
  '-e',
  `import { relaunch } from ${JSON.stringify(LAUNCH)}; relaunch(process.execPath, ${JSON.stringify(args)});`,
];

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  test(`the launcher passes ${signal} on to the server and exits with its status`, async () => {
    const home = mkdtempSync(join(tmpdir(), 'paddock-launcher-'));
    let s: Started | undefined;
    try {
      s = await start(process.execPath, launcher([BIN, 'up', '--port', '0']), home);
      const exit = await assertStopsOn(signal, s);
      assert.deepEqual(exit, { code: 0, signal: null }, 'the server stopped gracefully, status 0');
    } finally {
      cleanUp(s, home);
    }
  });
}

test("the launcher exits with the server's code, or dies of the same signal", () => {
  const code = spawnSync(process.execPath, launcher(['-e', 'process.exit(3)']));
  assert.equal(code.status, 3);
  const killed = spawnSync(process.execPath, launcher(['-e', 'process.kill(process.pid, "SIGKILL")']));
  assert.equal(killed.signal, 'SIGKILL');
});

/** A Node.js older than 24 on this machine, which makes bin/paddock.js relaunch itself. */
function olderNode(): string | undefined {
  const found = spawnSync('sh', ['-c', 'which -a node; ls /usr/bin/node /usr/local/bin/node'], {
    encoding: 'utf8',
  }).stdout;
  for (const path of new Set(found.split('\n').filter((p) => p && !p.includes('node_modules')))) {
    const v = spawnSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    if (Number(v.split('.')[0]) < 24) return path;
  }
  return undefined;
}

const older = olderNode();
test('bin/paddock.js started by an older Node: SIGTERM to its pid stops the server it relaunched', {
  skip: older ? false : 'no Node.js older than 24 here, so bin/paddock.js never relaunches',
}, async () => {
  const home = mkdtempSync(join(tmpdir(), 'paddock-old-node-'));
  let s: Started | undefined;
  try {
    s = await start(older!, [BIN, 'up', '--port', '0'], home);
    const exit = await assertStopsOn('SIGTERM', s);
    assert.deepEqual(exit, { code: 0, signal: null });
  } finally {
    cleanUp(s, home);
  }
});
