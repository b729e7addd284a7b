/**
 * The session pool over stand-in servers: one session per agent and connection, opened once;
 * closed by agent, org, connection or secret (and only those); idle ones close unless their agent
 * is busy; a server that exits or fails to start is dropped and opened anew on the next call.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConnectionToOpen, OpenSession } from '../connections/index.ts';
import { SessionPool } from './session-pool.ts';

const conn = (id: string, orgId = 'org_1', env: Record<string, string> = {}): ConnectionToOpen => ({
  id,
  org_id: orgId,
  transport: 'stdio',
  command: 'node',
  args: '[]',
  url: null,
  env: JSON.stringify(env),
  headers: '{}',
});

/** A pool over fake servers, with what was opened and closed. */
function pool(opts: { busy?: Set<string>; fail?: boolean } = {}) {
  const opened: string[] = [];
  const closed: string[] = [];
  const clients = new Map<string, { onclose?: () => void }>();
  const p = new SessionPool({
    busy: (agentId) => opts.busy?.has(agentId) ?? false,
    open: async (c, agentId) => {
      opened.push(`${agentId}/${c.id}`);
      if (opts.fail) throw new Error('did not start');
      const client = {
        onclose: undefined as undefined | (() => void),
        close: async () => {
          closed.push(`${agentId}/${c.id}`);
        },
      };
      clients.set(`${agentId}/${c.id}`, client);
      return { client, scrub: (x: unknown) => x } as unknown as OpenSession;
    },
  });
  return { p, opened, closed, clients };
}

describe('the session pool', () => {
  test('one session per agent and connection, opened on first use', async () => {
    const { p, opened } = pool();
    assert.equal(p.find('agt_1', 'con_1'), undefined);
    const first = p.open('agt_1', conn('con_1'));
    assert.equal(p.open('agt_1', conn('con_1')), first);
    assert.equal(p.find('agt_1', 'con_1'), first);
    p.open('agt_2', conn('con_1'));
    await first.ready;
    assert.deepEqual(opened, ['agt_1/con_1', 'agt_2/con_1']);
    assert.deepEqual(p.agentIds().sort(), ['agt_1', 'agt_2']);
    await p.closeAll();
  });

  test('closing by agent, org, connection or secret ends those sessions and no others', async () => {
    const { p, closed } = pool();
    p.open('agt_1', conn('con_1'));
    p.open('agt_1', conn('con_2', 'org_1', { TOKEN: 'sec_1' }));
    p.open('agt_2', conn('con_1'));
    p.open('agt_3', conn('con_3', 'org_2'));
    await p.close({ secretId: 'sec_1' });
    assert.deepEqual(closed, ['agt_1/con_2']);
    await p.close({ connectionId: 'con_1' });
    assert.deepEqual(closed.slice(1).sort(), ['agt_1/con_1', 'agt_2/con_1']);
    p.open('agt_1', conn('con_1'));
    await p.close({ agentId: 'agt_3' });
    assert.deepEqual(closed.at(-1), 'agt_3/con_3');
    await p.close({ orgId: 'org_1' });
    assert.deepEqual(closed.at(-1), 'agt_1/con_1');
    assert.deepEqual(p.agentIds(), []);
    await p.closeAll();
  });

  test('idle sessions close, but never while their agent has a call in flight', async () => {
    const busy = new Set(['agt_busy']);
    const { p, closed } = pool({ busy });
    p.open('agt_idle', conn('con_1'));
    p.open('agt_busy', conn('con_1'));
    await p.close({ unusedForMs: 60_000 });
    assert.deepEqual(closed, [], 'used just now');
    await p.close({ unusedForMs: 0 });
    assert.deepEqual(closed, ['agt_idle/con_1']);
    await p.closeAll();
  });

  test('a server that exits, or never starts, is dropped: the next call opens it anew', async () => {
    const { p, opened, clients } = pool();
    await p.open('agt_1', conn('con_1')).ready;
    clients.get('agt_1/con_1')!.onclose!();
    assert.equal(p.find('agt_1', 'con_1'), undefined);
    const failing = pool({ fail: true });
    await assert.rejects(failing.p.open('agt_1', conn('con_1')).ready);
    assert.equal(failing.p.find('agt_1', 'con_1'), undefined);
    failing.p.open('agt_1', conn('con_1')).ready.catch(() => undefined);
    assert.deepEqual(failing.opened, ['agt_1/con_1', 'agt_1/con_1']);
    assert.deepEqual(opened, ['agt_1/con_1']);
    await p.closeAll();
    await failing.p.closeAll();
  });

  test("a per-person connection's sessions are each person's own, and close by person", async () => {
    const { p, opened, closed } = pool();
    const personal = { ...conn('con_p'), transport: 'http' as const, per_person: 1 };
    const alice = p.open('agt_1', personal, 'usr_alice');
    const bob = p.open('agt_1', personal, 'usr_bob');
    assert.notEqual(alice, bob, 'never shared between people');
    assert.equal(p.find('agt_1', 'con_p', 'usr_alice'), alice);
    assert.equal(p.find('agt_1', 'con_p', 'usr_bob'), bob);
    assert.equal(p.find('agt_1', 'con_p', 'usr_carol'), undefined);
    assert.equal(p.find('agt_1', 'con_p'), undefined, 'no one’s call finds no one’s session');
    // An ordinary connection's session is the agent's, whoever the call is for.
    const shared = p.open('agt_1', conn('con_1'), 'usr_alice');
    assert.equal(p.find('agt_1', 'con_1', 'usr_bob'), shared);
    await Promise.all([alice.ready, bob.ready, shared.ready]);
    assert.equal(opened.length, 3);
    await p.close({ personId: 'usr_alice', connectionId: 'con_p' });
    assert.deepEqual(closed, ['agt_1/con_p']);
    assert.equal(p.find('agt_1', 'con_p', 'usr_alice'), undefined);
    assert.equal(p.find('agt_1', 'con_p', 'usr_bob'), bob);
    assert.equal(p.find('agt_1', 'con_1'), shared, "a person's filter never closes an ordinary session");
    await p.close({ personId: 'usr_bob' });
    assert.equal(p.find('agt_1', 'con_p', 'usr_bob'), undefined);
    await p.closeAll();
  });
});
