/**
 * A tiny npm registry for tests: packuments and tarballs of the packages it is given (folders
 * packed with `tar`, as `npm pack` lays them out), on loopback. Tests install from it, never from
 * the network; `tamper` serves other bytes under a package's published integrity.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { create as packTar } from 'tar';

interface Published {
  manifest: Record<string, unknown> & { name: string; version: string };
  tarball: Buffer;
  integrity: string;
}

export interface TestRegistry {
  url: string;
  /** Every request path, in order (to show what was fetched). */
  requests: string[];
  /** Publishes a folder as it is (its package.json names it); `skip` leaves top-level entries out. */
  publish(folder: string, skip?: string[]): Promise<{ name: string; version: string; integrity: string }>;
  /** From now on, serves other bytes for this tarball (its packument keeps the published integrity). */
  tamper(name: string, version: string): void;
  close(): Promise<void>;
}

/** Packs a folder as `npm pack` lays it out (every file under `package/`), gzipped. */
export async function packFolder(folder: string, skip: string[] = []): Promise<Buffer> {
  const chunks: Buffer[] = [];
  // `./`: tar reads an argument starting with `@` as an archive to copy from (e.g. a folder `@types`).
  const entries = readdirSync(folder)
    .filter((e) => !skip.includes(e))
    .map((e) => `./${e}`);
  const stream = packTar({ gzip: true, cwd: folder, prefix: 'package', portable: true }, entries);
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Writes a package folder from a manifest and files (path → content), for packing. */
export function writePackage(
  root: string,
  manifest: Record<string, unknown> & { name: string; version: string },
  files: Record<string, string> = {},
): string {
  const folder = join(root, `${manifest.name.replace('/', '+')}@${manifest.version}`);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'package.json'), JSON.stringify(manifest, null, 2));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(folder, path)), { recursive: true });
    writeFileSync(join(folder, path), content);
  }
  return folder;
}

/** A fresh folder for package sources, removed by `removeScratch`. */
export const scratchFolder = () => mkdtempSync(join(tmpdir(), 'paddock-registry-'));
export const removeScratch = (dir: string) => rmSync(dir, { recursive: true, force: true });

export async function startTestRegistry(): Promise<TestRegistry> {
  const packages = new Map<string, Map<string, Published>>();
  const tampered = new Set<string>();
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
    requests.push(path);
    const tarball = /^(.+)\/-\/[^/]+-(\d[^/]*)\.tgz$/.exec(path);
    if (tarball) {
      const p = packages.get(tarball[1]!)?.get(tarball[2]!);
      if (!p) return void res.writeHead(404).end();
      const key = `${tarball[1]}@${tarball[2]}`;
      const body = tampered.has(key) ? Buffer.concat([p.tarball, Buffer.from('tampered')]) : p.tarball;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      return void res.end(body);
    }
    const versions = packages.get(path);
    if (!versions) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return void res.end('{"error":"Not found"}');
    }
    const all = [...versions.values()];
    const packument = {
      name: path,
      'dist-tags': { latest: all.at(-1)!.manifest.version },
      versions: Object.fromEntries(
        all.map((p) => [
          p.manifest.version,
          {
            ...p.manifest,
            dist: {
              tarball: `${url}/${path}/-/${path.split('/').at(-1)}-${p.manifest.version}.tgz`,
              integrity: p.integrity,
              shasum: createHash('sha1').update(p.tarball).digest('hex'),
            },
          },
        ]),
      ),
    };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(packument));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    async publish(folder, skip) {
      const manifest = JSON.parse(
        readFileSync(join(folder, 'package.json'), 'utf8'),
      ) as Published['manifest'];
      const tarball = await packFolder(folder, skip);
      const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
      const versions = packages.get(manifest.name) ?? new Map<string, Published>();
      versions.set(manifest.version, { manifest, tarball, integrity });
      packages.set(manifest.name, versions);
      return { name: manifest.name, version: manifest.version, integrity };
    },
    tamper(name, version) {
      tampered.add(`${name}@${version}`);
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/**
 * Publishes a package installed in `root`'s node_modules and every package it needs, as Node
 * would resolve each from where it sits (nested versions included), packed from those folders
 * without their own node_modules: the registry then serves the same tree npm installed here.
 * Returns each package published (`<name>@<version>`) with its tarball's integrity.
 */
export async function publishInstalled(
  reg: TestRegistry,
  from: string,
  name: string,
): Promise<Map<string, string>> {
  const root = resolve(from);
  const done = new Map<string, string>();
  const find = (from: string, dep: string): string | undefined => {
    for (let dir = from; dir.startsWith(root); dir = dirname(dir)) {
      const at = join(dir, 'node_modules', dep);
      if (existsSync(join(at, 'package.json'))) return at;
      if (dir === root) break;
    }
    return undefined;
  };
  const visit = async (folder: string): Promise<void> => {
    const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    };
    const key = `${manifest.name}@${manifest.version}`;
    if (done.has(key)) return;
    done.set(key, '');
    done.set(key, (await reg.publish(folder, ['node_modules'])).integrity);
    const needed = [
      ...Object.keys(manifest.dependencies ?? {}).map((d) => [d, true] as const),
      ...Object.keys(manifest.optionalDependencies ?? {}).map((d) => [d, false] as const),
      ...Object.keys(manifest.peerDependencies ?? {}).map(
        (d) => [d, !manifest.peerDependenciesMeta?.[d]?.optional] as const,
      ),
    ];
    for (const [dep, required] of needed) {
      const at = find(folder, dep);
      if (at) await visit(at);
      else if (required) throw new Error(`${key} needs ${dep}, which is not in ${root}/node_modules`);
    }
  };
  const top = join(root, 'node_modules', name);
  if (!existsSync(join(top, 'package.json'))) throw new Error(`${name} is not in ${root}/node_modules`);
  await visit(top);
  return done;
}
