/**
 * The `paddock` commands. Offline commands (init, token, migrate) work straight on the store
 * named by `$PADDOCK_HOME` or `DATABASE_URL`, acting as the operator; `up` runs the server.
 */
import { chmodSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { checkpointCustody } from '../audit/index.ts';
import { chooseSandbox } from '../cells/index.ts';
import { type Config, loadConfig } from '../config/index.ts';
import { createDemo, DEMO_MESSAGE } from '../demo/index.ts';
import { PaddockError } from '../errors/index.ts';
import {
  findPersonByEmail,
  forgetSpentSetupLink,
  initOrg,
  insertToken,
  isRole,
  issueSetupSecret,
  listTokens,
  mayAssign,
  operatorCaller,
  requireOrgBySlug,
  revokeToken,
  SETUP_LINK_FILE,
  signinLinkUrl,
  trustedScope,
} from '../identity/index.ts';
import { createLogger, silentLogger } from '../log/index.ts';
import { redactString } from '../redact/index.ts';
import { startServer } from '../server/index.ts';
import { dashboardBuilt } from '../server/static.ts';
import { upgradeData } from '../server/upgrades.ts';
import { DataFolderInUseError, migrate, openStore } from '../store/index.ts';
import { localKeyring, Vault } from '../vault/index.ts';
import { agents } from './agents.ts';
import { audit } from './audit.ts';
import { cells } from './cells.ts';
import { evidence } from './evidence.ts';
import { jobs } from './jobs.ts';
import { need, parse, storeOptions } from './options.ts';
import { UsageError } from './output.ts';
import { servers } from './servers.ts';
import { slack } from './slack.ts';
import { vault } from './vault.ts';

export const VERSION = '0.1.0';

export interface Command {
  summary: string;
  usage: string;
  run(args: string[]): Promise<void>;
}

/** Writes a secret to a file only its owner can read, replacing it atomically. */
function writeSecretFile(path: string, content: string): void {
  const target = resolve(path);
  const tmp = join(dirname(target), `.${Date.now()}.${process.pid}.tmp`);
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, target);
}

/** A port (or a data folder) that is taken or not allowed is the operator's to fix: one line saying how, no stack trace. */
function listenProblem(err: unknown, config: Config): UsageError | undefined {
  // A second server on the same SQLite data folder: the message says what to do.
  if (err instanceof DataFolderInUseError) return new UsageError(err.message);
  const code = (err as NodeJS.ErrnoException).code;
  const next = config.port >= 1024 && config.port < 65535 ? config.port + 1 : 7071;
  const choose = `choose another with \`PORT=${next} npm start\` or \`npm start -- --port ${next}\``;
  if (code === 'EADDRINUSE')
    return new UsageError(`port ${config.port} on ${config.host} is already in use; ${choose}.`);
  if (code === 'EACCES')
    return new UsageError(`port ${config.port} on ${config.host} needs privileges; ${choose}.`);
  if (code === 'EADDRNOTAVAIL')
    return new UsageError(
      `${config.host} is not an address of this machine; choose another with HOST or --host.`,
    );
  return undefined;
}

/** A URL without what it may carry for the receiver alone (user info, query). */
const shownUrl = (url: string) => {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
};

