/**
 * The journal of written records (embedded store): a result record is in the file once written,
 * the file is emptied once all are placed, and a restart places what a killed process left there
 * — once each, a torn last line left out — with the log still verifying.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  fdatasyncSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { initOrg, operatorCaller } from '../identity/index.ts';
import { silentLogger } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import { addToJournal, journalIds, journalRecords } from '../testing/journal-files.ts';
import { openTestStore, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';
import { localKeyring, Vault, vaultLogKeys } from '../vault/index.ts';
import { prepareEntry } from './entry.ts';
import { AuditTrail, verifyLog } from './index.ts';
import { Integrator } from './integrate.ts';
import { EntryJournal, journalFiles, journalLine } from './journal.ts';
import { LogSigners } from './keys.ts';

/** A writer on `store` with its log keys in `home`'s vault, as a server makes it. */
function trailOf(store: Store, home: string): AuditTrail {
  return new AuditTrail({
    store,
    keys: vaultLogKeys(new Vault(localKeyring(home, {}))),
    originHost: 'j.test',
    log: silentLogger,
  });
}

/** Runs `fn` on a fresh embedded store, removed after. */
async function onStore(fn: (s: TestStore) => Promise<void>): Promise<void> {
  const s = await openTestStore('sqlite');
  try {
    await fn(s);
  } finally {
    await s.cleanup();
  }
}

let t: TestStore | undefined;
after(() => t?.cleanup());

/** A decision whose details name a person (what must never outlive its erasure on disk). */
const namingKim = (n: number) =>
  prepareEntry({
    orgId: 'org_j',
    actor: { type: 'agent', id: 'agt_j' },
    action: 'tool.call.allowed',
    details: { args: { about: 'kim@acme.test' }, n },
  });

