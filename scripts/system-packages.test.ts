/** What `npm test` does about missing system packages, host by host, and that CI keeps no list of its own. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { missingPackages, plan, SYSTEM_PACKAGES } from './system-packages.ts';

const host = (h: Partial<{ root: boolean; sudo: boolean; aptGet: boolean }>) => ({
  root: false,
  sudo: false,
  aptGet: true,
  ...h,
});

test('nothing missing: nothing to do, whoever runs it', () => {
  assert.deepEqual(plan([], host({})), { kind: 'ready' });
  assert.deepEqual(plan([], host({ aptGet: false })), { kind: 'ready' });
});

test('as root: apt-get update, then install only what is missing, without recommends', () => {
  assert.deepEqual(plan(['bubblewrap', 'chromium'], host({ root: true })), {
    kind: 'install',
    commands: [
      ['apt-get', 'update', '-qq'],
      [
        'env',
        'DEBIAN_FRONTEND=noninteractive',
        'apt-get',
        'install',
        '-y',
        '-qq',
        '--no-install-recommends',
        'bubblewrap',
        'chromium',
      ],
    ],
  });
});

test('not root but with passwordless sudo: the same through sudo -n', () => {
  const p = plan(['python3'], host({ sudo: true }));
  assert.equal(p.kind, 'install');
  if (p.kind !== 'install') return;
  assert.deepEqual(p.commands[0], ['sudo', '-n', 'apt-get', 'update', '-qq']);
  assert.deepEqual(p.commands[1]!.slice(0, 4), ['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive']);
  assert.deepEqual(p.commands[1]!.slice(-1), ['python3']);
});

test('neither: stop at once with the one command that installs exactly what is missing', () => {
  const p = plan(['bubblewrap', 'postgresql'], host({}));
  assert.equal(p.kind, 'stop');
  if (p.kind !== 'stop') return;
  assert.match(p.message, /missing: bubblewrap postgresql/);
  const commands = p.message.split('\n').filter((l) => l.startsWith('  '));
  assert.deepEqual(commands, [
    '  sudo apt-get update && sudo apt-get install -y --no-install-recommends bubblewrap postgresql',
  ]);
});

test('no apt-get: stop, naming the packages', () => {
  const p = plan(['curl'], host({ root: true, aptGet: false }));
  assert.equal(p.kind, 'stop');
  assert.match(p.kind === 'stop' ? p.message : '', /missing: curl\.\n/);
});

test('an existing PostgreSQL server (PADDOCK_TEST_DATABASE_URL) makes the postgresql package unneeded', () => {
  const withServer = missingPackages({ PADDOCK_TEST_DATABASE_URL: 'postgres://127.0.0.1/x' });
  assert.ok(!withServer.includes('postgresql'));
  assert.ok(SYSTEM_PACKAGES.some((p) => p.name === 'postgresql'));
});

test('CI installs nothing itself: the one list is the one npm test uses', () => {
  const ci = readFileSync(new URL('../.ci/run', import.meta.url), 'utf8');
  assert.match(ci, /^npm test$/m);
  for (const word of ['apt-get', ...SYSTEM_PACKAGES.map((p) => p.name)]) {
    assert.ok(
      !ci.includes(word),
      `.ci/run mentions ${word}: keep the package list in scripts/system-packages.ts`,
    );
  }
});
