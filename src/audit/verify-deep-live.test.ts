/**
 * `paddock audit verify --deep` runs on the live log: entries placed while it walks (after it read
 * the log's size) are left to the next verify, not reported as tampering (their nodes are beyond
 * the size it verifies; one beyond the log's size now still is: verify.test.ts).
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

let t: TestStore | undefined;
after(() => t?.cleanup());

test('a deep verify of an untouched log that grows while it is verified does not report tampering', async () => {
  t = await openTestStore('sqlite');
  const { org } = await initOrg(t.store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' });
  const trail = new AuditTrail({
    store: t.store,
    keys: vaultLogKeys(new Vault(localKeyring(t.home, {}))),
    originHost: 'paddock.test',
    log: silentLogger,
    checkpointIntervalMs: 0,
  });
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
