/**
 * stdio MCP servers in the org's bubblewrap sandbox, for real: each (connection, agent) session
 * has its own writable folder and runs as its org's own host user, so what one server writes to
 * disk (an agent's token, say) is read neither by another server of the org nor by another org,
 * from inside a sandbox or, after an escape, as that host user.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { bubblewrap, orgUsersProblem } from '../cells/bubblewrap.ts';
import { serverFolder } from '../cells/folders.ts';
import { orgHostUser } from '../cells/host-users.ts';
import { loadConfig } from '../config/index.ts';
import { silentLogger } from '../log/index.ts';
import { buildDeps } from '../server/deps.ts';
import { type SeededOrg, seedOrg } from '../testing/fixtures.ts';
import { descendantNamed, hostIds, NODE } from '../testing/processes.ts';
import { openTestStore, type TestStore } from '../testing/stores.ts';
import { openConnection } from './open.ts';
import type { SandboxedStdioTransport } from './stdio.ts';

const PROBE_SERVER = fileURLToPath(new URL('./probe-server.ts', import.meta.url));

describe('stdio MCP servers: a folder per session, a host user per org', () => {
  let t: TestStore;
  let deps: ReturnType<typeof buildDeps>;
  let acme: SeededOrg;
  let globex: SeededOrg;

  before(async () => {
    const check = await bubblewrap.check();
    assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
    t = await openTestStore('sqlite');
    deps = buildDeps(
      loadConfig({ home: t.home, port: 7070 }, {}),
      silentLogger,
      t.store,
      {},
      { provider: bubblewrap, problem: null },
    );
    acme = await seedOrg(t.store, 'acme');
    globex = await seedOrg(t.store, 'globex');
  });
  after(async () => {
    await deps?.gateway.close();
    await deps?.audit.close();
    await t?.cleanup();
  });

  /** A session to the probe server, opened the one way the gateway and tool listing do. */
  const open = async (orgId: string, connectionId: string, agentId: string | null) => {
    const row = {
      id: connectionId,
      org_id: orgId,
      transport: 'stdio' as const,
      command: 'node',
      args: JSON.stringify([PROBE_SERVER]),
      url: null,
      env: '{}',
      headers: '{}',
    };
    return (await openConnection(deps.opener, row, agentId)).client;
  };
  const probe = async (client: Client, args: { write?: string; read?: string[] }) => {
    const r = await client.callTool({ name: 'probe', arguments: args });
    return JSON.parse((r.content as Array<{ text: string }>)[0]!.text) as {
      reads: Record<string, string>;
      listing: string[];
    };
  };

  test('a server’s files are its own: not another session’s of its org, not another org’s; host uid neither root nor the home’s owner', async () => {
    assert.ok(bubblewrap.runsAsOrgUsers, `host users per org are not enforced here: ${orgUsersProblem()}`);
    const first = await open(acme.id, 'con_1', 'agt_1');
    const others = {
      'the same connection for another agent': await open(acme.id, 'con_1', 'agt_2'),
      'another connection for the same agent': await open(acme.id, 'con_2', 'agt_1'),
      'the admins’ tool listing of the same connection': await open(acme.id, 'con_1', null),
      'another org’s server': await open(globex.id, 'con_1', 'agt_1'),
    };
    try {
      await probe(first, { write: 'token.txt' });
      const folder = serverFolder(t.home, acme.id, 'con_1', 'agt_1');
      const token = join(folder, 'token.txt');
      assert.deepEqual((await probe(first, { read: ['/cell/token.txt'] })).reads, {
        '/cell/token.txt': 'ALLOWED secret of token.txt',
      });

      // The host's view: the file and the server's process belong to the org's own user.
      const acmeUser = await orgHostUser(t.store.db, acme.id);
      const globexUser = await orgHostUser(t.store.db, globex.id);
      const homeOwner = statSync(t.home).uid;
      assert.equal(statSync(token).uid, acmeUser.uid);
      const pid = (first.transport as SandboxedStdioTransport).pid!;
      const { uids } = hostIds(await descendantNamed(pid, NODE));
      assert.deepEqual(uids, Array(4).fill(acmeUser.uid));
      assert.ok(![0, homeOwner].includes(acmeUser.uid), `uid ${acmeUser.uid} is root or owns the home`);
      assert.notEqual(acmeUser.uid, globexUser.uid);

      // From inside every other sandbox: its /cell is its own, and the token is nowhere to be read.
      for (const [who, client] of Object.entries(others)) {
        const r = await probe(client, { read: ['/cell/token.txt', token, join(t.home, 'master.key')] });
        assert.deepEqual(r.listing, [], `${who}: an empty folder of its own`);
        for (const [path, result] of Object.entries(r.reads))
          assert.match(result, /^refused /, `${who} reading ${path}: ${result}`);
      }

      // After an escape, as either org's host user: no org folder is reachable on the host, nor the key.
      for (const { uid, gid } of [acmeUser, globexUser]) {
        for (const path of [token, join(t.home, 'master.key')]) {
          const r = spawnSync('/bin/cat', [path], { uid, gid, encoding: 'utf8' });
          assert.match(r.stderr, /Permission denied/, `${path} as uid ${uid}: ${r.status} ${r.stdout}`);
        }
      }
    } finally {
      await Promise.all([first, ...Object.values(others)].map((c) => c.close()));
    }
  });
});
