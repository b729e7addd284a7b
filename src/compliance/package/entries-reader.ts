/**
 * Reads an entries file of a package as it streams: its SHA-256 (for the manifest), each line's
 * leaf hash (RFC 6962: SHA-256(0x00 || leaf), for the range proof), and each header's fields a
 * figure may read (time, actor, action, target, outcome, run). Repeated strings are shared, so a
 * million headers fit in a few hundred MB.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { hashLeaf } from '../../audit/index.ts';
import type { FigureEntry } from '../figures.ts';

export interface ReadEntries {
  sha256: string;
  size: number;
  leaves: Buffer[];
  /** The headers, by position in the range; null where a v1 entry was erased whole. */
  headers: Array<FigureEntry | null>;
  /** A line that is neither a header nor an erased entry's leaf hash. */
  problem: string | null;
}

type Party = { type: string; id: string };

export async function readEntries(stream: Readable, from: number): Promise<ReadEntries> {
  const hash = createHash('sha256');
  const decoder = new StringDecoder('utf8');
  const strings = new Map<string, string>();
  const parties = new Map<string, Party>();
  const intern = (s: string) => {
    const known = strings.get(s);
    if (known !== undefined) return known;
    strings.set(s, s);
    return s;
  };
  const party = (p: Party | null | undefined): Party | null => {
    if (!p) return null;
    const k = `${p.type}:${p.id}`;
    let known = parties.get(k);
    if (!known) {
      known = { type: p.type, id: p.id };
      parties.set(k, known);
    }
    return known;
  };
  const out: ReadEntries = { sha256: '', size: 0, leaves: [], headers: [], problem: null };
  const line = (l: string) => {
    const index = from + out.leaves.length;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(l) as Record<string, unknown>;
    } catch {
      out.problem ??= `entry ${index} is not JSON`;
      e = {};
    }
    if (e.v === 1 || e.v === 2) {
      out.leaves.push(hashLeaf(l));
      out.headers.push({
        index,
        time: String(e.time),
        actor: party(e.actor as Party)!,
        action: intern(String(e.action)),
        target: party(e.target as Party | null),
        outcome: intern(String(e.outcome)),
        run: typeof e.run === 'string' ? e.run : null,
      });
    } else if (typeof e.leafHash === 'string' && Object.keys(e).length === 1) {
      out.leaves.push(Buffer.from(e.leafHash, 'base64'));
      out.headers.push(null);
    } else {
      out.problem ??= `entry ${index} is neither an audit entry header nor an erased entry's leaf hash`;
      out.leaves.push(hashLeaf(l));
      out.headers.push(null);
    }
  };
  let rest = '';
  for await (const chunk of stream) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    out.size += bytes.length;
    const lines = (rest + decoder.write(bytes)).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) line(l);
  }
  rest += decoder.end();
  if (rest !== '') {
    out.problem ??= `the file does not end with a newline after entry ${from + out.leaves.length - 1}`;
    line(rest);
  }
  out.sha256 = hash.digest('hex');
  return out;
}
