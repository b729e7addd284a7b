/**
 * Where an org's writable folders are on the host, and how host code makes them without ever
 * following a link. Sandboxed code writes inside its folder and may plant links there (at the
 * master key, at another org's files); host code touches only the folder itself, through a
 * descriptor opened with O_NOFOLLOW, and never walks into it.
 *
 *   $PADDOCK_HOME/cells/<org>/                 Paddock's (0700): nothing sandboxed can write here
 *   $PADDOCK_HOME/cells/<org>/cell/            the org's cell, its /cell
 *   $PADDOCK_HOME/cells/<org>/mcp/<c>--<a>/    one MCP server session (connection, agent), its /cell
 *
 * Every directory above a folder is Paddock's own and writable by no one else, so no component
 * can be swapped for a link between the check here and bubblewrap's use of the path.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
} from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { PaddockError } from '../errors/index.ts';
import type { HostUser } from './host-users.ts';

/** The org's cell's folder. */
export function cellFolder(home: string, orgId: string): string {
  return join(home, 'cells', safe(orgId), 'cell');
}

/** An MCP server's folder: one per (connection, agent); `null` is the admins' tool listing. */
export function serverFolder(
  home: string,
  orgId: string,
  connectionId: string,
  agentId: string | null,
): string {
  return join(home, 'cells', safe(orgId), 'mcp', `${safe(connectionId)}--${safe(agentId ?? 'listing')}`);
}

function safe(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** A cell's folder that host code will not touch: an operator must look at it. */
function unsafe(message: string): PaddockError {
  return new PaddockError(500, 'unsafe_cell_folder', message);
}

/**
 * Makes `folder` (under `home`) and each directory above it, refusing any component that is a
 * link, not a directory, or (above the folder) not Paddock's own; then gives the folder to
 * `owner` with mode 0700, through a descriptor opened without following links.
 */
export function makeFolder(home: string, folder: string, owner?: HostUser): void {
  const rel = relative(home, folder);
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) throw unsafe(`${folder} is not under ${home}`);
  mkdirSync(home, { recursive: true, mode: 0o700 }); // the operator's own directory: trusted as it is
  const me = process.getuid?.() ?? 0;
  const parts = rel.split(sep);
  let dir = home;
  for (const [i, part] of parts.entries()) {
    dir = join(dir, part);
    try {
      mkdirSync(dir, { mode: 0o700 }); // never recursive: mkdir -p would follow a planted link
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const st = lstatSync(dir);
    if (st.isSymbolicLink() || !st.isDirectory())
      throw unsafe(`${dir} is not a directory (a link?): Paddock does not follow it; remove it`);
    if (i < parts.length - 1 && (st.uid !== me || (st.mode & 0o022) !== 0))
      throw unsafe(`${dir} must be Paddock's own and writable by no one else`);
  }
  const fd = openSync(folder, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    if (!fstatSync(fd).isDirectory()) throw unsafe(`${folder} is not a directory`);
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    fchmodSync(fd, 0o700);
  } finally {
    closeSync(fd);
  }
}
