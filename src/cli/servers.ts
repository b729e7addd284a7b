/**
 * `paddock servers`: the operator installs, lists and removes MCP server packages, offline, on
 * the store named by `$PADDOCK_HOME` or `DATABASE_URL` (a running server sees them at once).
 */
import { operatorCaller } from '../identity/index.ts';
import {
  installServerPackage,
  listServerPackages,
  type PackageAsker,
  removeServerPackage,
} from '../packages/index.ts';
import { openStore } from '../store/index.ts';
import type { Command } from './commands.ts';
import { parse, storeOptions } from './options.ts';
import { UsageError } from './output.ts';

export const servers: Command = {
  summary: 'Install, list or remove MCP server packages from the npm registry, offline',
  usage: `paddock servers install <name>[@version]   resolve from the registry, verify, store read-only
paddock servers list                       installed packages and the connections that run each
paddock servers remove <name>@<version>    refused while a connection runs it

  The registry is PADDOCK_NPM_REGISTRY (default https://registry.npmjs.org/). Only names on
  PADDOCK_SERVER_PACKAGES may be installed: exact names, scopes ("@modelcontextprotocol/*") or
  "*", comma-separated. Every tarball is checked against the sha512 integrity its registry
  published, no install script runs, and each install and removal is on the platform's audit
  log with the integrity hashes. A connection then runs one with "package": "<name>@<version>".`,
  async run(args) {
    const [sub, target, ...rest] = args;
    const positional = target !== undefined && !target.startsWith('-');
    const v = parse(positional ? rest : [target, ...rest].filter((a) => a !== undefined), {});
    const { config, opts } = storeOptions(v);
    const store = await openStore(opts);
    const caller = operatorCaller();
    const who: PackageAsker = { actor: caller.actor, requestId: caller.requestId, orgId: null };
    const out = (s: string) => process.stdout.write(`${s}\n`);
    try {
      if (sub === 'install' || sub === 'remove') {
        if (!positional) throw new UsageError(`Name the package: paddock servers ${sub} <name>@<version>.`);
        if (sub === 'install') {
          const { installed: p, already } = await installServerPackage(
            store.db,
            { home: config.home, registry: config.npmRegistry, allowlist: config.serverPackages },
            who,
            target,
          );
          out(
            already
              ? `${p.id} is installed already (${p.integrity}).`
              : `Installed ${p.id}: ${p.tree.length} package${p.tree.length === 1 ? '' : 's'}, each checked against its integrity; no install script ran.`,
          );
          out(`  integrity: ${p.integrity}`);
          out(`  lockfile:  sha256 ${p.lockfileSha256}`);
          out(`  use it:    {"transport": "stdio", "package": "${p.id}", "args": [...]}`);
        } else {
          const p = await removeServerPackage(
            store.db,
            { home: config.home, registry: config.npmRegistry },
            who,
            target,
          );
          out(`Removed ${p.id}.`);
        }
      } else if (sub === 'list' || sub === undefined) {
        const listed = await listServerPackages(store.db, null);
        if (listed.length === 0) {
          out('No MCP server packages installed. Install one: paddock servers install <name>@<version>');
          return;
        }
        out('PACKAGE\tPACKAGES\tINSTALLED\tINTEGRITY\tUSED BY');
        for (const p of listed) {
          const used = p.usedBy.map((u) => `${u.orgSlug}/${u.connectionName}`).join(', ') || '-';
          out(`${p.id}\t${p.packages}\t${p.installedAt.slice(0, 10)}\t${p.integrity.slice(0, 23)}…\t${used}`);
        }
      } else {
        throw new UsageError(`Unknown servers command "${sub}". Use install, list or remove.`);
      }
    } finally {
      await store.close();
    }
  },
};