test('written records are journaled until placed; a restart places what was left, once each', async () => {
  t = await openTestStore('sqlite');
  const { store, home } = t;
  const path = store.auditJournal!;
  const { org } = await initOrg(store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
  const trail = () => trailOf(store, home);
  const event = (n: number) => ({
    orgId: org.id,
    actor: { type: 'agent' as const, id: 'agt_j' },
    action: 'tool.call.completed',
    details: { n },
  });
  const ids = async () =>
    (
      await store.db
        .selectFrom('audit_entries')
        .select('id')
        .where('action', '=', 'tool.call.completed')
        .execute()
    ).map((r) => r.id);

  const first = trail();
  first.start();
  await first.flush();
  const written = await Promise.all([0, 1, 2].map((n) => first.appendWritten(event(n))));
  const lines = journalRecords(path).trim().split('\n');
  assert.deepEqual(
    journalIds(path),
    written.map((w) => w.id),
    'in the journal once written, before they are placed',
  );
  assert.equal(statSync(path).mode & 0o777, 0o600);
  await first.flush();
  assert.deepEqual((await ids()).sort(), written.map((w) => w.id).sort());
  assert.equal(
    Buffer.byteLength(journalRecords(path)),
    0,
    'emptied by a flush, all placed (a deletion on request flushes first)',
  );
  await first.close();

  // A killed process's journal: one entry placed before the kill, two not — one as an older
  // version wrote it (with its header), one as this one does — and a torn last line.
  const unplaced = [3, 4].map((n) => prepareEntry(event(n)));
  const line = (e: unknown) => `${JSON.stringify(e)}\n`;
  const placedAlready = JSON.parse(lines[0]!);
  addToJournal(
    path,
    line(placedAlready) +
      line(unplaced[0]) +
      journalLine(unplaced[1]!) +
      journalLine(prepareEntry(event(5))).slice(0, 40),
  );
  const second = trail();
  second.start();
  await second.flush();
  const after = await ids();
  assert.equal(after.length, 5, 'the two left unplaced are placed; none twice; the torn line left out');
  for (const e of unplaced) assert.ok(after.includes(e.header.id));
  const report = await verifyLog(store.db, org.id);
  assert.ok(report.ok, JSON.stringify(report.problem));
  // Records go on being journaled: written, placed once each, the file emptied on close.
  const more = await Promise.all([6, 7].map((n) => second.appendWritten(event(n))));
  await second.flush();
  assert.equal((await ids()).filter((id) => more.some((m) => m.id === id)).length, 2);
  await second.close();
  assert.equal(Buffer.byteLength(journalRecords(path)), 0);
});

test('a tampered or damaged journal at start: only whole, self-consistent records are placed (once); the rest is left out, kept aside and on record; a write after a torn line is a line of its own', () =>
  onStore(async (s) => {
    const { store, home } = s;
    const path = store.auditJournal!;
    const { org } = await initOrg(store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
    const trail = trailOf(store, home);
    const event = (n: number, action = 'tool.call.completed') => ({
      orgId: org.id,
      actor: { type: 'agent' as const, id: 'agt_j' },
      action,
      details: { n },
    });
    const good = prepareEntry(event(1));
    // Someone edits a record to say something else, keeping the hashes it had.
    const edited = prepareEntry(event(2));
    edited.header = { ...edited.header, action: 'person.removed' };
    // A record "from the future", hashed consistently.
    const ahead = prepareEntry(event(3), new Date(Date.now() + 24 * 3600_000));
    // Details swapped under a consistent header.
    const swapped = { ...prepareEntry(event(4)), details: '{"n":"forged"}' };
    const line = (e: unknown) => `${JSON.stringify(e)}\n`;
    // The other file holds an older record too, so the current one (with the torn line) is written next.
    const other = prepareEntry(event(7), new Date(Date.now() - 60_000));
    addToJournal(journalFiles(path)[1], line(other));
    addToJournal(
      path,
      [
        line(good),
        'null\n',
        '{}\n',
        '[1,2,3]\n',
        line(edited),
        line(ahead),
        line(swapped),
        'not json at all\n',
        line(good),
        line(prepareEntry(event(5))).slice(0, 50),
      ].join(''),
    );
    trail.start();
    // A record written now, after the torn line, is a line of its own (else it is lost with it at the next start).
    const written = await trail.appendWritten(event(6));
    const ids = journalIds(path);
    assert.ok(ids.includes(written.id), 'the new record is a whole line');
    await trail.flush();
    const placed = await store.db
      .selectFrom('audit_entries')
      .select(['id', 'action'])
      .where('log_id', '=', org.id)
      .where('action', 'in', ['tool.call.completed', 'person.removed'])
      .execute();
    assert.deepEqual(placed.map((r) => r.id).sort(), [good.header.id, written.id, other.header.id].sort());
    assert.ok(!placed.some((r) => r.action === 'person.removed'), 'the edited record is not placed');
    const report = await verifyLog(store.db, org.id);
    assert.ok(report.ok, JSON.stringify(report.problem));
    const refused = await store.db
      .selectFrom('audit_entries')
      .select(['details', 'outcome'])
      .where('action', '=', 'audit.journal.refused')
      .execute();
    assert.equal(refused.length, 1, 'the refusal is on record');
    const details = JSON.parse(String(refused[0]!.details)) as {
      count: number;
      lines: Array<{ line: number }>;
    };
    assert.equal(details.count, 8);
    assert.deepEqual(
      details.lines.map((l) => l.line),
      [2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.equal(statSync(`${path}.refused`).mode & 0o777, 0o600);
    const aside = readFileSync(`${path}.refused`, 'utf8').trim().split('\n');
    assert.equal(aside.length, 8, 'kept aside');
    // What they were, never what a call carried: no deletion on request reaches this file.
    const keptLines = aside.map(
      (l) => JSON.parse(l) as { why: string; sha256: string; header?: { id: string } },
    );
    const asideText = aside.join(' ');
    assert.ok(!/forged|"details":|"salt":/.test(asideText), asideText);
    assert.equal(keptLines[3]!.header!.id, edited.header.id, 'a record’s header is kept');
    assert.equal(keptLines[3]!.sha256, createHash('sha256').update(JSON.stringify(edited)).digest('hex'));
    assert.equal(keptLines[6]!.why, 'not JSON');
    assert.equal(keptLines[6]!.header, undefined);
    await trail.close();
  }));

test('records acknowledged while the clock ran an hour ahead are placed after it was stepped back and the process killed; one ahead of its file’s last write is still refused', () =>
  onStore(async (s) => {
    const { store, home } = s;
    const path = store.auditJournal!;
    const { org } = await initOrg(store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
    const event = (n: number) => ({
      orgId: org.id,
      actor: { type: 'agent' as const, id: 'agt_j' },
      action: 'tool.call.completed',
      details: { n },
    });
    const hourAhead = Date.now() + 3600_000;
    const acknowledged = [1, 2].map((n) => prepareEntry(event(n), new Date(hourAhead + n)));
    const beyond = prepareEntry(event(3), new Date(hourAhead + 24 * 3600_000));
    addToJournal(path, acknowledged.map(journalLine).join('') + journalLine(beyond));
    // As that clock's kernel dated the file's last write.
    utimesSync(path, new Date(hourAhead), new Date(hourAhead));
    const trail = trailOf(store, home);
    trail.start();
    await trail.flush();
    const placed = await store.db
      .selectFrom('audit_entries')
      .select('id')
      .where('log_id', '=', org.id)
      .where('action', '=', 'tool.call.completed')
      .execute();
    assert.deepEqual(
      placed.map((r) => r.id).sort(),
      acknowledged.map((e) => e.header.id).sort(),
      'both acknowledged records placed; the one a day past the file’s last write refused',
    );
    const report = await verifyLog(store.db, org.id);
    assert.ok(report.ok, JSON.stringify(report.problem));
    await trail.close();
    // The log goes on at the clock as it now is. Its newest entry, not yet under a checkpoint (as
    // for the second before one is signed: here its checkpoint is taken away), is no alarm of
    // deleted checkpoints, though it is dated an hour before the entries placed ahead of it.
    const before = (
      await store.db
        .selectFrom('audit_logs')
        .select('tree_size')
        .where('id', '=', org.id)
        .executeTakeFirstOrThrow()
    ).tree_size;
    const next = trailOf(store, home);
    next.start();
    await next.append(event(4));
    await next.close();
    await store.db
      .deleteFrom('audit_checkpoints')
      .where('log_id', '=', org.id)
      .where('tree_size', '>', Number(before))
      .execute();
    const goingOn = await verifyLog(store.db, org.id);
    assert.ok(goingOn.ok, JSON.stringify(goingOn.problem));
    assert.ok(goingOn.pending === 0 && goingOn.entries === Number(before) + 1);
  }));

test('a journal left readable by others is its owner’s only once read', () =>
  onStore(async (s) => {
    const path = s.store.auditJournal!;
    writeFileSync(path, '', { mode: 0o644 });
    chmodSync(path, 0o644);
    new EntryJournal(path).left();
    assert.equal(statSync(path).mode & 0o777, 0o600);
  }));

test('a decision is durable once journaled and the journal synced: not before; placed later by a commit with no sync of its own; the journal forgets it only after a sync of the database', () =>
  onStore(async (s) => {
    const { store, home } = s;
    const path = store.auditJournal!;
    const { org } = await initOrg(store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
    // The journal's fdatasync held until the test lets it finish.
    const held: Array<(err: NodeJS.ErrnoException | null) => void> = [];
    let hold = true;
    const trail = trailOf(
      {
        ...store,
        journalSync: { fdatasync: (_fd, cb) => (hold ? held.push(cb) : cb(null)) },
      },
      home,
    );
    trail.start();
    await trail.flush();
    const wal = () => store.syncStats!().fdatasyncs;
    const walBefore = wal();
    let resolved = false;
    const decision = trail
      .appendDurable({
        orgId: org.id,
        actor: { type: 'agent', id: 'agt_j' },
        action: 'tool.call.allowed',
        details: {},
      })
      .then((r) => {
        resolved = true;
        return r;
      });
    await until(() => held.length === 2, { what: 'the journal (a new file: and its folder) is synced' });
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(resolved, false, 'not durable, not acknowledged, before its sync is done');
    assert.match(journalRecords(path), /tool\.call\.allowed/, 'journaled');
    hold = false;
    for (const done of held.splice(0)) done(null);
    const { id, index } = (await decision) as { id: string; index?: number };
    assert.equal(index, undefined, 'its place in the log is not known yet');
    const placed = () =>
      store.db.selectFrom('audit_entries').select('idx').where('id', '=', id).executeTakeFirst();
    await until(async () => (await placed()) !== undefined, { what: 'placed with a later batch' });
    assert.equal(wal() - walBefore, 0, 'its placement made no sync of its own');
    assert.match(
      journalRecords(path),
      /tool\.call\.allowed/,
      'kept in the journal until a sync covers its place',
    );
    await trail.flush();
    assert.equal(wal() - walBefore, 1, 'one sync of the database before the journal forgets it');
    assert.equal(Buffer.byteLength(journalRecords(path)), 0);
    await trail.close();
  }));

test('a journal sync that fails: the decision is refused (never acknowledged), and the failure is fatal', () =>
  onStore(async (s) => {
    const { store, home } = s;
    const { org } = await initOrg(store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
    const fatal: Error[] = [];
    const trail = trailOf(
      {
        ...store,
        journalSync: {
          fdatasync: (_fd, cb) => cb(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })),
          onFatal: (err) => fatal.push(err),
        },
      },
      home,
    );
    trail.start();
    const event = {
      orgId: org.id,
      actor: { type: 'agent' as const, id: 'agt_j' },
      action: 'tool.call.allowed',
      details: {},
    };
    await assert.rejects(trail.appendDurable(event), /the audit journal could not be made durable: EIO/);
    await assert.rejects(trail.appendDurable(event), /could not be made durable/, 'nor any after it');
    assert.equal(fatal.length, 1);
  }));

test('the two files take turns: past its size the other takes over; the full one is emptied only once all it holds is placed and synced, and never written meanwhile', () =>
  onStore(async (s) => {
    const [a, b] = journalFiles(s.store.auditJournal!);
    const journal = new EntryJournal(s.store.auditJournal!, {}, 2000);
    const entry = (n: number) =>
      prepareEntry({
        orgId: 'org_j',
        actor: { type: 'agent', id: 'agt_j' },
        action: 'tool.call.completed',
        details: { n },
      });
    const inA: number[] = [];
    let n = 0;
    do inA.push(journal.write(entry(n++)));
    while (Buffer.byteLength(journalRecords(a)) < 2000);
    assert.ok(inA.every((f) => f === 0));
    assert.equal(journal.write(entry(n++)), 1, 'the other file takes over');
    assert.equal(journal.retired, false, 'not all of the first is placed');
    journal.placed(inA.slice(1));
    assert.equal(journal.retired, false);
    journal.placed([0, 1]);
    assert.equal(journal.retired, true);
    const sizeOfB = Buffer.byteLength(journalRecords(b));
    let synced = 0;
    await journal.emptyPlaced(async () => {
      synced += 1;
      // Written while the sync runs: to the current file, not the one about to be emptied.
      assert.equal(journal.write(entry(n++)), 1);
    });
    assert.equal(synced, 1);
    assert.equal(Buffer.byteLength(journalRecords(a)), 0, 'emptied after the sync');
    assert.ok(Buffer.byteLength(journalRecords(b)) > sizeOfB);
    await journal.close();
  }));

test('two emptyings at once (a flush and the writer): neither empties a file that took over meanwhile and holds a record placed but not yet synced', () =>
  onStore(async (s) => {
    const [a] = journalFiles(s.store.auditJournal!);
    const journal = new EntryJournal(s.store.auditJournal!);
    const entry = (n: number) =>
      prepareEntry({
        orgId: 'org_j',
        actor: { type: 'agent', id: 'agt_j' },
        action: 'tool.call.allowed',
        details: { n },
      });
    // Syncs of the database the test lets finish one by one.
    const held: Array<() => void> = [];
    const syncPlaced = () => new Promise<void>((resolve) => held.push(resolve));
    journal.placed([journal.write(entry(0))]);
    // A flush: the first file (all placed) hands over to the second, and waits for its sync.
    const flush = journal.emptyPlaced(syncPlaced, true);
    // The writer, at the end of a batch: the first file is retired, all placed; it waits for a sync too.
    const writer = journal.emptyPlaced(syncPlaced);
    await until(() => held.length >= 1, { what: 'the flush waits for a sync' });
    // A record to the second file, placed; the flush's sync ends: the first is emptied and takes over again.
    journal.placed([journal.write(entry(1))]);
    held.shift()!();
    await until(() => Buffer.byteLength(journalRecords(a)) === 0 && held.length >= 1, {
      what: 'the flush waits for a sync covering the second file',
    });
    // A decision journaled to the first file (current again), placed by a commit no sync has covered yet.
    const late = entry(2);
    assert.equal(journal.write(late), 0);
    journal.placed([0]);
    // The oldest sync waiting (the writer's, started before that placement, if it runs alongside) ends.
    held.shift()!();
    await new Promise((r) => setTimeout(r, 10));
    assert.match(
      journalRecords(a),
      new RegExp(late.header.id),
      'kept until a sync started after its placement covers it',
    );
    let done = false;
    void Promise.all([flush, writer]).then(() => {
      done = true;
    });
    await until(
      () => {
        while (held.length > 0) held.shift()!();
        return done;
      },
      { what: 'both done' },
    );
    await journal.close();
  }));

test('a decision is not durable before the lazily synced commits made ahead of it (a run’s start): its sync covers them too, as the WAL sync it replaces did', () =>
  onStore(async (s) => {
    const { store, home } = s;
    const { org } = await initOrg(store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
    const trail = trailOf(store, home);
    trail.start();
    await trail.flush();
    const wal = () => store.syncStats!().fdatasyncs;
    // A run's start: committed, handed back once written, synced within 50 ms.
    await store.withLazySync(() =>
      store.db.updateTable('orgs').set({ name: 'Acme (renamed)' }).where('id', '=', org.id).execute(),
    );
    const before = wal();
    // Its first tool call's decision, at once: the call runs once this resolves.
    await trail.appendDurable({
      orgId: org.id,
      actor: { type: 'agent', id: 'agt_j' },
      action: 'tool.call.allowed',
      details: {},
    });
    assert.equal(wal() - before, 1, 'the database log synced before the decision is acknowledged');
    // With nothing lazily committed ahead of it, a decision makes no sync of the database.
    const now = wal();
    await trail.appendDurable({
      orgId: org.id,
      actor: { type: 'agent', id: 'agt_j' },
      action: 'tool.call.allowed',
      details: {},
    });
    assert.equal(wal() - now, 0);
    await trail.close();
  }));

test('closing: a record written with a lazy sync and not yet placed is synced, not left to a timer the close clears', () =>
  onStore(async (s) => {
    let synced = 0;
    const journal = new EntryJournal(s.store.auditJournal!, {
      fdatasync: (_fd, cb) => {
        synced += 1;
        cb(null);
      },
    });
    const file = journal.write(
      prepareEntry({
        orgId: 'org_j',
        actor: { type: 'agent', id: 'agt_j' },
        action: 'tool.call.completed',
        details: {},
      }),
    );
    journal.syncSoon(file);
    await journal.close();
    assert.equal(synced, 2, 'synced on close: the file, and its folder (the file is new)');
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(synced, 2);
  }));

test('a kill with records unplaced in both files: the older file’s are placed first (a decision before its result), whichever file that is', () =>
  onStore(async (s) => {
    const { store, home } = s;
    const { org } = await initOrg(store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
    const [a, b] = journalFiles(store.auditJournal!);
    const at = Date.now() - 1000;
    const decision = prepareEntry(
      { orgId: org.id, actor: { type: 'agent', id: 'agt_j' }, action: 'tool.call.allowed', details: {} },
      new Date(at),
    );
    const result = prepareEntry(
      {
        orgId: org.id,
        actor: { type: 'agent', id: 'agt_j' },
        action: 'tool.call.completed',
        details: { allowedEntryId: decision.header.id },
      },
      new Date(at + 5),
    );
    // The second file was current, past its size, and handed over to the (emptied) first just
    // before the decision's result was written: the kill left both unplaced.
    addToJournal(b, `${JSON.stringify(decision)}\n`);
    addToJournal(a, `${JSON.stringify(result)}\n`);
    const trail = trailOf(store, home);
    trail.start();
    await trail.flush();
    const rows = await store.db
      .selectFrom('audit_entries')
      .select(['id', 'idx'])
      .where('id', 'in', [decision.header.id, result.header.id])
      .orderBy('idx')
      .execute();
    assert.deepEqual(
      rows.map((r) => r.id),
      [decision.header.id, result.header.id],
      'placed in the order they were written',
    );
    await trail.close();
  }));

test('after a failed sync of one file, a record written to the other is not acknowledged either (nothing is, until a restart)', () =>
  onStore(async (s) => {
    let calls = 0;
    const journal = new EntryJournal(
      s.store.auditJournal!,
      {
        fdatasync: (_fd, cb) => {
          calls += 1;
          cb(calls === 1 ? Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }) : null);
        },
      },
      500,
    );
    const entry = (n: number) =>
      prepareEntry({
        orgId: 'org_j',
        actor: { type: 'agent', id: 'agt_j' },
        action: 'tool.call.allowed',
        details: { n },
      });
    await assert.rejects(journal.sync(journal.write(entry(0))), /EIO/);
    let file = 0;
    for (let n = 1; file === 0; n++) file = journal.write(entry(n));
    assert.equal(file, 1, 'the other file took over');
    await assert.rejects(journal.sync(file), /could not be made durable/);
    await journal.close();
  }));

test('a failed look-up of what the journal left (the database busy at start): tried again, so the records are placed and the files can be emptied', () =>
  onStore(async (s) => {
    const { store, home } = s;
    const { org } = await initOrg(store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
    const left = prepareEntry({
      orgId: org.id,
      actor: { type: 'agent', id: 'agt_j' },
      action: 'tool.call.allowed',
      details: {},
    });
    addToJournal(store.auditJournal!, `${JSON.stringify(left)}\n`);
    let failed = false;
    // The first look-up in audit_entries fails, as one would with the database locked by another process.
    const db = new Proxy(store.db, {
      get(target, key) {
        if (key === 'selectFrom')
          return (table: string) => {
            if (table === 'audit_entries' && !failed) {
              failed = true;
              throw new Error('database is locked');
            }
            return target.selectFrom(table as 'audit_entries');
          };
        const v = Reflect.get(target, key);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const trail = trailOf({ ...store, db }, home);
    trail.start();
    await trail.flush();
    assert.ok(failed);
    const placed = await store.db
      .selectFrom('audit_entries')
      .select('id')
      .where('id', '=', left.header.id)
      .executeTakeFirst();
    assert.ok(placed, 'the record the journal held is placed');
    assert.equal(Buffer.byteLength(journalRecords(store.auditJournal!)), 0, 'and the file emptied');
    await trail.close();
  }));

test('a write the disk takes only part of (file size limit, disk full) is not taken for a record: it throws, its part is cut off, and the next record is read back whole', () =>
  onStore(async (s) => {
    const path = s.store.auditJournal!;
    const journal = new URL('./journal.ts', import.meta.url).href;
    const entry = new URL('./entry.ts', import.meta.url).href;
    // A process whose files may hold 2 kB (ulimit -f: Node ignores SIGXFSZ, the write comes back short).
    const script = `
      const { EntryJournal } = await import(${JSON.stringify(journal)});
      const { prepareEntry } = await import(${JSON.stringify(entry)});
      const j = new EntryJournal(${JSON.stringify(path)});
      for (let n = 0; n < 3; n++) {
        try {
          j.write(prepareEntry({ orgId: 'org_j', actor: { type: 'agent', id: 'agt_j' }, action: 'tool.call.allowed', details: { pad: 'x'.repeat(800), n } }));
          console.log('written');
        } catch { console.log('refused'); }
      }`;
    const said = execFileSync(
      'bash',
      ['-c', 'ulimit -f 2; exec "$0" --input-type=module -e "$1"', process.execPath, script],
      {
        encoding: 'utf8',
      },
    )
      .trim()
      .split('\n');
    assert.deepEqual(said, ['written', 'refused', 'refused'], 'only the whole line counts as written');
    // Room again: the next record starts a line of its own, and is read back whole.
    const j = new EntryJournal(path);
    const lines = journalRecords(path);
    assert.ok(lines.endsWith('\n'), 'the short write’s part is cut off');
    j.left();
    const next = prepareEntry({
      orgId: 'org_j',
      actor: { type: 'agent', id: 'agt_j' },
      action: 'tool.call.allowed',
      details: {},
    });
    j.write(next);
    await j.close();
    assert.deepEqual(
      new EntryJournal(path)
        .left()
        .map((e) => e.entry.header.id)
        .slice(-1),
      [next.header.id],
    );
  }));

test('an append made inside a lazily synced context (a run’s start) still resolves only once synced: the writer’s batch is not lazy because of who woke it', () =>
  onStore(async (s) => {
    const { store, home } = s;
    const { org } = await initOrg(store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
    const trail = trailOf(store, home);
    trail.start();
    await trail.flush();
    const wal = () => store.syncStats!().fdatasyncs;
    const before = wal();
    await store.withLazySync(() =>
      trail.append({
        orgId: org.id,
        actor: { type: 'agent', id: 'agt_j' },
        action: 'run.noted',
        details: {},
      }),
    );
    assert.ok(wal() > before, 'the database log synced before the append resolved');
    await trail.close();
  }));

test('a journal file made by this process: its folder is synced with its first sync (else a power cut can lose the file, and the decisions synced into it)', () =>
  onStore(async (s) => {
    const synced: number[] = [];
    const journal = new EntryJournal(s.store.auditJournal!, {
      fdatasync: (fd, cb) => {
        synced.push(fd);
        cb(null);
      },
    });
    const entry = (n: number) =>
      prepareEntry({
        orgId: 'org_j',
        actor: { type: 'agent', id: 'agt_j' },
        action: 'tool.call.allowed',
        details: { n },
      });
    await journal.sync(journal.write(entry(0)));
    assert.equal(new Set(synced).size, 2, 'the new file and its folder');
    const before = synced.length;
    await journal.sync(journal.write(entry(1)));
    assert.equal(synced.length - before, 1, 'the folder once only');
    await journal.close();
  }));

test('a journaled record that opens a log is placed by a synced commit: a log and its keys are never made by a commit a power cut could undo', () =>
  onStore(async (s) => {
    const { store, home } = s;
    const signers = new LogSigners(store.db, vaultLogKeys(new Vault(localKeyring(home, {}))), () => 'j.test');
    const integrator = new Integrator(store, (trx, logId) => signers.create(trx, logId));
    const record = (orgId: string) =>
      prepareEntry({
        orgId,
        actor: { type: 'system', id: 'test' },
        action: 'tool.call.denied',
        outcome: 'denied',
        details: {},
      });
    const wal = () => store.syncStats!().fdatasyncs;
    let before = wal();
    // A log no entry has opened yet: its first (journaled) record opens it, synced.
    await integrator.integrate([record('org_freshlog')], 'elsewhere');
    assert.equal(wal() - before, 1, 'the commit that made the log was synced');
    // Its head now held here, the next journaled record is placed with no sync of its own.
    before = wal();
    await integrator.integrate([record('org_freshlog')], 'elsewhere');
    assert.equal(wal() - before, 0);
  }));

test('a torn line (a kill mid-write, a short write) is cut off, not kept: a second start neither refuses it as tampering nor copies the call’s details aside, where no deletion on request reaches them', () =>
  onStore(async (s) => {
    const path = s.store.auditJournal!;
    const event = (n: number, who: string) =>
      prepareEntry({
        orgId: 'org_j',
        actor: { type: 'agent', id: 'agt_j' },
        action: 'tool.call.allowed',
        details: { args: { about: who }, n },
      });
    const line = (e: unknown) => `${JSON.stringify(e)}\n`;
    const whole = event(1, 'sam@acme.test');
    // A process killed mid-write: a whole record, then part of one naming a person.
    writeFileSync(path, line(whole) + line(event(2, 'kim@acme.test')).slice(0, -60), { mode: 0o600 });
    const first = new EntryJournal(path);
    assert.deepEqual(
      first.left().map((e) => e.entry.header.id),
      [whole.header.id],
    );
    assert.ok(!readFileSync(path, 'latin1').includes('kim@acme.test'), 'the torn line is zeroed at start');
    // Killed again before the file was emptied (a record written since): the next start sees no damage.
    const next = event(3, 'lee@acme.test');
    first.write(next);
    const second = new EntryJournal(path);
    assert.deepEqual(
      second.left().map((e) => e.entry.header.id),
      [whole.header.id, next.header.id],
    );
    assert.deepEqual(second.refused, [], 'nothing refused: a torn line is not tampering');
    assert.throws(() => statSync(`${path}.refused`), 'nothing copied aside');

    // A short write (the disk full): its part is cut off too.
    const shortPath = `${path}.short`;
    const journal = new URL('./journal.ts', import.meta.url).href;
    const entry = new URL('./entry.ts', import.meta.url).href;
    const script = `
      const { EntryJournal } = await import(${JSON.stringify(journal)});
      const { prepareEntry } = await import(${JSON.stringify(entry)});
      const j = new EntryJournal(${JSON.stringify(shortPath)});
      for (let n = 0; n < 3; n++) {
        try {
          j.write(prepareEntry({ orgId: 'org_j', actor: { type: 'agent', id: 'agt_j' }, action: 'tool.call.allowed', details: { args: { about: 'kim@acme.test' }, pad: 'x'.repeat(800), n } }));
          console.log('written');
        } catch { console.log('refused'); }
      }`;
    const said = execFileSync(
      'bash',
      ['-c', 'ulimit -f 2; exec "$0" --input-type=module -e "$1"', process.execPath, script],
      { encoding: 'utf8' },
    )
      .trim()
      .split('\n');
    assert.deepEqual(said, ['written', 'refused', 'refused']);
    const text = journalRecords(shortPath);
    assert.ok(text.endsWith('\n') && text.trim().split('\n').length === 1, 'only the whole record is left');
    assert.equal(
      readFileSync(shortPath, 'latin1').split('kim@acme.test').length - 1,
      1,
      'the short write’s part is zeroed: only the whole record names the person',
    );
    const third = new EntryJournal(shortPath);
    assert.equal(third.left().length, 1);
    assert.deepEqual(third.refused, []);
  }));

test('a journal file that cannot be read at start (too large to read whole, an I/O error) stops the start: it is never taken for an empty one, written to and emptied with the records it holds', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-journal-'));
  try {
    const path = join(dir, 'audit-journal.jsonl');
    const left = prepareEntry({
      orgId: 'org_j',
      actor: { type: 'agent', id: 'agt_j' },
      action: 'tool.call.allowed',
      details: {},
    });
    // A record a killed process left, in a file past what one read takes (sparse: no disk used).
    writeFileSync(path, `${JSON.stringify(left)}\n`, { mode: 0o600 });
    truncateSync(path, 2 ** 31 + 4096);
    const journal = new EntryJournal(path);
    assert.throws(() => journal.left(), /audit journal/);
    assert.equal(statSync(path).size, 2 ** 31 + 4096, 'the file is left as it was');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a journal file made by this process whose first record is a result (synced soon, not waited on): its folder is synced with that sync too, else the result is not durable within the promised time', () =>
  onStore(async (s) => {
    const synced: number[] = [];
    const journal = new EntryJournal(s.store.auditJournal!, {
      fdatasync: (fd, cb) => {
        synced.push(fd);
        cb(null);
      },
    });
    const file = journal.write(
      prepareEntry({
        orgId: 'org_j',
        actor: { type: 'agent', id: 'agt_j' },
        action: 'tool.call.completed',
        details: {},
      }),
    );
    journal.syncSoon(file);
    await until(() => synced.length >= 1, { what: 'the lazy sync' });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(new Set(synced).size, 2, 'the new file and its folder');
    await journal.close();
  }));

test('an emptied file is synced: a power cut after a deletion on request (which flushes, emptying the journal) cannot bring back the erased records’ details', () =>
  onStore(async (s) => {
    const path = s.store.auditJournal!;
    /** Whether the file named the person at each of its syncs. */
    const seen: boolean[] = [];
    const journal = new EntryJournal(path, {
      fdatasync: (_fd, cb) => {
        seen.push(readFileSync(path, 'latin1').includes('kim@acme.test'));
        cb(null);
      },
    });
    const file = journal.write(namingKim(1));
    await journal.sync(file);
    journal.placed([file]);
    await journal.emptyPlaced(async () => undefined, true);
    assert.equal(Buffer.byteLength(journalRecords(path)), 0);
    assert.ok(!readFileSync(path, 'latin1').includes('kim@acme.test'), 'zeros written over the record');
    assert.equal(seen.at(-1), false, 'the zeros themselves are synced');
    await journal.close();
  }));

test('what the journal left cannot be looked up at all (every try fails): a flush fails rather than say all is placed, so a deletion on request does not erase around the records', () =>
  onStore(async (s) => {
    const { store, home } = s;
    const { org } = await initOrg(store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
    const left = prepareEntry({
      orgId: org.id,
      actor: { type: 'agent', id: 'agt_j' },
      action: 'tool.call.allowed',
      details: { args: { about: 'kim@acme.test' } },
    });
    addToJournal(store.auditJournal!, `${JSON.stringify(left)}\n`);
    // Every look-up of which records are placed fails (the start's tries all spent).
    const db = new Proxy(store.db, {
      get(target, key) {
        if (key === 'selectFrom')
          return (table: string) => {
            if (table === 'audit_entries') throw new Error('database is locked');
            return target.selectFrom(table as 'audit_entries');
          };
        const v = Reflect.get(target, key);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const trail = trailOf({ ...store, db }, home);
    trail.start();
    await assert.rejects(trail.flush(), /could not be placed/);
    await trail.close();
  }));

test('a decision’s sync is made on the event loop only while the writer’s owner says nothing else would run (the gate’s only call); the decision is journaled either way', () =>
  onStore(async (s) => {
    const { store, home } = s;
    const { org } = await initOrg(store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
    let quiet = true;
    const trail = new AuditTrail({
      // Syncs timed by a clock that stands still: as fast as syncs can be, whatever this disk does.
      store: { ...store, journalSync: { ...store.journalSync, now: () => 0 } },
      keys: vaultLogKeys(new Vault(localKeyring(home, {}))),
      originHost: 'j.test',
      log: silentLogger,
      syncInline: () => quiet,
    });
    trail.start();
    await trail.flush();
    const decide = (n: number) =>
      trail.appendDurable({
        orgId: org.id,
        actor: { type: 'agent', id: 'agt_j' },
        action: 'tool.call.allowed',
        details: { n },
      });
    for (let n = 0; n < 20; n++) await decide(n);
    const inline = trail.journalSyncsInline;
    assert.ok(inline >= 10, `${inline} of 20 decisions synced on the event loop`);
    quiet = false;
    const syncs = trail.journalSyncs;
    for (let n = 20; n < 30; n++) await decide(n);
    assert.equal(trail.journalSyncsInline, inline, 'none on the event loop once other calls would wait');
    assert.ok(trail.journalSyncs >= syncs + 10);
    const lines = journalRecords(store.auditJournal!).split('\n').filter(Boolean);
    assert.equal(lines.filter((l) => l.includes('tool.call.allowed')).length, 30);
    await trail.close();
  }));

test('records are written over zeros written ahead: the file’s length never changes with a record (a sync writes the record alone); an older, appended file goes on after its records; what an emptying cut short left is zeroed at start, not read or copied aside', () =>
  onStore(async (s) => {
    const path = s.store.auditJournal!;
    const event = namingKim;
    const emptyPast = 4096;
    const journal = new EntryJournal(path, {}, emptyPast);
    const lengths = new Set<number>();
    for (let n = 0; n < 3; n++) {
      await journal.sync(journal.write(event(n)));
      lengths.add(statSync(path).size);
    }
    assert.deepEqual([...lengths], [2 * emptyPast], 'written ahead once; each record within it');
    await journal.close();

    // A file an older version appended to (no zeros ahead): read back, and written after its records.
    const older = join(dirname(path), 'older.jsonl');
    const kept = event(10);
    writeFileSync(older, `${JSON.stringify(kept)}\n`, { mode: 0o600 });
    const j2 = new EntryJournal(older, {}, emptyPast);
    assert.deepEqual(
      j2.left().map((e) => e.entry.header.id),
      [kept.header.id],
    );
    const next = event(11);
    j2.write(next);
    await j2.close();
    assert.deepEqual(
      new EntryJournal(older, {}, emptyPast).left().map((e) => e.entry.header.id),
      [kept.header.id, next.header.id],
    );

    // An emptying cut short (killed as it wrote its zeros): zeros, then placed records' remains.
    const cut = join(dirname(path), 'cut.jsonl');
    const remains = `${JSON.stringify(event(20))}\n${JSON.stringify(event(21))}\n`;
    writeFileSync(
      cut,
      Buffer.concat([Buffer.alloc(300), Buffer.from(remains).subarray(300), Buffer.alloc(emptyPast)]),
      {
        mode: 0o600,
      },
    );
    const j3 = new EntryJournal(cut, {}, emptyPast);
    assert.deepEqual(j3.left(), [], 'nothing read back');
    assert.deepEqual(j3.refused, [], 'nothing refused');
    assert.ok(!readFileSync(cut, 'latin1').includes('kim@acme.test'), 'the remains zeroed');
    assert.ok(!existsSync(`${cut}.refused`) && !existsSync(`${path}.refused`), 'nothing copied aside');
    const after = event(22);
    j3.write(after);
    await j3.close();
    assert.deepEqual(
      new EntryJournal(cut, {}, emptyPast).left().map((e) => e.entry.header.id),
      [after.header.id],
    );
  }));

test('what an emptying cut short left is zeroed at start and the zeros synced: a deletion on request after the restart (which flushes, finding nothing to empty) cannot have the erased details come back with a power cut', () =>
  onStore(async (s) => {
    const path = s.store.auditJournal!;
    const emptyPast = 4096;
    const named = namingKim;
    // Killed as the emptying wrote its zeros: zeros, then what is left of placed records.
    const remains = Buffer.from(journalLine(named(1)) + journalLine(named(2)));
    writeFileSync(
      path,
      Buffer.concat([Buffer.alloc(200), remains.subarray(200), Buffer.alloc(2 * emptyPast)]),
      {
        mode: 0o600,
      },
    );
    /** Whether the file named the person at each sync of it made on the spot. */
    const seen: boolean[] = [];
    const journal = new EntryJournal(
      path,
      {
        fdatasyncSync: (fd) => {
          seen.push(readFileSync(path, 'latin1').includes('kim@acme.test'));
          fdatasyncSync(fd);
        },
      },
      emptyPast,
    );
    assert.deepEqual(journal.left(), []);
    assert.deepEqual(journal.refused, [], 'nothing refused or copied aside');
    assert.ok(!readFileSync(path, 'latin1').includes('kim@acme.test'), 'zeroed');
    assert.deepEqual(seen, [false], 'and the zeros synced at once');
    await journal.emptyPlaced(async () => undefined, true);
    await journal.close();
  }));

test('a close while an emptying waits for its sync (a flush racing a stop) waits for it, and opens no file again', () =>
  onStore(async (s) => {
    const path = s.store.auditJournal!;
    const dir = dirname(path);
    const journal = new EntryJournal(path, {}, 1000);
    const inFile: number[] = [];
    for (let n = 0, f = 0; f === 0; n++) {
      f = journal.write(
        prepareEntry({
          orgId: 'org_j',
          actor: { type: 'agent', id: 'agt_j' },
          action: 'tool.call.allowed',
          details: { n },
        }),
      );
      inFile.push(f);
    }
    journal.placed(inFile.filter((f) => f === 0));
    let synced!: () => void;
    const placedSynced = new Promise<void>((r) => {
      synced = r;
    });
    let waiting = false;
    const emptying = journal.emptyPlaced(() => {
      waiting = true;
      return placedSynced;
    });
    await until(() => waiting, { what: 'the emptying waiting for its sync' });
    let closed = false;
    const closing = journal.close().then(() => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(closed, false, 'the close waits for the emptying under way');
    synced();
    await emptying;
    await closing;
    const open = readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        const target = readlinkSync(`/proc/self/fd/${fd}`);
        return target.startsWith(dir) && !target.endsWith('.db') && !target.includes('.db-') ? [target] : [];
      } catch {
        return [];
      }
    });
    assert.deepEqual(open, [], 'no journal file (or its folder) is open after the close');
  }));

test('lines an earlier version kept aside whole are narrowed at start to what they were: no call’s arguments stay out of a deletion’s reach', () =>
  onStore(async (s) => {
    const path = s.store.auditJournal!;
    const whole = JSON.stringify(namingKim(1));
    writeFileSync(`${path}.refused`, `${whole}\nnot json, about kim@acme.test\n`, { mode: 0o600 });
    new EntryJournal(path).left();
    const aside = readFileSync(`${path}.refused`, 'utf8');
    assert.ok(!aside.includes('kim@acme.test'), aside);
    const lines = aside
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { sha256: string; why: string });
    assert.deepEqual(
      lines.map((l) => l.sha256),
      [whole, 'not json, about kim@acme.test'].map((l) => createHash('sha256').update(l).digest('hex')),
    );
    const again = readFileSync(`${path}.refused`, 'utf8');
    new EntryJournal(path).left();
    assert.equal(readFileSync(`${path}.refused`, 'utf8'), again, 'narrowed once');
  }));
