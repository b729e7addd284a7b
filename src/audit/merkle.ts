/**
 * RFC 6962 / RFC 9162 Merkle tree hashing: leaf = SHA-256(0x00 || entry), node =
 * SHA-256(0x01 || left || right). Proofs are computed from stored perfect-subtree hashes
 * (`level`, `index`), which never change once written, so any past tree size can be proven.
 * Sizes and indexes are plain numbers (exact below 2^53); no 32-bit bit operations.
 */
import { hash } from 'node:crypto';

export type Hash = Buffer;

export interface NodeKey {
  level: number;
  index: number;
}

/** The last leaf a node covers: the one whose append completed it (nodes are stored in this order). */
export const lastLeaf = (k: NodeKey): number => (k.index + 1) * 2 ** k.level - 1;

export const EMPTY_ROOT: Hash = hash('sha256', '', 'buffer');

// One-shot `crypto.hash` is about twice as fast as createHash() for inputs this small.
export function hashLeaf(entry: string | Buffer): Hash {
  return typeof entry === 'string'
    ? hash('sha256', `\0${entry}`, 'buffer')
    : hash('sha256', Buffer.concat([Buffer.of(0), entry]), 'buffer');
}

const NODE = Buffer.alloc(65);
NODE[0] = 1;

/** The leaf hash as base64, the form it is stored in (saves a decode when comparing). */
export function leafHashBase64(entry: string): string {
  return hash('sha256', `\0${entry}`, 'base64');
}

export function hashChildren(left: Hash, right: Hash): Hash {
  left.copy(NODE, 1);
  right.copy(NODE, 33);
  return hash('sha256', NODE, 'buffer');
}

/** The largest power of two strictly below n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function perfectLevel(a: number, b: number): number | undefined {
  const n = b - a;
  const level = Math.log2(n);
  return Number.isInteger(level) && a % n === 0 ? level : undefined;
}

const odd = (x: number) => x % 2 === 1;
const half = (x: number) => Math.floor(x / 2);

/** Visits the stored nodes MTH(D[a:b]) is made of, in the order it combines them. */
function planSubtree(a: number, b: number, out: NodeKey[]): void {
  const level = perfectLevel(a, b);
  if (level !== undefined) {
    out.push({ level, index: a / (b - a) });
    return;
  }
  const k = splitPoint(b - a);
  planSubtree(a, a + k, out);
  planSubtree(a + k, b, out);
}

/** MTH(D[a:b]) from stored nodes, fetched through `node`. */
export function subtreeHash(a: number, b: number, node: (k: NodeKey) => Hash): Hash {
  if (b <= a) return EMPTY_ROOT;
  const level = perfectLevel(a, b);
  if (level !== undefined) return node({ level, index: a / (b - a) });
  const k = splitPoint(b - a);
  return hashChildren(subtreeHash(a, a + k, node), subtreeHash(a + k, b, node));
}

export type Range = [number, number];

/** RFC 6962 PATH(m, D[a:b]) as the list of subtree ranges whose hashes form the proof. */
function inclusionRanges(m: number, a: number, b: number, out: Range[]): void {
  if (b - a <= 1) return;
  const k = splitPoint(b - a);
  if (m < a + k) {
    inclusionRanges(m, a, a + k, out);
    out.push([a + k, b]);
  } else {
    inclusionRanges(m, a + k, b, out);
    out.push([a, a + k]);
  }
}

/** RFC 6962 SUBPROOF(m, D[a:b], first) as subtree ranges. */
function consistencyRanges(m: number, a: number, b: number, first: boolean, out: Range[]): void {
  const n = b - a;
  if (m === n) {
    if (!first) out.push([a, b]);
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    consistencyRanges(m, a, a + k, first, out);
    out.push([a + k, b]);
  } else {
    consistencyRanges(m - k, a + k, b, false, out);
    out.push([a, a + k]);
  }
}

/** Which stored nodes a set of ranges needs (fetch them in one go, then call `hashRanges`). */
export function nodesFor(ranges: Range[]): NodeKey[] {
  const out: NodeKey[] = [];
  for (const [a, b] of ranges) planSubtree(a, b, out);
  return out;
}

export function hashRanges(ranges: Range[], node: (k: NodeKey) => Hash): Hash[] {
  return ranges.map(([a, b]) => subtreeHash(a, b, node));
}

export function inclusionProofRanges(index: number, size: number): Range[] {
  if (index < 0 || index >= size) throw new RangeError(`index ${index} is not in a tree of size ${size}`);
  const out: Range[] = [];
  inclusionRanges(index, 0, size, out);
  return out;
}

