/**
 * The deep check (`paddock audit verify --deep`): every stored node of a log's tree against the
 * tree recomputed from its entries — across its page boundaries (10,000 entries), on a live log
 * growing while it is verified (nodes of entries placed meanwhile are the next verify's), and with
 * a row no proof reads (keyed below 0). A node beyond the log's size: verify.test.ts.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely';

import { initOrg, operatorCaller } from '../identity/index.ts';
import { silentLogger } from '../log/index.ts';
import { openStore } from '../store/index.ts';
import { openTestStore, type TestStore } from '../testing/stores.ts';
import { localKeyring, Vault, vaultLogKeys } from '../vault/index.ts';
import { AuditTrail } from './trail.ts';
import { verifyLog } from './verify.ts';

const stores: TestStore[] = [];
after(() => Promise.all(stores.map((s) => s.cleanup())));

/** A fresh embedded store, an org, and a writer on its log. */
async function orgLog(checkpointIntervalMs?: number) {
  const t = await openTestStore('sqlite');
  stores.push(t);
  const { org } = await initOrg(t.store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
  const trail = new AuditTrail({
    store: t.store,
    keys: vaultLogKeys(new Vault(localKeyring(t.home, {}))),
    originHost: 'paddock.test',
    log: silentLogger,
    ...(checkpointIntervalMs === undefined ? {} : { checkpointIntervalMs }),
  });
  return { t, org, trail };
}

test('deep verify of untouched logs across PAGE boundaries', async () => {
  const { t, org, trail } = await orgLog(3_600_000);
  const size = async () => (await trail.checkpoint(org.id)).size;
  const growTo = async (n: number) => {
    const have = await size();
    const all: Promise<unknown>[] = [];
    for (let i = have; i < n; i++)
      all.push(
        trail.appendSoon({
          orgId: org.id,
          actor: { type: 'system', id: 't' },
          action: 'test.entry',
          details: { i },
        }),
      );
    await Promise.all(all);
    assert.equal(await size(), n);
  };
  for (const n of [9_999, 10_000, 10_001, 20_000]) {
    await growTo(n);
    const r = await verifyLog(t.store.db, org.id, { deep: true });
    assert.ok(r.ok, `${n}: ${r.problem?.message}`);
    assert.equal(r.entries, n);
  }
  // A node removed just past the page boundary, and one removed at the very end, are found.
  for (const [last, level] of [
    [10_001, 1],
    [19_999, 4],
    [15_999, 7],
  ] as const) {
    await t.store.db
      .transaction()
      .execute(async (trx) => {
        await trx
          .deleteFrom('audit_nodes')
          .where('log_id', '=', org.id)
          .where('last_idx', '=', last)
          .where('level', '=', level)
          .execute();
        const r = await verifyLog(trx, org.id, { deep: true });
        assert.equal(r.ok, false, `${last}/${level}`);
        assert.match(r.problem!.message, /is missing/);
        throw Object.assign(new Error('rollback'), { rollback: true });
      })
      .catch((e) => {
        if (!e.rollback) throw e;
      });
  }
  await trail.close();
});

test('a deep verify of an untouched log that grows while it is verified does not report tampering', async () => {
  const { t, org, trail } = await orgLog(0);
  const add = (i: number) =>
    trail.append({ orgId: org.id, actor: { type: 'system', id: 't' }, action: 'test.entry', details: { i } });
  for (let i = 0; i < 20; i++) await add(i);
  await trail.checkpoint(org.id);
  assert.ok((await verifyLog(t.store.db, org.id, { deep: true })).ok, 'untouched, not growing: ok');

  // The server places a few more calls while the verifier walks the entries (after it read the size).
  const nodeQueries = new Set<unknown>();
  let grown = false;
  const growWhileWalking: KyselyPlugin = {
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      const n = args.node as {
        kind: string;
        from?: { froms: Array<{ table?: { identifier?: { name?: string } } }> };
      };
      if (
        n.kind === 'SelectQueryNode' &&
        n.from?.froms.some((f) => f.table?.identifier?.name === 'audit_nodes')
      )
        nodeQueries.add(args.queryId);
      return args.node;
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      if (!grown && nodeQueries.has(args.queryId)) {
        grown = true;
        for (let i = 20; i < 23; i++) await add(i);
      }
      return args.result;
    },
  };
  // The verifier is another process (the CLI): its own connection to the same database.
  const cli = await openStore({ home: t.home, migrate: false });
  const r = await verifyLog(cli.db.withPlugin(growWhileWalking), org.id, { deep: true });
  await cli.close();
  assert.ok(grown, 'the log grew during the verify');
  assert.ok(r.ok, `false alarm on an untouched log: ${r.problem?.message}`);
  await trail.close();
});

test('deep verify finds a stored row that is no node of the tree, whatever its last_idx', async () => {
  const { t, org, trail } = await orgLog();
  for (let i = 0; i < 8; i++)
    await trail.append({
      orgId: org.id,
      actor: { type: 'system', id: 't' },
      action: 'test.entry',
      details: { i },
    });
  await trail.close();
  assert.ok((await verifyLog(t.store.db, org.id, { deep: true })).ok);
  await t.store.db
    .insertInto('audit_nodes')
    .values({ log_id: org.id, last_idx: -1, level: 3, idx: 0, hash: Buffer.alloc(32, 7).toString('base64') })
    .execute();
  const r = await verifyLog(t.store.db, org.id, { deep: true });
  assert.equal(r.ok, false, 'a foreign row in the log’s nodes went unnoticed');
});