const up: Command = {
  summary: 'Run Paddock: API and dashboard on one port (what `npm start` runs)',
  usage: `paddock up [--port N] [--host ADDR] [--home DIR] [--database-url URL] [--public-url URL]

  --port          port to listen on (env PORT; default 7070; 0 picks a free one)
  --host          address to listen on (env HOST; default 127.0.0.1)
  --home          data directory (env PADDOCK_HOME; default ./.paddock)
  --database-url  PostgreSQL URL (env DATABASE_URL); without it, embedded SQLite in --home
  --public-url    the address people use, for links and SSO (env PADDOCK_PUBLIC_URL)
  --unsafe-no-sandbox  run org cells WITHOUT isolation (development only; env PADDOCK_UNSAFE_NO_SANDBOX=1)`,
  async run(args) {
    const v = parse(args, {
      port: { type: 'string' },
      host: { type: 'string' },
      'public-url': { type: 'string' },
    });
    const config = loadConfig({
      home: v.home as string | undefined,
      databaseUrl: v['database-url'] as string | undefined,
      port: v.port as string | undefined,
      host: v.host as string | undefined,
      publicUrl: v['public-url'] as string | undefined,
      unsafeNoSandbox: v['unsafe-no-sandbox'] === true ? true : undefined,
    });
    const log = createLogger({ level: config.logLevel, format: config.logFormat });
    // A crash is reported through the redaction layer too: no secret in crash output.
    const crash = (err: unknown) => {
      log.fatal({ err }, 'Paddock crashed');
      process.stderr.write(
        `paddock: crashed: ${redactString(err instanceof Error ? err.message : String(err))}\n`,
      );
      setTimeout(() => process.exit(1), 100).unref();
    };
    process.on('uncaughtException', crash);
    process.on('unhandledRejection', crash);
    const server = await startServer(config, log).catch((err: unknown) => {
      throw listenProblem(err, config) ?? err;
    });
    const { deps } = server;
    const out = (s: string) => process.stdout.write(`${s}\n`);
    // From before the first line saying it runs: a stop then is never a kill. It stops once however
    // often told (Ctrl-C reaches a launcher and the server both); a stop that hangs ends anyway.
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      out('Stopping Paddock…');
      setTimeout(() => process.exit(1), 10_000).unref();
      await server.close();
      process.exit(0);
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
    out(`Paddock ${VERSION} is running at ${deps.config.publicUrl}`);
    out(`  store:     ${deps.store.describe}`);
    out(`  API:       ${deps.config.publicUrl}/api/v1  (OpenAPI: /api/v1/openapi.json)`);
    if (!dashboardBuilt()) out('  dashboard: not built — run `npm run build:dashboard`');
    out(
      `  cells:     ${deps.cells ? `${deps.cells.sandbox} sandbox` : `unavailable — ${deps.sandboxProblem}`}`,
    );
    out(
      `  metrics:   ${config.metricsToken ? `${deps.config.publicUrl}/metrics (with the scrape token)` : 'off (set PADDOCK_METRICS_TOKEN)'}`,
    );
    out(
      `  traces:    ${config.tracesEndpoint ? `OTLP (${config.traceProtocol}) to ${shownUrl(config.tracesEndpoint)}` : 'off (set OTEL_EXPORTER_OTLP_ENDPOINT)'}`,
    );
    const custody = checkpointCustody({
      dir: config.checkpointDir,
      home: config.home,
      webhook: config.checkpointWebhook,
      databaseUrl: config.databaseUrl,
    });
    out(
      `  checkpoints: ${custody.offHost ? 'published to ' : 'WARNING: published to '}${custody.description}`,
    );
    if (!custody.offHost)
      log.warn({ checkpointDir: config.checkpointDir }, 'audit checkpoints are not published off this host');
    if (deps.cells?.sandbox === 'none')
      out('  !!! UNSAFE: org cells run WITHOUT a sandbox (--unsafe-no-sandbox). Development only. !!!');
    const setup = await issueSetupSecret(deps.store.db);
    // A link left from before setup was done (its secret is spent) is not left lying about.
    if (!setup) rmSync(join(config.home, SETUP_LINK_FILE), { force: true });
    if (setup) {
      const link = `${deps.config.publicUrl}/setup#${setup}`;
      out('');
      out('First start: there is no organization yet. To create one and sign in as its owner,');
      if (process.stdout.isTTY) {
        out(`  open this one-time setup link:  ${link}`);
      } else {
        // Not a terminal: stdout may be a log collector, so keep the secret out of it.
        const file = join(config.home, SETUP_LINK_FILE);
        writeSecretFile(file, `${link}\n`);
        out(`  open the one-time setup link in ${file} (readable by you only),`);
      }
      out('  or run:  npm run -s paddock -- init --org <slug> --owner <email>   (prints a sign-in link)');
    }
  },
};

