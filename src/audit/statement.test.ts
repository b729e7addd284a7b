/**
 * Statements signed with a log's key (an evidence package's manifest): checked with the log's
 * published verifier key, bound to their kind and log, and never readable as a checkpoint.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { initOrg, operatorCaller } from '../identity/index.ts';
import { silentLogger } from '../log/index.ts';
import { openTestStore, type TestStore } from '../testing/stores.ts';
import { localKeyring, Vault, vaultLogKeys } from '../vault/index.ts';
import {
  newSigner,
  openCheckpoint,
  openStatement,
  parseVerifierKey,
  signNote,
  statementText,
} from './note.ts';
import { AuditTrail } from './trail.ts';

const KIND = 'paddock.evidence.manifest@v1';

describe('signed statements', () => {
  let t: TestStore;
  let trail: AuditTrail;
  let orgId: string;

  before(async () => {
    t = await openTestStore('sqlite');
    orgId = (await initOrg(t.store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' })).org.id;
    trail = new AuditTrail({
      store: t.store,
      keys: vaultLogKeys(new Vault(localKeyring(t.home, {}))),
      originHost: 'audit.test',
      log: silentLogger,
    });
    await trail.flush();
  });
  after(async () => {
    await trail.close();
    await t.cleanup();
  });

  test("a statement the trail signs opens with the log's published verifier key, body intact", async () => {
    const note = await trail.signStatement(orgId, KIND, ['sha256 abc123']);
    const { verifierKey } = await trail.verifierKey(orgId);
    assert.deepEqual(openStatement(note, parseVerifierKey(verifierKey), KIND), ['sha256 abc123']);
    // The key that signs checkpoints signed it: the checkpoint verifies with the same key.
    const cp = await trail.checkpoint(orgId);
    assert.equal(openCheckpoint(cp.note, parseVerifierKey(verifierKey)).size, cp.size);
  });

  test('a statement is refused when its body, kind or signer differs', async () => {
    const note = await trail.signStatement(orgId, KIND, ['sha256 abc123']);
    const key = parseVerifierKey((await trail.verifierKey(orgId)).verifierKey);
    assert.throws(() => openStatement(note.replace('abc123', 'abc124'), key, KIND), /no valid signature/);
    assert.throws(() => openStatement(note, key, 'paddock.other@v1'), /not a "paddock.other@v1"/);
    const other = newSigner(key.name);
    const forged = signNote(statementText(KIND, key.name, ['sha256 abc123']), other);
    assert.throws(() => openStatement(forged, key, KIND), /no valid signature/);
  });

  test('a signed statement never reads as a checkpoint, and kinds that could be origins are refused', async () => {
    const key = parseVerifierKey((await trail.verifierKey(orgId)).verifierKey);
    const note = await trail.signStatement(orgId, KIND, ['1', 'AAAA']);
    assert.throws(() => openCheckpoint(note, key), /checkpoint/);
    await assert.rejects(trail.signStatement(orgId, `${key.name}`, ['1']), /is not paddock/);
    assert.throws(() => statementText(KIND, '12', ['x']), /not a log origin/);
    assert.throws(() => statementText(KIND, key.name, ['two\nlines']), /single lines/);
  });
});
