/**
 * The package as a streamed ZIP (yazl): files go in one after another, each hashed (SHA-256) as
 * it streams, and the ZIP streams out as it is written, with backpressure from the reader, so a
 * million-entry log never sits in memory. Every entry carries the same fixed time, so the same
 * files make the same archive.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import type { ManifestFile } from './manifest.ts';

export type Content = string | Buffer | AsyncIterable<string | Buffer>;

/** Streams at least this big are deflated at level 1 (several times faster; they are log entries). */
const CHUNK = 1 << 20;

export class PackageZip {
  readonly #zip = new ZipFile();
  readonly #mtime: Date;
  readonly #listed: ManifestFile[] = [];
  readonly #paths = new Set<string>();

  /** Rejects once whoever reads the archive has gone (a download cancelled): writing stops. */
  readonly #gone: Promise<never>;

  constructor(mtime: Date) {
    this.#mtime = mtime;
    this.#gone = new Promise((_, reject) => {
      this.stream.once('close', () => reject(new Error('the package stream was closed before it ended')));
    });
    this.#gone.catch(() => undefined);
  }

  /** The archive's bytes, as they are written. */
  get stream(): Readable {
    return this.#zip.outputStream as Readable;
  }

  /** Adds a file the manifest lists (its hash and size are recorded); resolves once it is handed on. */
  async add(path: string, content: Content, opts: { fast?: boolean } = {}): Promise<ManifestFile> {
    const file = await this.#put(path, content, opts.fast ? 1 : 6);
    this.#listed.push(file);
    return file;
  }

  /** Adds a file the manifest does not list (the manifest itself and its signature). */
  async addUnlisted(path: string, content: string | Buffer): Promise<void> {
    await this.#put(path, content, 6);
  }

  files(): ManifestFile[] {
    return [...this.#listed];
  }

  end(): void {
    this.#zip.end();
  }

  async #put(path: string, content: Content, level: number): Promise<ManifestFile> {
    if (this.#paths.has(path)) throw new Error(`${path} is already in the package`);
    this.#paths.add(path);
    const opts = { mtime: this.#mtime, mode: 0o100644, compressionLevel: level };
    if (typeof content === 'string' || Buffer.isBuffer(content)) {
      const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
      this.#zip.addBuffer(bytes, path, opts);
      return { path, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
    }
    const hash = createHash('sha256');
    let size = 0;
    const pass = new PassThrough({ highWaterMark: CHUNK });
    this.#zip.addReadStream(pass, path, opts);
    try {
      for await (const chunk of content) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        hash.update(bytes);
        size += bytes.length;
        // Wait for the archive (and whoever reads it) to take it: memory stays flat.
        if (!pass.write(bytes)) await Promise.race([once(pass, 'drain'), this.#gone]);
      }
    } catch (err) {
      pass.destroy(err as Error);
      throw err;
    }
    pass.end();
    return { path, sha256: hash.digest('hex'), size };
  }
}
