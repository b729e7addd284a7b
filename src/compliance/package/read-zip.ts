/**
 * Reading a package offline (yauzl): the central directory first, refusing an archive that names
 * one path twice (a reader could then be shown either copy) or unsafe paths (yauzl's checks),
 * then each file as a stream, in any order.
 */
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';

export interface PackageArchive {
  names: string[];
  has(name: string): boolean;
  open(name: string): Promise<Readable>;
  read(name: string): Promise<Buffer>;
  close(): void;
}

export async function openArchive(path: string): Promise<PackageArchive> {
  const zip: ZipFile = await yauzl.openPromise(path, {
    lazyEntries: true,
    autoClose: false,
    strictFileNames: true,
  });
  const entries = new Map<string, Entry>();
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (e: Entry) => {
      if (entries.has(e.fileName)) {
        reject(new Error(`the archive holds ${e.fileName} twice`));
        return;
      }
      if (!e.fileName.endsWith('/')) entries.set(e.fileName, e);
      zip.readEntry();
    });
    zip.once('end', () => resolve());
    zip.once('error', reject);
    zip.readEntry();
  }).catch((err: unknown) => {
    zip.close();
    throw err;
  });
  const entry = (name: string) => {
    const e = entries.get(name);
    if (!e) throw new Error(`the archive has no ${name}`);
    return e;
  };
  return {
    names: [...entries.keys()].sort(),
    has: (name) => entries.has(name),
    open: (name) => zip.openReadStreamPromise(entry(name)),
    async read(name) {
      const chunks: Buffer[] = [];
      for await (const c of await zip.openReadStreamPromise(entry(name))) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
    close: () => zip.close(),
  };
}
