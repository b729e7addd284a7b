/**
 * Whoever can NOTIFY on the database (any role that connects) can put events on `paddock_mcp`.
 * A replica opens a sealed event only when it holds the session (or an agent's session) it is
 * for: the org's data key is asked for then, never for an org a stranger names — the vault makes
 * a data key for an org it has none for, so each forged org id would be a new key row and a key
 * held in memory on every replica.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { silentLogger } from '../../log/index.ts';
import { openTestStore, type TestStore } from '../../testing/stores.ts';
import { until } from '../../testing/until.ts';
import { BusSeal } from '../bus-seal.ts';
import { McpSessions } from './sessions.ts';

let t: TestStore;
before(async () => {
  t = await openTestStore('postgres');
});
after(async () => {
  await t.cleanup();
});

test('forged bus events for sessions this replica does not hold ask for no org key', async () => {
  const asked: string[] = [];
  const ended: string[] = [];
  const sessions = new McpSessions({
    // Only `relays.end` is reached here: an `ended` event for a session this replica does not hold.
    server: {
      gate: { relays: { end: (s: { sessionId: string }) => ended.push(s.sessionId) } } as never,
      db: t.store.db,
      log: silentLogger,
    },
    store: t.store,
    databaseUrl: t.databaseUrl,
    audit: {} as never,
    log: silentLogger,
    busSeal: new BusSeal(async (orgId) => {
      asked.push(orgId);
      return randomBytes(32);
    }),
  });
  const stranger = new pg.Client({ connectionString: t.databaseUrl });
  await stranger.connect();
  try {
    await sessions.listening();
    const forged = [
      { from: 'x', kind: 'answer', orgId: 'org_forged_1', idHash: 'a'.repeat(64), sealed: 'v1.AA.AA.AA' },
      { from: 'x', kind: 'notify', orgId: 'org_forged_2', agentId: 'agt_forged', sealed: 'v1.AA.AA.AA' },
    ];
    for (const e of forged)
      await stranger.query('select pg_notify($1, $2)', ['paddock_mcp', JSON.stringify(e)]);
    // Delivered in order: once this one is handled, the forged ones were looked at.
    const last = 'f'.repeat(64);
    await stranger.query('select pg_notify($1, $2)', [
      'paddock_mcp',
      JSON.stringify({ from: 'x', kind: 'ended', idHash: last }),
    ]);
    await until(async () => ended.includes(last) || undefined, { what: 'the last event handled' });
    assert.deepEqual(asked, [], 'no org key asked for an event no session here waits on');
  } finally {
    await stranger.end();
    await sessions.close();
  }
});