const init: Command = {
  summary: 'Create an organization and its first owner, offline',
  usage: `paddock init --org <slug> --owner <email> [--name <org name>] [--owner-name <name>] [--token-file <path>] [--demo] [--existing-account]

  Prints a one-time sign-in link for the owner (valid 24 hours). With --token-file, also writes
  an owner API token to that file (mode 0600). With --demo, also adds the demo: an agent that
  replays a conversation (no model key needed), the demo order desk it is governed on, and two
  grants. An owner whose email already has an account with a password is refused unless
  --existing-account says that account is theirs. Works on $PADDOCK_HOME or DATABASE_URL.`,
  async run(args) {
    const v = parse(args, {
      org: { type: 'string' },
      owner: { type: 'string' },
      name: { type: 'string' },
      'owner-name': { type: 'string' },
      'token-file': { type: 'string' },
      'public-url': { type: 'string' },
      demo: { type: 'boolean' },
      'existing-account': { type: 'boolean' },
    });
    const slug = need(v, 'org');
    const owner = need(v, 'owner');
    const { config, opts } = storeOptions(v);
    const publicUrl = (v['public-url'] as string | undefined) ?? config.publicUrl;
    const store = await openStore(opts);
    try {
      const r = await initOrg(store.db, operatorCaller(), {
        slug,
        name: v.name as string | undefined,
        ownerEmail: owner,
        ownerName: v['owner-name'] as string | undefined,
        withToken: typeof v['token-file'] === 'string',
        existingAccount: v['existing-account'] === true,
      }).catch((err: unknown) => {
        if (PaddockError.isInstance(err) && err.code === 'owner_has_account')
          throw new UsageError(err.message);
        // Made already (the setup link, an earlier init): say what to do next.
        if (PaddockError.isInstance(err) && err.code === 'org_exists')
          throw new UsageError(
            `${err.message} Choose another --org, or make yourself a token for it: npm run -s paddock -- token create --org ${slug} --for <your email> > ${slug}.token`,
          );
        throw err;
      });
      process.stdout.write(
        `Created organization "${r.org.slug}" (${r.org.id}) with owner ${owner.toLowerCase()}.\n`,
      );
      process.stdout.write(
        `Sign in within 24 hours with this one-time link:\n  ${signinLinkUrl(publicUrl, r.signinSecret)}\n`,
      );
      if (r.token && typeof v['token-file'] === 'string') {
        writeSecretFile(v['token-file'], r.token);
        process.stdout.write(`Owner API token written to ${v['token-file']} (mode 0600).\n`);
      }
      if (v.demo === true) {
        const ctx = {
          ...operatorCaller(),
          userId: r.ownerId,
          org: r.org,
          role: 'owner' as const,
          scope: trustedScope(r.org.id),
        };
        const sandbox = await chooseSandbox(config, silentLogger);
        const demo = await createDemo(
          {
            db: store.db,
            vault: new Vault(localKeyring(config.home)),
            sandbox: sandbox.provider,
            home: config.home,
            registry: config.npmRegistry,
            egress: async () => null,
          },
          ctx,
        );
        process.stdout.write(
          demo.listed
            ? `Added the demo: agent demo-assistant (${demo.agentId}), connection demo, two grants.\n` +
                `Try it: POST /api/v1/orgs/${r.org.slug}/agents/${demo.agentId}/runs {"message": "${DEMO_MESSAGE}"}\n`
            : `Added the demo agent (${demo.agentId}), but its tools could not be listed: ${demo.problem}\n`,
        );
      }
      // An organization exists now: a setup link a server of this database left on disk is spent.
      await forgetSpentSetupLink(store.db, config.home);
    } finally {
      await store.close();
    }
  },
};

