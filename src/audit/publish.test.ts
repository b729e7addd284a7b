/** Where checkpoints are published decides whether they protect against someone holding the disk. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkpointCustody } from './publish.ts';

test('checkpoints published only beside the database are reported as not off-host, with the fix', () => {
  const home = mkdtempSync(join(tmpdir(), 'paddock-custody-'));
  const dir = join(home, 'checkpoints');
  mkdirSync(dir);
  const beside = checkpointCustody({ dir, home, webhook: undefined, databaseUrl: undefined });
  assert.equal(beside.offHost, false);
  assert.match(beside.description, /PADDOCK_CHECKPOINT_WEBHOOK.*PADDOCK_CHECKPOINT_DIR on other storage/);
  const local = checkpointCustody({ dir, home, webhook: undefined, databaseUrl: 'postgres://u@127.0.0.1/p' });
  assert.equal(local.offHost, false, 'a database on this machine is the same custody');
});

test('a webhook, a remote database or a directory on another device count as off-host', () => {
  const home = mkdtempSync(join(tmpdir(), 'paddock-custody-'));
  const hook = checkpointCustody({
    dir: home,
    home,
    webhook: 'https://audit.example.com/cp',
    databaseUrl: undefined,
  });
  assert.deepEqual(hook, { offHost: true, description: 'posted to audit.example.com' });
  const remote = checkpointCustody({
    dir: home,
    home,
    webhook: undefined,
    databaseUrl: 'postgres://u@db.internal/p',
  });
  assert.equal(remote.offHost, true);
  const other = ['/', '/dev/shm', '/proc'].find((d) => statSync(d).dev !== statSync(home).dev);
  assert.ok(other, 'this machine has a second filesystem to try');
  assert.equal(
    checkpointCustody({ dir: other, home, webhook: undefined, databaseUrl: undefined }).offHost,
    true,
  );
});
