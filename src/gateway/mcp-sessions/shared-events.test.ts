/**
 * Stream events kept for other replicas (PostgreSQL, where replicas share a database): replayed
 * after an id another replica gave, per stream, priming events left out; readable only with the
 * session's key and within its org; bounded per session and replica; forgotten when old.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { silentLogger } from '../../log/index.ts';
import { seedOrg } from '../../testing/fixtures.ts';
import { openTestStore, type TestStore } from '../../testing/stores.ts';
import { KEEP, KEEP_BYTES, KEEP_MS, SessionEvents } from './events.ts';
import { type AnswerSession, sessionKey } from './passed-answers.ts';
import { GET_STREAM, SharedEvents } from './shared-events.ts';

const note = (n: number) =>
  ({ jsonrpc: '2.0', method: 'notifications/message', params: { n } }) as JSONRPCMessage;

describe('stream events kept for other replicas [postgres]', () => {
  let t: TestStore;
  let session: AnswerSession;
  let otherOrg: string;
  before(async () => {
    t = await openTestStore('postgres');
    session = {
      orgId: (await seedOrg(t.store, 'acme')).id,
      idHash: 'h'.repeat(64),
      key: sessionKey('s'.repeat(43)),
    };
    otherOrg = (await seedOrg(t.store, 'globex')).id;
  });
  after(() => t.cleanup());

  test('another replica replays a stream after the id it was given, per stream, without priming events', async () => {
    const a = new SharedEvents(t.store.db, silentLogger, 'replica-a');
    const b = new SharedEvents(t.store.db, silentLogger, 'replica-b');
    a.keep(session, { seq: 100, streamId: GET_STREAM, message: {} as JSONRPCMessage, oldest: 100 });
    a.keep(session, { seq: 101, streamId: GET_STREAM, message: note(1), oldest: 100 });
    a.keep(session, { seq: 102, streamId: 'post-1', message: note(99), oldest: 100 });
    a.keep(session, { seq: 103, streamId: GET_STREAM, message: note(2), oldest: 100 });
    await a.flush();
    const replay = await b.after(session, '100');
    assert.deepEqual(replay, {
      streamId: GET_STREAM,
      events: [
        { id: '101', message: note(1) },
        { id: '103', message: note(2) },
      ],
    });
    assert.deepEqual((await b.after(session, '102'))?.events, []);
    assert.equal(await b.after(session, '999'), undefined, 'an id never given');
    // Another org, another session, another key: nothing.
    assert.equal(await b.after({ ...session, orgId: otherOrg }, '100'), undefined);
    assert.equal(await b.after({ ...session, idHash: 'x'.repeat(64) }, '100'), undefined);
    assert.equal(await b.after({ ...session, key: sessionKey('t'.repeat(43)) }, '100'), undefined);
    const rows = await t.store.db.selectFrom('mcp_session_events').select('sealed').execute();
    assert.ok(
      rows.every((r) => !r.sealed.includes('notifications')),
      'sealed',
    );
  });

  test(`at most ${KEEP} per session and replica; older than ${KEEP_MS / 60_000} minutes forgotten`, async () => {
    const a = new SharedEvents(t.store.db, silentLogger, 'replica-c');
    const s = { ...session, idHash: 'c'.repeat(64) };
    // As a session's memory copy hands them over (sessions.ts).
    const events = new SessionEvents(0, (e) => a.keep(s, e));
    for (let i = 1; i <= KEEP + 10; i++) await events.storeEvent(GET_STREAM, note(i));
    await a.flush();
    const count = async () =>
      (
        await t.store.db
          .selectFrom('mcp_session_events')
          .select('seq')
          .where('session_hash', '=', s.idHash)
          .execute()
      ).length;
    assert.equal(await count(), KEEP);
    await a.expire(Date.now());
    assert.equal(await count(), KEEP, 'not yet');
    await a.expire(Date.now() + KEEP_MS + 1_000);
    assert.equal(await count(), 0);
  });

  test(`bounded by size as the memory copy is (${KEEP_BYTES / 1024 / 1024} MB per session and replica; a larger event not kept)`, async () => {
    const a = new SharedEvents(t.store.db, silentLogger, 'replica-d');
    const s = { ...session, idHash: 'd'.repeat(64) };
    const events = new SessionEvents(0, (e) => a.keep(s, e));
    const big = (n: number, bytes: number) =>
      ({
        jsonrpc: '2.0',
        method: 'notifications/message',
        params: { n, data: 'x'.repeat(bytes) },
      }) as JSONRPCMessage;
    // Twenty tool results of 200 kB: 4 MB sent, 1 MB kept.
    for (let i = 1; i <= 20; i++) await events.storeEvent(GET_STREAM, big(i, 200_000));
    await a.flush();
    const stored = async () =>
      (
        await t.store.db
          .selectFrom('mcp_session_events')
          .select(['seq', 'sealed'])
          .where('session_hash', '=', s.idHash)
          .orderBy('seq')
          .execute()
      ).map((r) => ({ seq: Number(r.seq), size: r.sealed.length }));
    const kept = await stored();
    assert.ok(kept.length > 0 && kept.length <= 5, `${kept.length} kept`);
    assert.ok(events.bytes <= KEEP_BYTES);
    assert.ok(events.knows(String(kept[0]!.seq)), 'the oldest kept here is the oldest kept in memory');
    assert.equal(events.knows(String(kept[0]!.seq - 1)), false);
    // One larger than the whole budget: kept nowhere, and what came before it is gone as in memory.
    await events.storeEvent(GET_STREAM, big(21, KEEP_BYTES + 10));
    await a.flush();
    assert.deepEqual(await stored(), []);
  });
});
