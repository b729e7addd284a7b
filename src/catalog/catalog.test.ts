/**
 * The catalog: the file is checked by its schema (a bad entry fails here, not at a user), and
 * every npm entry is installed from a registry this test starts (the package and its whole tree
 * packed from node_modules, never the network), started in the org's bubblewrap sandbox with no
 * egress and dummy credentials, and its tools listed — with each suggested grant a tool it lists
 * as read-only. Adding from an entry grants nothing; a person accepts a suggestion as a grant.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bubblewrap } from '../cells/index.ts';
import { loadConfig } from '../config/index.ts';
import { silentLogger } from '../log/index.ts';
import { packageDir, removeFolder, storeDir } from '../packages/store.ts';
import { buildDeps } from '../server/deps.ts';
import { allAuditEntries, call, createApp, type SeededOrg, seedOrg } from '../testing/fixtures.ts';
import { publishInstalled, startTestRegistry, type TestRegistry } from '../testing/npm-registry.ts';
import { openTestStore, STORE_KINDS, type StoreKind, type TestStore } from '../testing/stores.ts';
import { type CatalogEntry, catalog, parseCatalog } from './index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FILE = JSON.parse(readFileSync(new URL('./catalog.json', import.meta.url), 'utf8'));
const NPM = catalog().entries.filter(
  (e): e is CatalogEntry & { source: { kind: 'npm' } } => e.source.kind === 'npm',
);
const nameOf = (pkg: string) => pkg.slice(0, pkg.lastIndexOf('@'));
const MCP_HEADERS = { accept: 'application/json, text/event-stream' };

describe('the catalog file', () => {
  test('loads and checks: ids unique, every npm entry exact and present in node_modules at that version', () => {
    const c = catalog();
    assert.ok(c.entries.length >= 8);
    assert.ok(NPM.length >= 3);
    for (const e of NPM) {
      const installed = JSON.parse(
        readFileSync(join(ROOT, 'node_modules', nameOf(e.source.package), 'package.json'), 'utf8'),
      );
      assert.equal(
        `${installed.name}@${installed.version}`,
        e.source.package,
        `${e.id}: node_modules has it`,
      );
    }
    for (const e of c.entries.filter((x) => x.source.kind === 'remote'))
      assert.equal(
        e.suggestedGrants.length,
        0,
        `${e.id}: a remote entry's suggestions come from its listing`,
      );
  });

  test('a bad entry is refused at load, naming its place and what is wrong', () => {
    const good = FILE.entries.find((e: any) => e.id === 'notion');
    const remote = FILE.entries.find((e: any) => e.id === 'github');
    const bad: Array<[string, unknown, RegExp]> = [
      [
        'a range',
        { ...good, source: { ...good.source, package: '@notionhq/notion-mcp-server@^2' } },
        /source\.package: a registry package pinned to one exact version/,
      ],
      [
        'a git source',
        { ...good, source: { ...good.source, package: 'github:makenotion/notion-mcp-server' } },
        /source\.package/,
      ],
      [
        'an alias',
        { ...good, source: { ...good.source, package: 'x@npm:@notionhq/notion-mcp-server@2.5.2' } },
        /source\.package/,
      ],
      [
        'plain http',
        { ...remote, source: { ...remote.source, url: 'http://api.githubcopilot.com/mcp/' } },
        /source\.url: an https URL/,
      ],
      [
        'credentials in the URL',
        { ...remote, source: { ...remote.source, url: 'https://u:p@x.example/mcp' } },
        /source\.url/,
      ],
      [
        'a remote host missing from egress',
        { ...remote, egress: ['example.com'] },
        /egress must include the server's host api\.githubcopilot\.com/,
      ],
      [
        'a reserved variable',
        { ...good, credentials: [{ ...good.credentials[0], field: 'NODE_OPTIONS' }] },
        /credentials\.0\.field: not a name a secret may be given as/,
      ],
      [
        'a reserved header',
        { ...remote, credentials: [{ ...remote.credentials[0], field: 'Host' }] },
        /credentials\.0\.field/,
      ],
      [
        'a header for a local server',
        { ...good, credentials: [{ ...good.credentials[0], as: 'header', field: 'X-Token' }] },
        /a local server takes environment variables/,
      ],
      ['an unknown key', { ...good, install: 'curl | sh' }, /Unrecognized key/],
      ['a control character', { ...good, description: 'ok\u001b[31m' }, /description: no control characters/],
      [
        'an upper-case host',
        { ...good, egress: ['API.notion.com'] },
        /egress\.0: a lower-case DNS host name/,
      ],
      ['a tool name with spaces', { ...good, suggestedGrants: ['read file'] }, /suggestedGrants\.0/],
    ];
    for (const [what, entry, message] of bad) {
      assert.throws(
        () => parseCatalog({ version: FILE.version, entries: [entry] }),
        (err: Error) => {
          assert.match(err.message, /^The MCP server catalog is not valid: entries\.0[.:]/, what);
          assert.match(err.message, message, what);
          return true;
        },
        what,
      );
    }
    assert.throws(
      () => parseCatalog({ version: FILE.version, entries: [good, good] }),
      /entry "notion" is listed twice/,
    );
    assert.throws(() => parseCatalog({ entries: [good] }), /version/);
  });
});

let reg: TestRegistry;
/** `<name>@<version>` → the integrity of the tarball the registry serves. */
const published = new Map<string, string>();

