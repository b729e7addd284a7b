/**
 * Nothing acknowledged is lost: kill -9 the server while configuration changes stream in; after
 * restart every acknowledged change is there, each with its audit record. And kill -9 it while
 * an agent's tool calls stream through `/mcp/{org}`: every call answered has both its records,
 * the decision and the result.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AuditTrail, verifyLog } from '../audit/index.ts';
import { silentLogger } from '../log/index.ts';
import { openStore } from '../store/index.ts';
import { allAuditEntries } from '../testing/fixtures.ts';
import { EVERYTHING } from '../testing/served.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';
import { localKeyring, Vault, vaultLogKeys } from '../vault/index.ts';

const BIN = fileURLToPath(new URL('../../bin/paddock.js', import.meta.url));

function up(env: NodeJS.ProcessEnv): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, [BIN, 'up', '--port', '0'], {
    env: { ...process.env, ...env, PADDOCK_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      out += String(d);
      const m = /is running at (http:\/\/\S+)/.exec(out);
      if (m) resolve({ proc, url: m[1]! });
    });
    proc.once('exit', (c) => reject(new Error(`exited ${c}: ${out}`)));
  });
}

for (const kind of STORE_KINDS) {
  describe(`kill -9 during writes [${kind}]`, () => {
    let t: TestStore | undefined;
    let proc: ChildProcess | undefined;
    after(async () => {
      proc?.kill('SIGKILL');
      await t?.cleanup();
    });

    test('every acknowledged change and its audit record survive', async () => {
      t = await openTestStore(kind);
      const env = { PADDOCK_HOME: t.home, DATABASE_URL: t.databaseUrl ?? '' };
      const tokenFile = join(t.home, 't');
      const init = spawnSync(
        process.execPath,
        [BIN, 'init', '--org', 'acme', '--owner', 'o@acme.test', '--token-file', tokenFile],
        {
          env: { ...process.env, ...env },
          encoding: 'utf8',
        },
      );
      assert.equal(init.status, 0, init.stderr);
      const headers = {
        authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`,
        'content-type': 'application/json',
      };
      const server = await up(env);
      proc = server.proc;

      const acknowledged: string[] = [];
      let stop = false;
      const writer = async (w: number) => {
        for (let i = 0; !stop; i++) {
          try {
            const r = await fetch(`${server.url}/api/v1/orgs/acme/teams`, {
              method: 'POST',
              headers,
              body: JSON.stringify({ name: `team-${w}-${i}` }),
            });
            if (r.status === 201) acknowledged.push(((await r.json()) as { id: string }).id);
          } catch {
            return; // the server is gone
          }
        }
      };
      const writers = [0, 1, 2, 3].map(writer);
      // Killed mid-stream at a random point, once enough changes were acknowledged to mean something.
      const killAfter = 11 + Math.floor(Math.random() * 40);
      await until(() => acknowledged.length >= killAfter, {
        timeoutMs: 30_000,
        what: `${killAfter} acknowledged writes`,
      });
      proc.kill('SIGKILL');
      stop = true;
      await Promise.all(writers);

      const store = await openStore({ home: t.home, databaseUrl: t.databaseUrl });
      try {
        const teams = new Set((await store.db.selectFrom('teams').select('id').execute()).map((r) => r.id));
        const audited = new Set(
          (await allAuditEntries(store)).filter((r) => r.action === 'team.created').map((r) => r.target_id),
        );
        const lost = acknowledged.filter((id) => !teams.has(id));
        assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged changes lost`);
        assert.deepEqual(
          [...teams].filter((id) => !audited.has(id)),
          [],
          'a change without its audit record',
        );
        // Restarted, the writer places what was pending and the whole log verifies.
        const trail = new AuditTrail({
          store,
          keys: vaultLogKeys(new Vault(localKeyring(t.home, {}))),
          originHost: 'paddock.test',
          log: silentLogger,
        });
        await trail.flush();
        await trail.close();
        const orgId = (await store.db.selectFrom('orgs').select('id').executeTakeFirstOrThrow()).id;
        const report = await verifyLog(store.db, orgId);
        assert.ok(report.ok, JSON.stringify(report.problem));
        assert.equal(report.pending, 0);
      } finally {
        await store.close();
      }
    });
  });
}

/** `paddock init` for org `acme`, then `paddock up`: the server and the owner's request headers. */
async function initAndUp(t: TestStore) {
  const env = { PADDOCK_HOME: t.home, DATABASE_URL: t.databaseUrl ?? '' };
  const tokenFile = join(t.home, 't');
  const init = spawnSync(
    process.execPath,
    [BIN, 'init', '--org', 'acme', '--owner', 'o@acme.test', '--token-file', tokenFile],
    { env: { ...process.env, ...env }, encoding: 'utf8' },
  );
  assert.equal(init.status, 0, init.stderr);
  const headers = {
    authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`,
    'content-type': 'application/json',
  };
  return { ...(await up(env)), headers };
}

for (const kind of STORE_KINDS) {
  describe(`kill -9 right after tool calls are answered [${kind}]`, () => {
    let t: TestStore | undefined;
    let proc: ChildProcess | undefined;
    after(async () => {
      proc?.kill('SIGKILL');
      await t?.cleanup();
    });

    test('every answered call has its decision and its result on record after restart', async () => {
      t = await openTestStore(kind);
      const server = await initAndUp(t);
      proc = server.proc;
      const api = async (path: string, body?: unknown) => {
        const r = await fetch(`${server.url}/api/v1/orgs/acme${path}`, {
          method: 'POST',
          headers: server.headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        assert.ok(r.status < 300, `${path}: ${r.status} ${await r.clone().text()}`);
        return (await r.json()) as { id: string; token: string };
      };
      const conn = await api('/connections', {
        name: 'everything',
        transport: 'stdio',
        command: 'node',
        args: EVERYTHING,
      });
      await api(`/connections/${conn.id}/tools/refresh`);
      const agent = await api('/agents', {
        name: 'remote',
        scope: 'organization',
        instructions: 'x',
        model: { provider: 'openai', model: 'm' },
      });
      await api(`/agents/${agent.id}/grants`, { connectionId: conn.id, tool: 'echo' });
      const { token } = await api(`/agents/${agent.id}/tokens`, { name: 'laptop' });

      // Calls answered: the message each echoed (its record names it among the arguments).
      const answered: string[] = [];
      let stop = false;
      const caller = async (w: number) => {
        for (let i = 0; !stop; i++) {
          try {
            const r = await fetch(`${server.url}/mcp/acme`, {
              method: 'POST',
              headers: {
                authorization: `Bearer ${token}`,
                'content-type': 'application/json',
                accept: 'application/json, text/event-stream',
                'mcp-protocol-version': '2025-06-18',
              },
              body: JSON.stringify({
                jsonrpc: '2.0',
                id: i,
                method: 'tools/call',
                params: { name: 'everything__echo', arguments: { message: `call ${w}-${i}` } },
              }),
            });
            const body = (await r.json()) as { result?: { isError?: boolean } };
            assert.equal(body.result?.isError, false, JSON.stringify(body));
            answered.push(`call ${w}-${i}`);
          } catch {
            return; // the server is gone
          }
        }
      };
      const callers = [0, 1, 2, 3].map(caller);
      // Killed at a random point, the moment that many calls have their answers.
      const killAfter = 5 + Math.floor(Math.random() * 30);
      await until(() => answered.length >= killAfter, { timeoutMs: 60_000, what: `${killAfter} answers` });
      proc.kill('SIGKILL');
      stop = true;
      await Promise.all(callers);

      const store = await openStore({ home: t.home, databaseUrl: t.databaseUrl });
      try {
        // Restarted: the audit writer starts as the server's does, placing what it journaled.
        const trail = new AuditTrail({
          store,
          keys: vaultLogKeys(new Vault(localKeyring(t.home, {}))),
          originHost: 'paddock.test',
          log: silentLogger,
        });
        trail.start();
        await trail.flush();
        await trail.close();
        const orgId = (await store.db.selectFrom('orgs').select('id').executeTakeFirstOrThrow()).id;
        const report = await verifyLog(store.db, orgId);
        assert.ok(report.ok, JSON.stringify(report.problem));
        const rows = await store.db
          .selectFrom('audit_entries')
          .select(['action', 'id', 'details'])
          .where('action', 'in', ['tool.call.allowed', 'tool.call.completed'])
          .execute();
        const details = (r: { details: string | null }) =>
          JSON.parse(r.details ?? '{}') as { args?: { message: string }; allowedEntryId?: string };
        // The decision names the call's arguments; the result names its decision's entry.
        const decisionOf = new Map(
          rows.filter((r) => r.action === 'tool.call.allowed').map((r) => [details(r).args!.message, r.id]),
        );
        const results = new Set(
          rows.filter((r) => r.action === 'tool.call.completed').map((r) => details(r).allowedEntryId),
        );
        assert.deepEqual(
          answered.filter((m) => !decisionOf.has(m)),
          [],
          'an answered call without its decision',
        );
        assert.deepEqual(
          answered.filter((m) => !results.has(decisionOf.get(m))),
          [],
          `an answered call without its result (${answered.length} answered)`,
        );
      } finally {
        await store.close();
      }
    });
  });
}