export function consistencyProofRanges(from: number, to: number): Range[] {
  if (from < 0 || from > to) throw new RangeError(`cannot prove size ${from} consistent with size ${to}`);
  const out: Range[] = [];
  if (from > 0 && from < to) consistencyRanges(from, 0, to, true, out);
  return out;
}

/** RFC 9162 §2.1.3.2: does `proof` show leaf `index` with hash `leaf` in a tree of `size` with `root`? */
export function verifyInclusion(index: number, size: number, leaf: Hash, proof: Hash[], root: Hash): boolean {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      r = hashChildren(p, r);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2: is the tree (`size2`, `root2`) an append-only extension of (`size1`, `root1`)? */
export function verifyConsistency(
  size1: number,
  size2: number,
  root1: Hash,
  root2: Hash,
  proof: Hash[],
): boolean {
  if (size1 > size2) return false;
  if (size1 === size2) return proof.length === 0 && root1.equals(root2);
  if (size1 === 0) return proof.length === 0;
  const path = Number.isInteger(Math.log2(size1)) ? [root1, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return fr.equals(root1) && sr.equals(root2) && sn === 0;
}

/**
 * The right edge of a tree: for each level whose bit is set in the size, the root of that
 * perfect subtree. Appending needs only this; the root is its right-to-left fold.
 */
export class Frontier {
  // levels[l] is the root of the perfect subtree at level l on the right edge, if bit l of size is set.
  readonly #levels: Array<Hash | undefined>;
  size: number;

  constructor(size = 0, nodes: Map<number, Hash> = new Map()) {
    this.size = size;
    this.#levels = [];
    for (const [l, h] of nodes) this.#levels[l] = h;
  }

  /** Which stored nodes make up the frontier of a tree of `size`. */
  static keys(size: number): NodeKey[] {
    const keys: NodeKey[] = [];
    for (let level = 0, s = size; s > 0; level++, s = half(s)) {
      if (odd(s)) keys.push({ level, index: Math.floor(size / 2 ** level) - 1 });
    }
    return keys;
  }

  /** Appends a leaf; returns every node the tree gains (the leaf and the subtrees it completes). */
  append(leaf: Hash): Array<NodeKey & { hash: Hash }> {
    const added = [{ level: 0, index: this.size, hash: leaf }];
    this.#push(leaf, added);
    return added;
  }

  /** Appends a leaf when only the root matters (verification). */
  push(leaf: Hash): void {
    this.#push(leaf, undefined);
  }

  #push(leaf: Hash, added: Array<NodeKey & { hash: Hash }> | undefined): void {
    let h = leaf;
    let level = 0;
    let index = this.size;
    while (odd(index)) {
      h = hashChildren(this.#levels[level]!, h);
      this.#levels[level] = undefined;
      level += 1;
      index = (index - 1) / 2;
      added?.push({ level, index, hash: h });
    }
    this.#levels[level] = h;
    this.size += 1;
  }

  root(): Hash {
    let acc: Hash | undefined;
    for (const h of this.#levels) {
      if (h) acc = acc ? hashChildren(h, acc) : h;
    }
    return acc ?? EMPTY_ROOT;
  }

  clone(): Frontier {
    const copy = new Frontier(this.size);
    this.#levels.forEach((h, l) => {
      if (h) copy.#levels[l] = h;
    });
    return copy;
  }
}

/**
 * A proof that leaves [a, b) belong to the tree of `size`: the hashes of the maximal subtrees
 * outside the range, in the order MTH meets them. Lets a partial export be checked against a
 * signed root.
 */
export function rangeProofRanges(a: number, b: number, size: number): Range[] {
  if (a < 0 || a > b || b > size) throw new RangeError(`range [${a}, ${b}) is not in a tree of size ${size}`);
  const out: Range[] = [];
  const visit = (lo: number, hi: number) => {
    if (hi <= a || lo >= b) out.push([lo, hi]);
    else if (hi - lo > 1) {
      const k = splitPoint(hi - lo);
      visit(lo, lo + k);
      visit(lo + k, hi);
    }
  };
  if (size > 0 && b > a) visit(0, size);
  return out;
}

/** The root of a tree of `size` from the leaves [a, b) and their range proof. */
export function rootFromRange(a: number, leaves: Hash[], size: number, proof: Hash[]): Hash | undefined {
  const b = a + leaves.length;
  let p = 0;
  const visit = (lo: number, hi: number): Hash | undefined => {
    if (hi <= a || lo >= b) return proof[p++];
    if (hi - lo === 1) return leaves[lo - a];
    const k = splitPoint(hi - lo);
    const l = visit(lo, lo + k);
    const r = visit(lo + k, hi);
    return l && r ? hashChildren(l, r) : undefined;
  };
  if (size === 0 || leaves.length === 0) return undefined;
  const root = visit(0, size);
  return p === proof.length ? root : undefined;
}
