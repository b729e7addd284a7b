/**
 * C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, and tlog checkpoints
 * (c2sp.org/tlog-checkpoint): origin line, tree size, base64 root hash, then signatures.
 * Anyone holding the verifier key (`name+keyid+base64`) can check a checkpoint offline.
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { BadRequestError } from '../errors/index.ts';

const ED25519 = 0x01;

export interface NoteSigner {
  name: string;
  publicKey: Buffer;
  privateKey: KeyObject;
}

export function assertName(name: string): void {
  if (!name || /[\s+]/.test(name))
    throw new Error(`key name "${name}" must be non-empty with no spaces or "+"`);
}

export function rawPublicKey(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url');
}

export function newSigner(name: string): NoteSigner {
  assertName(name);
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { name, publicKey: rawPublicKey(publicKey), privateKey };
}

/** The 4-byte key id: SHA-256(name || "\n" || 0x01 || public key)[:4]. */
export function keyId(name: string, publicKey: Buffer): Buffer {
  return createHash('sha256')
    .update(name)
    .update('\n')
    .update(Buffer.of(ED25519))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

export function verifierKey(name: string, publicKey: Buffer): string {
  return `${name}+${keyId(name, publicKey).toString('hex')}+${Buffer.concat([Buffer.of(ED25519), publicKey]).toString('base64')}`;
}

export interface Verifier {
  name: string;
  keyId: Buffer;
  publicKey: KeyObject;
}

export function parseVerifierKey(vkey: string): Verifier {
  const m = /^([^\s+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(vkey.trim());
  if (!m)
    throw new BadRequestError('invalid_verifier_key', 'A verifier key looks like name+1234abcd+base64.');
  const raw = Buffer.from(m[3]!, 'base64');
  if (raw.length !== 33 || raw[0] !== ED25519) {
    throw new BadRequestError('invalid_verifier_key', 'Only Ed25519 verifier keys are supported.');
  }
  const pub = raw.subarray(1);
  const id = keyId(m[1]!, pub);
  if (id.toString('hex') !== m[2])
    throw new BadRequestError('invalid_verifier_key', 'The verifier key id does not match its key.');
  return {
    name: m[1]!,
    keyId: id,
    publicKey: createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: pub.toString('base64url') },
      format: 'jwk',
    }),
  };
}

/** Signs a note text (which must end in a newline) and returns the whole signed note. */
export function signNote(text: string, signer: NoteSigner): string {
  if (!text.endsWith('\n') || text.includes('\n\n'))
    throw new Error('note text must end in one newline and have no blank line');
  const sig = sign(null, Buffer.from(text), signer.privateKey);
  return `${text}\n— ${signer.name} ${Buffer.concat([keyId(signer.name, signer.publicKey), sig]).toString('base64')}\n`;
}

/** Returns the note's text if it carries a valid signature by `verifier`; throws otherwise. */
export function openNote(note: string, verifier: Verifier): string {
  const split = note.indexOf('\n\n');
  if (split < 0) throw new BadRequestError('note_malformed', 'The signed note has no signature block.');
  const text = note.slice(0, split + 1);
  for (const line of note.slice(split + 2).split('\n')) {
    const m = /^— (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m || m[1] !== verifier.name) continue;
    const bytes = Buffer.from(m[2]!, 'base64');
    if (bytes.length !== 68 || !bytes.subarray(0, 4).equals(verifier.keyId)) continue;
    if (verify(null, Buffer.from(text), verifier.publicKey, bytes.subarray(4))) return text;
  }
  throw new BadRequestError('note_unverified', `The note carries no valid signature by ${verifier.name}.`);
}

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
}

export function checkpointText(c: Checkpoint): string {
  return `${c.origin}\n${c.size}\n${c.root.toString('base64')}\n`;
}

export function parseCheckpoint(text: string): Checkpoint {
  const [origin, size, root] = text.split('\n');
  if (!origin || !size || !/^\d+$/.test(size) || !root) {
    throw new BadRequestError(
      'checkpoint_malformed',
      'A checkpoint is an origin line, a tree size and a base64 root hash.',
    );
  }
  const hash = Buffer.from(root, 'base64');
  if (hash.length !== 32)
    throw new BadRequestError('checkpoint_malformed', 'The checkpoint root hash is not 32 bytes.');
  return { origin, size: Number(size), root: hash };
}

/** Verifies a signed checkpoint and returns what it commits to. */
export function openCheckpoint(note: string, verifier: Verifier): Checkpoint {
  return parseCheckpoint(openNote(note, verifier));
}

/**
 * A statement signed with a log's key about something other than its tree (an evidence package's
 * manifest), as a C2SP signed note: the first line says what it is (`paddock.evidence.manifest@v1`),
 * the second is the log's origin, then the body lines. A checkpoint's second line is its tree size in
 * decimal (c2sp.org/tlog-checkpoint) and an origin never is, so no statement reads as a checkpoint and
 * no checkpoint as a statement (its first line, an origin, has no `@`): the key's checkpoints keep
 * their meaning.
 */
export function statementText(kind: string, origin: string, body: string[]): string {
  if (!STATEMENT_KIND.test(kind)) throw new Error(`statement kind "${kind}" is not paddock.<what>@v<n>`);
  if (/^\d+$/.test(origin) || origin.includes('\n')) throw new Error(`"${origin}" is not a log origin`);
  for (const line of body) {
    if (line === '' || line.includes('\n')) throw new Error('statement lines must be non-empty single lines');
  }
  return `${kind}\n${origin}\n${body.map((l) => `${l}\n`).join('')}`;
}

const STATEMENT_KIND = /^paddock\.[a-z][a-z0-9.]*@v[0-9]+$/;

/** Opens a signed statement of this kind by `verifier` (whose name is the log's origin); returns its body lines. */
export function openStatement(note: string, verifier: Verifier, kind: string): string[] {
  const [head, origin, ...body] = openNote(note, verifier).split('\n');
  if (head !== kind)
    throw new BadRequestError('statement_kind', `The signed note is a "${head}", not a "${kind}".`);
  if (origin !== verifier.name)
    throw new BadRequestError('statement_origin', `The statement names log ${origin}, not ${verifier.name}.`);
  return body.slice(0, -1);
}

/** The C2SP tlog-proof text: index, inclusion proof hashes, then the signed checkpoint. */
export function tlogProof(index: number, proof: Buffer[], checkpoint: string): string {
  return `c2sp.org/tlog-proof@v1\nindex ${index}\n${proof.map((h) => `${h.toString('base64')}\n`).join('')}\n${checkpoint}`;
}

export function parseTlogProof(text: string): { index: number; proof: Buffer[]; checkpoint: string } {
  const split = text.indexOf('\n\n');
  const head = text.slice(0, split).split('\n');
  if (split < 0 || head[0] !== 'c2sp.org/tlog-proof@v1') {
    throw new BadRequestError('proof_malformed', 'Not a c2sp.org/tlog-proof@v1 proof.');
  }
  let i = 1;
  if (head[i]?.startsWith('extra ')) i++;
  const m = /^index (\d+)$/.exec(head[i] ?? '');
  if (!m) throw new BadRequestError('proof_malformed', 'The proof has no index line.');
  return {
    index: Number(m[1]),
    proof: head.slice(i + 1).map((l) => Buffer.from(l, 'base64')),
    checkpoint: text.slice(split + 2),
  };
}
