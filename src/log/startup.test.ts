/**
 * What a person sees when they run `paddock up` (a real process, its standard output and error
 * read as one stream, in the order written): the start-up summary first — where it runs, the
 * store, the API, cells, metrics, traces, checkpoints — then readable, coloured-when-a-terminal
 * lines, one per request; and JSON lines for a collector, with the same summary on standard
 * output.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { until } from '../testing/until.ts';

const BIN = fileURLToPath(new URL('../../bin/paddock.js', import.meta.url));

/** `paddock up` with its standard error joined to its standard output (as a terminal shows them). */
async function up(
  env: Record<string, string>,
): Promise<{ out: () => string; url: string; stop(): Promise<void> }> {
  const home = mkdtempSync(join(tmpdir(), 'paddock-startup-'));
  const p: ChildProcess = spawn('sh', ['-c', `exec "${process.execPath}" "${BIN}" up 2>&1`], {
    env: { ...process.env, PADDOCK_HOME: home, PORT: '0', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  p.stdout!.on('data', (d) => (out += String(d)));
  const url = await until(() => /is running at (http:\/\/\S+)/.exec(out)?.[1], {
    timeoutMs: 30_000,
    what: `paddock up: ${out}`,
  });
  return {
    out: () => out,
    url,
    stop: async () => {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
      rmSync(home, { recursive: true, force: true });
    },
  };
}

const SUMMARY = ['store:', 'API:', 'cells:', 'metrics:', 'traces:', 'checkpoints:'];

test('at a terminal (readable lines): the start-up summary comes first, then one readable line per request', async () => {
  const s = await up({ PADDOCK_LOG_FORMAT: 'pretty' });
  try {
    const r = await fetch(`${s.url}/healthz`, { headers: { 'x-request-id': 'startup-check-1' } });
    assert.equal(r.status, 200);
    const line = await until(
      () =>
        s
          .out()
          .split('\n')
          .find((l) => l.includes('[startup-check-1]')),
      {
        what: 'the request line',
      },
    );
    assert.match(line, /INFO.*: GET \/healthz 200 \d+ ms \[startup-check-1\]$/);
    const lines = s.out().split('\n');
    assert.match(lines[0]!, /^Paddock \S+ is running at http:\/\/127\.0\.0\.1:\d+$/, 'the summary first');
    // Then the summary's own lines (indented), before any log line.
    const summary: string[] = [];
    for (const l of lines.slice(1)) {
      if (!l.startsWith('  ')) break;
      summary.push(l.trim().split(/\s/)[0]!);
    }
    assert.deepEqual(
      summary.filter((k) => SUMMARY.includes(k)),
      SUMMARY,
    );
    assert.ok(!lines.some((l) => l.trimStart().startsWith('{')), 'no JSON at a terminal');
  } finally {
    await s.stop();
  }
});

test('for a collector (JSON lines): the same summary first, then JSON request records with id, route, status and duration', async () => {
  const s = await up({ PADDOCK_LOG_FORMAT: 'json' });
  try {
    await fetch(`${s.url}/api/v1/orgs/acme`, { headers: { 'x-request-id': 'startup-check-2' } });
    const record = await until(
      () =>
        s
          .out()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((l) => l.requestId === 'startup-check-2'),
      { what: 'the request record' },
    );
    assert.deepEqual(
      {
        msg: record.msg,
        level: record.level,
        method: record.method,
        route: record.route,
        status: record.status,
      },
      { msg: 'request', level: 30, method: 'GET', route: '/api/v1/orgs/{org}', status: 401 },
    );
    assert.equal(typeof record.ms, 'number');
    assert.match(String(record.time), /^\d{4}-\d\d-\d\dT/);
    assert.match(s.out().split('\n')[0]!, /^Paddock \S+ is running at /, 'the summary first');
  } finally {
    await s.stop();
  }
});

test('a misspelt log setting stops `paddock up` before it starts: one line naming the setting and its allowed values, exit 2', async () => {
  const home = mkdtempSync(join(tmpdir(), 'paddock-startup-'));
  try {
    for (const [env, line] of [
      [
        { PADDOCK_LOG_LEVEL: 'verbos' },
        'PADDOCK_LOG_LEVEL is one of fatal, error, warn, info, debug, trace, silent, not "verbos".',
      ],
      [{ PADDOCK_LOG_FORMAT: 'xml' }, 'PADDOCK_LOG_FORMAT is one of json, pretty, not "xml".'],
    ] as const) {
      const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done) =>
        execFile(
          process.execPath,
          [BIN, 'up'],
          {
            env: { ...process.env, PADDOCK_HOME: home, PORT: '0', DATABASE_URL: '', ...env },
            timeout: 30_000,
          },
          (err, stdout, stderr) => done({ code: err ? (err.code as number) : 0, stdout, stderr }),
        ),
      );
      assert.deepEqual(r, { code: 2, stdout: '', stderr: `paddock: ${line}\n` });
    }
    assert.deepEqual(readdirSync(home), [], 'nothing was created');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