function catalogSuite(kind: StoreKind): void {
  let t: TestStore;
  let deps: ReturnType<typeof buildDeps>;
  let app: ReturnType<typeof createApp>;
  let acme: SeededOrg;
  const admin = () => acme.people.admin.token;
  const api = (method: string, path: string, body?: unknown, token = admin(), on = app) =>
    call(on, method, `/api/v1/orgs/acme${path}`, { token, ...(body === undefined ? {} : { body }) });
  const build = (allowlist: string) =>
    buildDeps(
      loadConfig(
        { home: t.home, port: 0, databaseUrl: t.databaseUrl },
        { PADDOCK_NPM_REGISTRY: reg.url, PADDOCK_SERVER_PACKAGES: allowlist },
      ),
      silentLogger,
      t.store,
      {},
      { provider: bubblewrap, problem: null },
    );
  const counts = async () => ({
    connections: (await t.store.db.selectFrom('connections').select('id').execute()).length,
    packages: (await t.store.db.selectFrom('server_packages').select('id').execute()).length,
    grants: (await t.store.db.selectFrom('grants').select('id').execute()).length,
  });

  before(async () => {
    const check = await bubblewrap.check();
    assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
    t = await openTestStore(kind);
    deps = build(NPM.map((e) => nameOf(e.source.package)).join(','));
    app = createApp(deps);
    acme = await seedOrg(t.store, 'acme');
  });
  after(async () => {
    await deps?.sessions.close();
    await deps?.gateway.close();
    await deps?.audit.close();
    if (t) removeFolder(storeDir(t.home));
    await t?.cleanup();
  });

  test('refusals change nothing: not on the allowlist, a credential missing from the vault, OAuth sign-in only, no such entry', async () => {
    const narrow = build('@modelcontextprotocol/*');
    try {
      const narrowApp = createApp(narrow);
      const cards = await api('get', '/catalog', undefined, admin(), narrowApp);
      assert.equal(cards.status, 200, cards.text);
      const notion = cards.body.entries.find((e: any) => e.id === 'notion');
      assert.equal(notion.status.allowed, false);
      assert.equal(notion.status.addable, false);
      assert.match(notion.status.blocked, /@notionhq\/notion-mcp-server is not on this installation's list/);
      assert.deepEqual(notion.status.egress, [{ host: 'api.notion.com', allowed: false }]);
      const sentry = cards.body.entries.find((e: any) => e.id === 'sentry');
      assert.equal(sentry.status.needsOAuth, true);
      assert.equal(sentry.status.addable, true, 'added, then signed in to from its row');
      assert.equal(sentry.status.blocked, null);

      const before = await counts();
      const asked = reg.requests.length;
      const refused = await api('post', '/catalog/notion/connections', {}, admin(), narrowApp);
      assert.equal(refused.status, 403, refused.text);
      assert.equal(refused.body.error.code, 'package_not_allowed');
      assert.deepEqual(await counts(), before);
      assert.equal(reg.requests.length, asked, 'the registry was not asked');
    } finally {
      await narrow.sessions.close();
      await narrow.gateway.close();
      await narrow.audit.close();
    }

    const before = await counts();
    const noSecret = await api('post', '/catalog/notion/connections', {});
    assert.equal(noSecret.status, 400, noSecret.text);
    assert.equal(noSecret.body.error.code, 'catalog_secret_missing');
    assert.match(noSecret.body.error.message, /store it in the vault as "notion-token"/);
    const stray = await api('post', '/catalog/filesystem/connections', { secrets: { EVIL: 'sec_x' } });
    assert.equal(stray.status, 400, stray.text);
    assert.equal(stray.body.error.code, 'invalid_secrets');
    // A chosen secret must be this org's: checked before anything is installed.
    const asked = reg.requests.length;
    const foreign = await api('post', '/catalog/notion/connections', {
      secrets: { NOTION_TOKEN: 'sec_0000000000000000' },
    });
    assert.equal(foreign.status, 404, foreign.text);
    assert.equal(foreign.body.error.code, 'secret_not_found');
    assert.equal(reg.requests.length, asked, 'the registry was not asked');
    const missing = await api('post', '/catalog/nope/connections', {});
    assert.equal(missing.status, 404, missing.text);
    const member = await api('post', '/catalog/filesystem/connections', {}, acme.people.member.token);
    assert.equal(member.status, 403, member.text);
    assert.deepEqual(await counts(), before);
  });

  test('every npm entry installs from the registry, starts in the sandbox with no egress, lists its tools; suggestions are its read-only tools; nothing is granted', async () => {
    // Dummy credentials: each server must list its tools without calling out (the org allows no egress).
    for (const e of NPM)
      for (const c of e.credentials) {
        const s = await api('post', '/secrets', {
          name: c.secretName,
          kind: 'connector_credential',
          value: `dummy-${c.field.toLowerCase()}-for-the-catalog-test`,
        });
        assert.equal(s.status, 201, s.text);
      }
    const cards = (await api('get', '/catalog')).body.entries;
    for (const e of NPM) {
      const card = cards.find((c: any) => c.id === e.id);
      assert.equal(card.status.addable, true, `${e.id}: ${card.status.blocked}`);
      assert.equal(card.status.blocked, null);
      assert.ok(
        card.status.credentials.every((c: any) => c.secretId),
        `${e.id}: filled from the vault`,
      );
    }
    const grantsBefore = (await counts()).grants;
    for (const e of NPM) {
      const r = await api('post', `/catalog/${e.id}/connections`, {});
      assert.equal(r.status, 201, `${e.id}: ${r.text}`);
      assert.equal(r.body.installed.package, e.source.package);
      assert.equal(r.body.connection.package, e.source.package);
      const secrets = Object.fromEntries(
        (await api('get', '/secrets')).body.secrets.map((s: any) => [s.name, s.id]),
      );
      assert.deepEqual(
        r.body.connection.env,
        Object.fromEntries(e.credentials.map((c) => [c.field, secrets[c.secretName]])),
        `${e.id}: each field filled from the vault`,
      );
      const tools = new Map<string, any>(r.body.tools.tools.map((x: any) => [x.name, x]));
      assert.ok(tools.size > 0, `${e.id} lists tools`);
      // The catalog's suggestions: each a tool it lists, annotated read-only; all of them offered.
      for (const name of e.suggestedGrants) {
        assert.ok(tools.has(name), `${e.id}: suggests ${name}, which it lists`);
        assert.equal(tools.get(name).annotations?.readOnlyHint, true, `${e.id}: ${name} is read-only`);
      }
      assert.deepEqual(
        r.body.suggestedGrants.map((s: any) => s.tool),
        e.suggestedGrants,
      );
      // Not asked to: the hosts it calls are reported, never allowed silently.
      assert.deepEqual(r.body.egress, { allowed: [], missing: e.egress }, `${e.id}: egress reported`);
      // Its whole tree as the registry served it, each tarball's integrity on record.
      const row = await t.store.db
        .selectFrom('server_packages')
        .select(['tree'])
        .where('id', '=', e.source.package)
        .executeTakeFirstOrThrow();
      for (const p of JSON.parse(row.tree) as Array<{ name: string; version: string; integrity: string }>)
        assert.equal(p.integrity, published.get(`${p.name}@${p.version}`), `${e.id}: ${p.name}@${p.version}`);
    }
    assert.equal((await counts()).grants, grantsBefore, 'nothing granted by adding');
    assert.deepEqual((await api('get', '')).body.settings.egressAllowlist, [], 'no egress allowed unasked');
    assert.deepEqual(
      (await allAuditEntries(t.store)).filter((x) => x.action.startsWith('org.egress.')),
      [],
    );
    const installs = (await allAuditEntries(t.store)).filter(
      (x) => x.action === 'server_package.installed' && x.log_id === 'platform',
    );
    assert.deepEqual(installs.map((x) => x.target_id).sort(), NPM.map((e) => e.source.package).sort());
    const after = (await api('get', '/catalog')).body.entries;
    for (const e of NPM) {
      const card = after.find((c: any) => c.id === e.id);
      assert.equal(card.status.installed, true);
      assert.deepEqual(
        card.status.connections.map((c: any) => c.name),
        [e.id],
      );
    }
  });

  test('a secret chosen by id fills a field whatever its name, and the hosts the server calls are allowed in the same step when asked: an audited egress change, once', async () => {
    const chosen = await api('post', '/secrets', {
      name: 'our-notion-integration',
      kind: 'connector_credential',
      value: 'dummy-chosen-notion-token-for-the-catalog-test',
    });
    assert.equal(chosen.status, 201, chosen.text);
    // A model key is not a credential a server is given: refused, nothing made.
    const key = await api('post', '/secrets', {
      name: 'a-model-key',
      kind: 'model_key',
      provider: 'openai',
      value: 'sk-dummy-model-key-for-the-catalog-test',
    });
    assert.equal(key.status, 201, key.text);
    const before = await counts();
    const wrongKind = await api('post', '/catalog/notion/connections', {
      name: 'notion-two',
      secrets: { NOTION_TOKEN: key.body.id },
      allowEgress: true,
    });
    assert.equal(wrongKind.status, 404, wrongKind.text);
    assert.equal(wrongKind.body.error.code, 'secret_not_found');
    const notBool = await api('post', '/catalog/notion/connections', { allowEgress: 'yes' });
    assert.equal(notBool.status, 400, notBool.text);
    assert.deepEqual(await counts(), before);
    assert.deepEqual((await api('get', '')).body.settings.egressAllowlist, [], 'refusals allowed nothing');

    const r = await api('post', '/catalog/notion/connections', {
      name: 'notion-two',
      secrets: { NOTION_TOKEN: chosen.body.id },
      allowEgress: true,
    });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.body.connection.env, { NOTION_TOKEN: chosen.body.id });
    assert.deepEqual(r.body.egress, { allowed: ['api.notion.com'], missing: [] });
    assert.deepEqual((await api('get', '')).body.settings.egressAllowlist, [
      { host: 'api.notion.com', port: 443 },
    ]);
    const changes = (await allAuditEntries(t.store))
      .filter((x) => x.action === 'org.egress.added')
      .map((x) => ({ ...x, details: JSON.parse(String(x.details)) }));
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.actor_id, acme.people.admin.id);
    assert.deepEqual(changes[0]!.details.hosts, ['api.notion.com:443']);
    assert.match(changes[0]!.details.reason, /catalog entry notion: connection notion-two/);
    assert.deepEqual(changes[0]!.details.before, { egressAllowlist: [] });
    assert.deepEqual(changes[0]!.details.after, { egressAllowlist: [{ host: 'api.notion.com', port: 443 }] });
    const card = (await api('get', '/catalog')).body.entries.find((e: any) => e.id === 'notion');
    assert.deepEqual(card.status.egress, [{ host: 'api.notion.com', allowed: true }]);

    // Asked again with the host already allowed: nothing to change, no second entry.
    const again = await api('post', '/catalog/notion/connections', {
      name: 'notion-three',
      secrets: { NOTION_TOKEN: chosen.body.id },
      allowEgress: true,
    });
    assert.equal(again.status, 201, again.text);
    assert.deepEqual(again.body.egress, { allowed: [], missing: [] });
    assert.equal((await allAuditEntries(t.store)).filter((x) => x.action === 'org.egress.added').length, 1);

    // A server that does not start: the connection is removed and the hosts allowed for it withdrawn, each on record.
    assert.equal(
      (await api('patch', '', { settings: { egressAllowlist: [] } })).status,
      200,
      'the host is missing again',
    );
    const cli = join(
      packageDir(t.home, '@notionhq/notion-mcp-server', '2.5.2'),
      'node_modules/@notionhq/notion-mcp-server/bin/cli.mjs',
    );
    assert.ok(existsSync(cli), cli);
    const program = readFileSync(cli);
    const mode = statSync(cli).mode;
    chmodSync(cli, 0o644);
    writeFileSync(cli, 'process.exit(3);\n');
    try {
      const seen = (await allAuditEntries(t.store)).length;
      const broken = await api('post', '/catalog/notion/connections', {
        name: 'notion-broken',
        secrets: { NOTION_TOKEN: chosen.body.id },
        allowEgress: true,
      });
      assert.ok(broken.status >= 400, broken.text);
      assert.equal(
        (await api('get', '/connections')).body.connections.filter((c: any) => c.name === 'notion-broken')
          .length,
        0,
      );
      assert.deepEqual((await api('get', '')).body.settings.egressAllowlist, []);
      const actions = (await allAuditEntries(t.store)).slice(seen).map((x) => x.action);
      for (const action of [
        'connection.created',
        'org.egress.added',
        'connection.deleted',
        'org.egress.removed',
      ])
        assert.ok(actions.includes(action), `${action} in ${actions.join(', ')}`);
    } finally {
      writeFileSync(cli, program);
      chmodSync(cli, mode);
    }
    for (const name of ['notion-two', 'notion-three'])
      assert.equal(
        (
          await api(
            'delete',
            `/connections/${(await api('get', '/connections')).body.connections.find((c: any) => c.name === name).id}`,
          )
        ).status,
        204,
      );
  });

  test('an OAuth entry with no token in the vault is added for sign-in: a remote connection sending no credential, nothing listed yet', async () => {
    const before = (await allAuditEntries(t.store)).length;
    const r = await api('post', '/catalog/sentry/connections', {});
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.signIn, true);
    assert.equal(r.body.tools, null);
    assert.deepEqual(r.body.suggestedGrants, []);
    assert.equal(r.body.connection.transport, 'http');
    assert.equal(r.body.connection.url, 'https://mcp.sentry.dev/mcp');
    assert.deepEqual(r.body.connection.headers, {});
    const entries = (await allAuditEntries(t.store)).slice(before);
    assert.deepEqual(
      entries.map((e) => e.action),
      ['connection.created'],
      'only the connection made: no listing tried before sign-in',
    );
    const card = (await api('get', '/catalog')).body.entries.find((e: any) => e.id === 'sentry');
    assert.equal(card.status.connections.length, 1);
  });

  test('a suggestion becomes a grant only when a person accepts it, as an ordinary grant; then the agent sees that tool and no other', async () => {
    const conn = (await api('get', '/connections')).body.connections.find(
      (c: any) => c.name === 'filesystem',
    );
    const agent = await api('post', '/agents', {
      name: 'reader',
      scope: 'organization',
      instructions: 'x',
      model: { provider: 'openai', model: 'gpt-5' },
    });
    assert.equal(agent.status, 201, agent.text);
    const token = (await api('post', `/agents/${agent.body.id}/tokens`, { name: 'mcp' })).body
      .token as string;
    const list = async () => {
      const r = await call(app, 'post', '/mcp/acme', {
        token,
        headers: MCP_HEADERS,
        body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
      });
      assert.equal(r.status, 200, r.text);
      return r.body.result.tools.map((x: any) => x.name);
    };
    assert.deepEqual(await list(), []);
    const g = await api('post', `/agents/${agent.body.id}/grants`, {
      connectionId: conn.id,
      tool: 'list_allowed_directories',
    });
    assert.equal(g.status, 201, g.text);
    assert.deepEqual(await list(), ['filesystem__list_allowed_directories']);
  });

  test('an add whose server does not start takes back the hosts it allowed, but not one a connection made meanwhile relies on', async () => {
    const token = await api('post', '/secrets', {
      name: 'notion-for-the-undo-test',
      kind: 'connector_credential',
      value: 'dummy-notion-token-for-the-undo-test',
    });
    assert.equal(token.status, 201, token.text);
    const allowlist = async () => (await api('get', '')).body.settings.egressAllowlist;
    const removed = async () =>
      (await allAuditEntries(t.store)).filter((x) => x.action === 'org.egress.removed').length;
    // A sandbox whose cells fail to start (a little later, as a server that dies while starting).
    let meanwhile: (() => Promise<unknown>) | undefined;
    let made: Promise<unknown> | undefined;
    const failing = new Proxy(bubblewrap, {
      get: (target, key) =>
        key === 'spawn'
          ? () => {
              made = meanwhile?.();
              return spawn('sh', ['-c', 'sleep 0.5; exit 1'], { stdio: ['pipe', 'pipe', 'pipe'] });
            }
          : Reflect.get(target, key),
    });
    const attempt = async () => {
      const broken = buildDeps(
        loadConfig(
          { home: t.home, port: 0, databaseUrl: t.databaseUrl },
          { PADDOCK_NPM_REGISTRY: reg.url, PADDOCK_SERVER_PACKAGES: '@notionhq/*' },
        ),
        silentLogger,
        t.store,
        {},
        { provider: failing, problem: null },
      );
      try {
        return await api(
          'post',
          '/catalog/notion/connections',
          { name: `notion-undo-${Date.now()}`, secrets: { NOTION_TOKEN: token.body.id }, allowEgress: true },
          admin(),
          createApp(broken),
        );
      } finally {
        await broken.sessions.close();
        await broken.gateway.close();
      }
    };
    await api('patch', '', { settings: { egressAllowlist: [] } });

    // Alone: nothing is left of it — no connection, the host taken back (on record).
    const before = await removed();
    const alone = await attempt();
    assert.notEqual(alone.status, 201, alone.text);
    assert.deepEqual(await allowlist(), []);
    assert.equal(await removed(), before + 1);
    const undone = await t.store.db
      .selectFrom('connections')
      .select('id')
      .where('name', 'like', 'notion-undo-%')
      .execute();
    assert.deepEqual(undone, [], 'no connection left');

    // Another connection to the host made while it starts: the host stays allowed for it.
    meanwhile = () =>
      api('post', '/connections', {
        name: 'notion-hosted-b',
        transport: 'http',
        url: 'https://api.notion.com/mcp',
      });
    const raced = await attempt();
    assert.notEqual(raced.status, 201, raced.text);
    assert.equal(((await made) as { status: number }).status, 201);
    assert.deepEqual(await allowlist(), [{ host: 'api.notion.com', port: 443 }]);
    assert.equal(await removed(), before + 1, 'nothing taken back');
  });
}

describe('the MCP server catalog, installed from a registry serving node_modules', () => {
  before(async () => {
    reg = await startTestRegistry();
    for (const e of NPM)
      for (const [id, integrity] of await publishInstalled(reg, ROOT, nameOf(e.source.package)))
        published.set(id, integrity);
  });
  after(async () => {
    await reg?.close();
  });
  for (const kind of STORE_KINDS) describe(`[${kind}]`, () => catalogSuite(kind));
});
