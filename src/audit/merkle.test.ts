/**
 * The tree and its proofs against independent implementations: roots and proofs from the
 * RFC 6962 definitions written out naively here, inclusion proofs and signed checkpoints
 * checked by Sigstore's verifier (`@sigstore/verify`), for sizes 1 to 4,097.
 */
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { test } from 'node:test';
import checkpointLib from '@sigstore/verify/dist/tlog/checkpoint.js';
import merkleLib from '@sigstore/verify/dist/tlog/merkle.js';
import {
  consistencyProofRanges,
  Frontier,
  type Hash,
  hashRanges,
  inclusionProofRanges,
  type NodeKey,
  rangeProofRanges,
  rootFromRange,
  verifyConsistency,
  verifyInclusion,
} from './merkle.ts';
import {
  checkpointText,
  keyId,
  newSigner,
  openCheckpoint,
  parseVerifierKey,
  signNote,
  verifierKey,
} from './note.ts';

// --- The reference: RFC 6962 §2.1 written as plainly as possible, sharing no code with merkle.ts.
const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const refLeaf = (d: Buffer) => sha(Buffer.from([0]), d);
const refNode = (l: Buffer, r: Buffer) => sha(Buffer.from([1]), l, r);
const kOf = (n: number) => 2 ** Math.ceil(Math.log2(n) - 1);
const entries = Array.from({ length: 4097 }, (_, i) => Buffer.from(`{"entry":${i}}`));
// Ranges [lo, hi) of `entries`; MTH memoized so the definitions stay readable and fast.
const memo = new Map<string, Buffer>();
function refMth(lo: number, hi: number): Buffer {
  const key = `${lo}:${hi}`;
  let h = memo.get(key);
  if (!h) {
    if (hi === lo) h = sha();
    else if (hi - lo === 1) h = refLeaf(entries[lo]!);
    else {
      const k = kOf(hi - lo);
      h = refNode(refMth(lo, lo + k), refMth(lo + k, hi));
    }
    memo.set(key, h);
  }
  return h;
}
function refPath(m: number, lo: number, hi: number): Buffer[] {
  if (hi - lo <= 1) return [];
  const k = kOf(hi - lo);
  return m < k
    ? [...refPath(m, lo, lo + k), refMth(lo + k, hi)]
    : [...refPath(m - k, lo + k, hi), refMth(lo, lo + k)];
}
function refSubproof(m: number, lo: number, hi: number, b: boolean): Buffer[] {
  if (m === hi - lo) return b ? [] : [refMth(lo, hi)];
  const k = kOf(hi - lo);
  return m <= k
    ? [...refSubproof(m, lo, lo + k, b), refMth(lo + k, hi)]
    : [...refSubproof(m - k, lo + k, hi, false), refMth(lo, lo + k)];
}

function buildTree(n: number) {
  const nodes = new Map<string, Hash>();
  const f = new Frontier();
  for (let i = 0; i < n; i++)
    for (const x of f.append(refLeaf(entries[i]!))) nodes.set(`${x.level}/${x.index}`, x.hash);
  const get = (k: NodeKey) => {
    const h = nodes.get(`${k.level}/${k.index}`);
    assert.ok(h, `node ${k.level}/${k.index} missing`);
    return h;
  };
  return { f, get };
}

const sizes = [
  ...Array.from({ length: 70 }, (_, i) => i + 1),
  ...[7, 8, 9, 10, 11, 12].flatMap((p) => [2 ** p - 1, 2 ** p, 2 ** p + 1]),
  1000,
  4095,
  4096,
  4097,
];

test('roots match the RFC 6962 definition for sizes 1 to 4,097', () => {
  const f = new Frontier();
  const checkAt = new Set(sizes);
  for (let i = 0; i < 4097; i++) {
    f.append(refLeaf(entries[i]!));
    if (checkAt.has(i + 1)) assert.ok(f.root().equals(refMth(0, i + 1)), `root at size ${i + 1}`);
  }
  assert.ok(new Frontier().root().equals(sha()), 'the empty tree');
});