const token: Command = {
  summary: 'Create, list or revoke API tokens, offline',
  usage: `paddock token create --org <slug> --role <owner|admin|member|auditor> [--name <n>] [--expires-days N] [--for <email>]
paddock token list --org <slug>
paddock token revoke --org <slug> --id <token id>

  create prints the token once. Without --for it is a service token (acts for nobody);
  with --for it acts for that member and never outranks them.`,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === '--help' || sub === '-h' || sub === undefined) throw new UsageError(token.usage);
    const v = parse(rest, {
      org: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      'expires-days': { type: 'string' },
      for: { type: 'string' },
      id: { type: 'string' },
    });
    const { opts } = storeOptions(v);
    const store = await openStore(opts);
    try {
      const org = await requireOrgBySlug(store.db, need(v, 'org'));
      const scope = trustedScope(org.id);
      const caller = operatorCaller();
      const ctx = { ...caller, org, role: 'owner' as const, scope };
      if (sub === 'create') {
        const role = need(v, 'role');
        if (!isRole(role))
          throw new UsageError(`--role must be owner, admin, member or auditor, not "${role}".`);
        const daysText = v['expires-days'] as string | undefined;
        const days = daysText === undefined ? 90 : Number(daysText);
        if (!Number.isInteger(days) || days < 1)
          throw new UsageError('--expires-days is a whole number of days, at least 1.');
        let forUser: string | null = null;
        if (typeof v.for === 'string') {
          const person = await findPersonByEmail(store.db, scope, v.for);
          if (!person) throw new UsageError(`${v.for} is not a member of "${org.slug}".`);
          if (!mayAssign(person.role, role) && person.role !== role) {
            throw new UsageError(`${v.for} is ${person.role}; their token cannot be ${role}.`);
          }
          forUser = person.id;
        }
        const made = await store.db.transaction().execute((trx) =>
          insertToken(
            trx,
            { ...caller, userId: forUser },
            scope,
            {
              name: (v.name as string | undefined) ?? `cli ${role}`,
              role,
              expiresInDays: days,
              service: forUser === null,
            },
            org.settings.maxTokenDays,
          ),
        );
        process.stdout.write(`${made.token}\n`);
        process.stderr.write(
          `Token ${made.info.id} (${role}, expires ${made.info.expiresAt ?? 'never'}). It is shown only now.\n`,
        );
      } else if (sub === 'list') {
        for (const t of await listTokens(store.db, ctx)) {
          const state = t.revokedAt
            ? 'revoked'
            : t.expiresAt && t.expiresAt <= new Date().toISOString()
              ? 'expired'
              : 'active';
          process.stdout.write(`${t.id}\t${t.role}\t${state}\t${t.expiresAt ?? 'never'}\t${t.name}\n`);
        }
      } else if (sub === 'revoke') {
        const t = await revokeToken(store.db, ctx, need(v, 'id'));
        process.stdout.write(`Revoked ${t.id} (${t.name}).\n`);
      } else {
        throw new UsageError(`Unknown token command "${sub}". Use create, list or revoke.`);
      }
    } finally {
      await store.close();
    }
  },
};

const migrateCmd: Command = {
  summary: 'Apply pending database migrations (up does this too)',
  usage: 'paddock migrate [--home DIR] [--database-url URL]',
  async run(args) {
    const v = parse(args, {});
    const { config, opts } = storeOptions(v);
    const store = await openStore({ ...opts, migrate: false });
    try {
      const applied = await migrate(store);
      applied.push(...(await upgradeData(store, new Vault(localKeyring(config.home)))));
      process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Up to date.\n');
    } finally {
      await store.close();
    }
  },
};

export const COMMANDS: Record<string, Command> = {
  up,
  init,
  token,
  audit,
  evidence,
  vault,
  cells,
  servers,
  agents,
  slack,
  jobs,
  migrate: migrateCmd,
};
