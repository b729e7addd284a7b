/**
 * Making an org's folders never follows a link: not one planted inside a folder by sandboxed
 * code, not one left where a folder (or a directory above it) should be. What such a link points
 * at is left exactly as it was.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { PaddockError } from '../errors/index.ts';
import { cellFolder, makeFolder, serverFolder } from './folders.ts';

const OWNER = { uid: 2_000_099_999, gid: 2_000_099_999 };

describe('org folders', () => {
  let home: string;
  let outside: string;
  beforeEach(() => {
    assert.equal(process.getuid?.(), 0, 'giving a folder to another user needs root');
    home = mkdtempSync(join(tmpdir(), 'paddock-folders-'));
    outside = mkdtempSync(join(tmpdir(), 'paddock-outside-'));
  });
  afterEach(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  /** A directory and a file out of the cells' reach, and a way to see they were not touched. */
  const victims = () => {
    const dir = join(outside, 'dir');
    const file = join(outside, 'master.key');
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(file, 'key', { mode: 0o600 });
    const seen = () =>
      [dir, file].map((p) => {
        const st = statSync(p);
        return [st.uid, st.gid, st.mode, st.isDirectory() ? readdirSync(p).join(',') : ''];
      });
    return { dir, file, before: seen(), seen };
  };

  test('makes the folder and the directories above it; only the folder is given to the org (0700)', () => {
    const folder = serverFolder(home, 'org_a', 'con_1', 'agt_1');
    makeFolder(home, folder, OWNER);
    const st = statSync(folder);
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [OWNER.uid, OWNER.gid, 0o700]);
    for (let d = dirname(folder); d !== home; d = dirname(d)) {
      const above = statSync(d);
      assert.deepEqual([above.uid, above.mode & 0o7777], [0, 0o700], `${d} stays Paddock's`);
    }
    assert.notEqual(serverFolder(home, 'org_a', 'con_1', null), folder, 'the admins’ listing has its own');
    assert.notEqual(cellFolder(home, 'org_a'), folder);
  });

  test('a link anywhere on the way to a folder is refused, and what it points at is untouched', () => {
    const folder = serverFolder(home, 'org_a', 'con_1', 'agt_1');
    const parts = ['cells', 'org_a', 'mcp', 'con_1--agt_1'];
    for (let depth = 1; depth <= parts.length; depth++) {
      rmSync(join(home, 'cells'), { recursive: true, force: true });
      const v = victims();
      const at = join(home, ...parts.slice(0, depth));
      mkdirSync(dirname(at), { recursive: true, mode: 0o700 });
      symlinkSync(v.dir, at);
      assert.throws(
        () => makeFolder(home, folder, OWNER),
        (e) => PaddockError.isInstance(e) && e.code === 'unsafe_cell_folder',
        `a link at ${at}`,
      );
      assert.deepEqual(v.seen(), v.before, `nothing behind the link at ${at} changed`);
      rmSync(outside, { recursive: true, force: true });
      mkdirSync(outside);
    }
  });

  test('a hard link to a file outside, where the folder should be, is refused, not chowned', () => {
    const v = victims();
    const folder = cellFolder(home, 'org_a');
    mkdirSync(dirname(folder), { recursive: true, mode: 0o700 });
    linkSync(v.file, folder);
    assert.throws(() => makeFolder(home, folder, OWNER), /is not a directory/);
    assert.deepEqual(v.seen(), v.before);
  });

  test('a folder’s contents are never walked: links planted inside stay links, their targets untouched', () => {
    const v = victims();
    const folder = cellFolder(home, 'org_a');
    makeFolder(home, folder, OWNER);
    symlinkSync(v.file, join(folder, 'key'));
    symlinkSync(v.dir, join(folder, 'dir'));
    makeFolder(home, folder, OWNER); // as at every start
    assert.deepEqual(v.seen(), v.before);
    assert.ok(lstatSync(join(folder, 'key')).isSymbolicLink());
  });

  test('a directory above a folder that anyone else could write is refused (a link could be swapped in)', () => {
    const folder = serverFolder(home, 'org_a', 'con_1', 'agt_1');
    makeFolder(home, folder, OWNER);
    chmodSync(join(home, 'cells', 'org_a', 'mcp'), 0o777);
    assert.throws(() => makeFolder(home, folder, OWNER), /must be Paddock's own/);
  });
});
