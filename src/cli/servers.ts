/**
 * `paddock servers`: the operator installs, lists and removes MCP server packages, offline, on
 * the store named by `$PADDOCK_HOME` or `DATABASE_URL` (a running server sees them at once); an
 * org's admin adds a connection from a catalog entry through the running server's API (`add`).
 */
import { catalog } from '../catalog/index.ts';
import { operatorCaller } from '../identity/index.ts';
import {
  allowedName,
  installServerPackage,
  listServerPackages,
  type PackageAsker,
  removeServerPackage,
} from '../packages/index.ts';
import { openStore } from '../store/index.ts';
import type { Command } from './commands.ts';
import { need, parse, storeOptions } from './options.ts';
import { UsageError } from './output.ts';
import { remoteApi } from './remote.ts';

export const servers: Command = {
  summary: 'The catalog of well-known MCP servers; install, list or remove MCP server packages, offline',
  usage: `paddock servers catalog                    well-known MCP servers: package or URL, what each needs
paddock servers install <name>[@version]   resolve from the registry, verify, store read-only
paddock servers list                       installed packages and the connections that run each
paddock servers remove <name>@<version>    refused while a connection runs it
paddock servers add <entry> --org <slug> [--name NAME] [--secret FIELD=SECRET]... [--allow-egress]
                                           add a connection from a catalog entry (running server)

  The registry is PADDOCK_NPM_REGISTRY (default https://registry.npmjs.org/). Only names on
  PADDOCK_SERVER_PACKAGES may be installed: exact names, scopes ("@modelcontextprotocol/*") or
  "*", comma-separated. Every tarball is checked against the sha512 integrity its registry
  published, no install script runs, and each install and removal is on the platform's audit
  log with the integrity hashes. A connection then runs one with "package": "<name>@<version>".

  add uses the running server's API (--url, default PADDOCK_PUBLIC_URL or http://127.0.0.1:7070,
  and an owner's or admin's token from --token-file or PADDOCK_TOKEN). --secret fills a credential
  field from a vault secret named or given by id (default: the secret of the entry's usual name).
  --allow-egress also allows the hosts the server calls on the org's egress allowlist, recorded as
  an egress change (org.egress.added); without it they are only named.`,
  async run(args) {
    const [sub, target, ...rest] = args;
    if (sub === 'catalog') return printCatalog(target === '--json');
    if (sub === 'add') return addFromCatalog(target, rest);
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
        throw new UsageError(`Unknown servers command "${sub}". Use catalog, install, list or remove.`);
      }
    } finally {
      await store.close();
    }
  },
};

/**
 * The catalog, offline: each entry's source, what it needs, and whether this installation's
 * allowlist admits its package (adding one is done per organization: the dashboard, the API or `servers add`).
 */
function printCatalog(json: boolean): void {
  const c = catalog();
  const allowlist = storeOptions({}).config.serverPackages;
  if (json) {
    process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
    return;
  }
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(`MCP server catalog, version ${c.version} (${c.entries.length} entries)`);
  out('ID\tSOURCE\tNEEDS\tEGRESS\tHERE');
  for (const e of c.entries) {
    const source = e.source.kind === 'npm' ? `npm ${e.source.package}` : `remote ${e.source.url}`;
    const needs = [
      ...(e.source.kind === 'remote' && e.source.oauth ? ['OAuth sign-in'] : []),
      ...e.credentials.map(
        (cr) => `${cr.as === 'env' ? 'env' : 'header'} ${cr.field} ← vault "${cr.secretName}"`,
      ),
    ];
    const here =
      e.source.kind === 'npm'
        ? allowedName(e.source.package.slice(0, e.source.package.lastIndexOf('@')), allowlist)
          ? 'allowed'
          : 'not on PADDOCK_SERVER_PACKAGES'
        : e.source.oauth
          ? e.credentials.length
            ? 'a token from the vault, or OAuth sign-in (Connect once added)'
            : 'OAuth sign-in (Connect once added)'
          : 'a token from the vault';
    out(`${e.id}\t${source}\t${needs.join(' or ') || '-'}\t${e.egress.join(', ') || '-'}\t${here}`);
  }
}

/** `servers add`: a connection from a catalog entry, made by the running server (as the dashboard's cards make it). */
async function addFromCatalog(entry: string | undefined, rest: string[]): Promise<void> {
  if (!entry || entry.startsWith('-'))
    throw new UsageError(
      'Name the catalog entry: paddock servers add <entry> --org <slug> (see servers catalog).',
    );
  const v = parse(rest, {
    org: { type: 'string' },
    url: { type: 'string' },
    'token-file': { type: 'string' },
    name: { type: 'string' },
    secret: { type: 'string', multiple: true },
    'allow-egress': { type: 'boolean' },
  });
  const org = need(v, 'org');
  const call = remoteApi(v, org);
  const given = (v.secret as unknown as string[] | undefined) ?? [];
  const secrets: Record<string, string> = {};
  let vault: Array<{ id: string; name: string }> | undefined;
  for (const pair of given) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1)
      throw new UsageError(`--secret takes FIELD=SECRET (a secret's name or id), not "${pair}".`);
    const field = pair.slice(0, eq);
    const which = pair.slice(eq + 1);
    // A name is looked up among the org's secrets (names only come back, never values).
    vault ??= ((await call('GET', '/secrets')) as { secrets: Array<{ id: string; name: string }> }).secrets;
    const found = vault.find((s) => s.id === which) ?? vault.find((s) => s.name === which);
    if (!found) throw new UsageError(`No secret named "${which}" in ${org} (for ${field}): store it first.`);
    secrets[field] = found.id;
  }
  const added = (await call('POST', `/catalog/${encodeURIComponent(entry)}/connections`, {
    ...(typeof v.name === 'string' ? { name: v.name } : {}),
    ...(given.length ? { secrets } : {}),
    ...(v['allow-egress'] === true ? { allowEgress: true } : {}),
  })) as {
    connection: { id: string; name: string };
    tools: { tools: unknown[] } | null;
    signIn: boolean;
    installed: { package: string; already: boolean } | null;
    suggestedGrants: Array<{ tool: string }>;
    egress: { allowed: string[]; missing: string[] };
  };
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(`Added ${added.connection.name} (${added.connection.id}) from the catalog entry ${entry}.`);
  if (added.installed)
    out(
      `  package:  ${added.installed.package}${added.installed.already ? ' (installed already)' : ' installed, every tarball verified'}`,
    );
  if (added.signIn)
    out('  sign in:  OAuth: press Connect on its row on the Connections page; its tools are listed then.');
  else out(`  tools:    ${added.tools?.tools.length ?? 0} listed`);
  if (added.suggestedGrants.length)
    out(
      `  suggested starting grants (read-only, none granted): ${added.suggestedGrants.map((g) => g.tool).join(', ')}`,
    );
  if (added.egress.allowed.length)
    out(
      `  egress allowed for ${org}: ${added.egress.allowed.join(', ')} (on the audit trail as org.egress.added)`,
    );
  if (added.egress.missing.length)
    out(
      `  egress not allowed yet: ${added.egress.missing.join(', ')} (add --allow-egress, or the Cell page)`,
    );
}