test('inclusion proofs equal the definition and pass Sigstore’s verifier, at every index', () => {
  const signer = newSigner('example.test/log');
  for (const n of sizes) {
    const { f, get } = buildTree(n);
    const root = f.root();
    const note = signNote(checkpointText({ origin: signer.name, size: n, root }), signer);
    const cp = checkpointLib.LogCheckpoint.fromString(note.slice(0, note.indexOf('\n\n') + 1));
    const step = 1;
    for (let m = 0; m < n; m += step) {
      const proof = hashRanges(inclusionProofRanges(m, n), get);
      assert.deepEqual(proof, refPath(m, 0, n), `proof ${m} of ${n}`);
      merkleLib.verifyMerkleInclusion(
        { canonicalizedBody: entries[m]!, inclusionProof: { logIndex: String(m), hashes: proof } } as never,
        cp,
      );
      assert.ok(verifyInclusion(m, n, refLeaf(entries[m]!), proof, root));
      assert.ok(!verifyInclusion(m, n, refLeaf(Buffer.from('forged')), proof, root), 'a forged leaf fails');
    }
    // Sigstore's verifier rejects a proof against the wrong root.
    const bad = checkpointLib.LogCheckpoint.fromString(
      `${signer.name}\n${n}\n${sha(Buffer.from('x')).toString('base64')}\n`,
    );
    assert.throws(() =>
      merkleLib.verifyMerkleInclusion(
        {
          canonicalizedBody: entries[0]!,
          inclusionProof: { logIndex: '0', hashes: hashRanges(inclusionProofRanges(0, n), get) },
        } as never,
        bad,
      ),
    );
  }
});

test('consistency proofs equal the definition and verify, between many pairs of sizes', () => {
  const { get } = buildTree(4097);
  const pairs: Array<[number, number]> = [];
  for (const a of sizes)
    for (const b of sizes) if (a <= b && (a < 80 || b - a < 3 || b === 4097)) pairs.push([a, b]);
  for (const [a, b] of pairs) {
    const proof = hashRanges(consistencyProofRanges(a, b), get);
    const expected = a === b ? [] : refSubproof(a, 0, b, true);
    assert.deepEqual(proof, expected, `consistency ${a}→${b}`);
    const r1 = refMth(0, a);
    const r2 = refMth(0, b);
    assert.ok(verifyConsistency(a, b, r1, r2, proof), `verify ${a}→${b}`);
    if (a < b)
      assert.ok(!verifyConsistency(a, b, sha(Buffer.from('other')), r2, proof), `tampered ${a}→${b}`);
  }
});

test('a range of leaves proves itself against the root', () => {
  const { f, get } = buildTree(1000);
  for (const [a, b] of [
    [0, 1000],
    [0, 1],
    [999, 1000],
    [10, 500],
    [512, 513],
    [300, 700],
  ] as const) {
    const proof = hashRanges(rangeProofRanges(a, b, 1000), get);
    const leaves = entries.slice(a, b).map(refLeaf);
    assert.ok(rootFromRange(a, leaves, 1000, proof)?.equals(f.root()), `range ${a}-${b}`);
    leaves[0] = refLeaf(Buffer.from('changed'));
    assert.ok(!rootFromRange(a, leaves, 1000, proof)?.equals(f.root()), `changed range ${a}-${b}`);
  }
});

test('checkpoints are C2SP signed notes that Sigstore’s checkpoint verifier accepts', () => {
  const signer = newSigner('paddock.example/audit/org_1');
  const note = signNote(checkpointText({ origin: signer.name, size: 5, root: refMth(0, 5) }), signer);
  assert.match(
    note,
    /^paddock\.example\/audit\/org_1\n5\n[A-Za-z0-9+/]{43}=\n\n— paddock\.example\/audit\/org_1 [A-Za-z0-9+/]+=*\n$/,
  );
  const vkey = verifierKey(signer.name, signer.publicKey);
  const pub = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: signer.publicKey.toString('base64url') },
    format: 'jwk',
  });
  const tlog = {
    logID: Buffer.concat([keyId(signer.name, signer.publicKey), Buffer.alloc(28)]),
    publicKey: pub,
    baseURL: signer.name,
    validFor: { start: new Date(0), end: new Date(8.64e15) },
  };
  const cp = checkpointLib.verifyCheckpoint(
    { inclusionProof: { checkpoint: { envelope: note } } } as never,
    [tlog] as never,
  );
  assert.equal(cp.logSize, 5n);
  assert.equal(openCheckpoint(note, parseVerifierKey(vkey)).size, 5);
  const forged = note.replace('\n5\n', '\n6\n');
  assert.throws(() =>
    checkpointLib.verifyCheckpoint(
      { inclusionProof: { checkpoint: { envelope: forged } } } as never,
      [tlog] as never,
    ),
  );
  assert.throws(() => openCheckpoint(forged, parseVerifierKey(vkey)));
});
