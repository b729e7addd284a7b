/**
 * What is kept aside of a journal line refused at start (`keptAside`): never a call's content,
 * even from a hostile line shaped like a narrowed one; lines an earlier version kept whole narrowed
 * in place with the old bytes zeroed before the file is cut short; the length and hash of a line's
 * bytes as they were, UTF-8 or not.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs, { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, mock, test } from 'node:test';
import { EntryJournal } from './journal.ts';

const SECRET = 'kim@acme.test';
const homes: string[] = [];
const home = () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-refused-'));
  homes.push(dir);
  return dir;
};
after(() => {
  for (const dir of homes) rmSync(dir, { recursive: true, force: true });
});

test('a legacy whole line shaped like a narrowed one (sha256 and why strings, no details/leaf key) is narrowed too, not kept whole', () => {
  const path = join(home(), 'audit-journal.jsonl');
  const hostile = JSON.stringify({
    sha256: 'x',
    why: 'y',
    salt: 'c2FsdA==',
    header: { actor: { type: 'agent', id: 'a', note: SECRET } },
    arguments: { to: SECRET },
  });
  writeFileSync(`${path}.refused`, `${hostile}\n`, { mode: 0o600 });
  new EntryJournal(path).left();
  const aside = readFileSync(`${path}.refused`, 'utf8');
  assert.ok(!aside.includes(SECRET), aside);
});

test('narrowing in place: the old bytes past the narrowed text are zeroed before the file is cut short (else they stay in freed blocks, as a rename would leave them)', (t) => {
  const path = join(home(), 'audit-journal.jsonl');
  const whole = JSON.stringify({
    leaf: '{}',
    details: JSON.stringify({ to: SECRET, body: 'x'.repeat(4000) }),
    salt: 's',
  });
  writeFileSync(`${path}.refused`, `${whole}\n${whole}\n`, { mode: 0o600 });
  const seen: string[] = [];
  const real = fs.ftruncateSync;
  mock.method(fs, 'ftruncateSync', (fd: number, len: number) => {
    const bytes = readFileSync(`${path}.refused`);
    seen.push(bytes.subarray(len ?? 0).toString('latin1'));
    real(fd, len);
  });
  syncBuiltinESMExports();
  t.after(() => {
    mock.restoreAll();
    syncBuiltinESMExports();
  });
  new EntryJournal(path).left();
  assert.equal(seen.length, 1, 'cut short once');
  assert.ok(!seen[0]!.includes(SECRET), `freed by the cut, not overwritten: ${seen[0]!.slice(0, 120)}…`);
});

test('a refused line that is not UTF-8: its kept length and SHA-256 are those of its bytes (enough to match it with a copy)', () => {
  const path = join(home(), 'audit-journal.jsonl');
  const line = Buffer.concat([Buffer.from('{"to":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
  writeFileSync(path, Buffer.concat([line, Buffer.from('\n')]), { mode: 0o600 });
  new EntryJournal(path).left();
  const kept = JSON.parse(readFileSync(`${path}.refused`, 'utf8').trim()) as {
    bytes: number;
    sha256: string;
  };
  assert.deepEqual(
    { bytes: kept.bytes, sha256: kept.sha256 },
    { bytes: line.length, sha256: createHash('sha256').update(line).digest('hex') },
  );
});
