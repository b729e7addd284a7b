/**
 * MCP server packages for real: installed from a registry the test starts (serving a fixture
 * server, a package packed from node_modules, and hostile packages), run by a connection inside
 * the org's bubblewrap sandbox, its tools listed and called through the gate.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bubblewrap } from '../cells/index.ts';
import { loadConfig } from '../config/index.ts';
import { silentLogger } from '../log/index.ts';
import { buildDeps } from '../server/deps.ts';
import { openStore, type Store } from '../store/index.ts';
import { allAuditEntries, call, createApp, type SeededOrg, seedOrg } from '../testing/fixtures.ts';
import {
  removeScratch,
  scratchFolder,
  startTestRegistry,
  type TestRegistry,
  writePackage,
} from '../testing/npm-registry.ts';
import { openTestStore, STORE_KINDS, type StoreKind, type TestStore } from '../testing/stores.ts';
import { makeReadOnly, packageDir, readInstalled, removeFolder, storeDir } from './store.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER = readFileSync(new URL('./fixtures/hello-server.mjs', import.meta.url), 'utf8');
/** The fixture server's code as published, with its tool's description. */
const serverCode = (description: string) => SERVER.replace("'Says hello.'", JSON.stringify(description));
const CANONICALIZE = join(ROOT, 'node_modules/canonicalize');
const MCP_HEADERS = { accept: 'application/json, text/event-stream' };
const MODEL = { provider: 'openai', model: 'gpt-5' };

let reg: TestRegistry;
let src: string;
/** Where a package's install scripts would leave their marks, had they run. */
let markers: string;
const published: Record<string, string> = {};

before(async () => {
  reg = await startTestRegistry();
  src = scratchFolder();
  markers = join(src, 'markers');
  const canonicalize = await reg.publish(CANONICALIZE);
  const hello = (version: string, description: string) =>
    writePackage(
      src,
      {
        name: '@acme/hello',
        version,
        bin: { hello: 'server.mjs' },
        dependencies: { canonicalize: `^${canonicalize.version}` },
      },
      { 'server.mjs': serverCode(description) },
    );
  const script = (phase: string) =>
    `node -e "require('fs').mkdirSync('${markers}',{recursive:true});require('fs').writeFileSync('${markers}/${phase}','ran')"`;
  for (const folder of [
    hello('1.0.0', 'Says hello.'),
    hello('1.1.0', 'Says hello, and now also tells your secrets.'),
    writePackage(
      src,
      {
        name: '@acme/scripted',
        version: '1.0.0',
        main: 'index.js',
        scripts: Object.fromEntries(
          ['preinstall', 'install', 'postinstall', 'prepare'].map((p) => [p, script(p)]),
        ),
        dependencies: { '@acme/scripted-dep': '1.0.0' },
      },
      // A binding.gyp alone makes npm run `node-gyp rebuild` as an install script.
      { 'index.js': 'module.exports = 1;', 'binding.gyp': '{"targets":[]}' },
    ),
    writePackage(
      src,
      { name: '@acme/scripted-dep', version: '1.0.0', scripts: { postinstall: script('dep-postinstall') } },
      { 'index.js': '' },
    ),
    writePackage(src, { name: '@acme/tampered', version: '1.0.0' }, { 'index.js': 'module.exports = 1;' }),
    writePackage(
      src,
      { name: '@acme/tampered-dep', version: '1.0.0', dependencies: { 'left-pad-evil': '1.0.0' } },
      { 'index.js': '' },
    ),
    writePackage(src, { name: 'left-pad-evil', version: '1.0.0' }, { 'index.js': '' }),
    writePackage(src, { name: 'not-allowed', version: '1.0.0' }, { 'index.js': '' }),
    // One per engine: its tarball is tampered with once it is installed.
    ...STORE_KINDS.map((kind) =>
      writePackage(
        src,
        { name: `@acme/later-${kind}`, version: '1.0.0', bin: { later: 'server.mjs' } },
        { 'server.mjs': serverCode('Says hello, later.') },
      ),
    ),
  ]) {
    const p = await reg.publish(folder);
    published[`${p.name}@${p.version}`] = p.integrity;
  }
  published[`canonicalize@${canonicalize.version}`] = canonicalize.integrity;
  reg.tamper('@acme/tampered', '1.0.0');
  reg.tamper('left-pad-evil', '1.0.0');
});

after(async () => {
  await reg?.close();
  if (src) removeScratch(src);
});

/** A command's exit status and output, without blocking this process. */
function run(command: string, args: string[], opts: { env: NodeJS.ProcessEnv }) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(command, args, { env: opts.env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

type Entry = Awaited<ReturnType<typeof allAuditEntries>>[number];
const detailsOf = (e: Entry) => JSON.parse(e.details ?? '{}') as Record<string, any>;

function packagesSuite(kind: StoreKind): void {
  let t: TestStore;
  let deps: ReturnType<typeof buildDeps>;
  let app: ReturnType<typeof createApp>;
  let acme: SeededOrg;
  const admin = () => acme.people.admin.token;
  const api = (method: string, path: string, body?: unknown, token = admin()) =>
    call(app, method, `/api/v1/orgs/acme${path}`, { token, ...(body === undefined ? {} : { body }) });
  let rpcId = 0;
  const mcp = async (token: string, method: string, params: Record<string, unknown> = {}) => {
    const r = await call(app, 'post', '/mcp/acme', {
      token,
      headers: MCP_HEADERS,
      body: { jsonrpc: '2.0', id: ++rpcId, method, params },
    });
    assert.equal(r.status, 200, r.text);
    return r.body.result;
  };
  const audit = async (action: string) => (await allAuditEntries(t.store)).filter((e) => e.action === action);

  before(async () => {
    const check = await bubblewrap.check();
    assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
    t = await openTestStore(kind);
    deps = buildDeps(
      loadConfig(
        { home: t.home, port: 0, databaseUrl: t.databaseUrl },
        { PADDOCK_NPM_REGISTRY: reg.url, PADDOCK_SERVER_PACKAGES: '@acme/*' },
      ),
      silentLogger,
      t.store,
      {},
      { provider: bubblewrap, problem: null },
    );
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

  test('installs a package and its dependency tree, every tarball checked against its published integrity, read-only, with its lockfile; on record', async () => {
    const r = await api('post', '/server-packages', { package: '@acme/hello@1.0.0' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.already, false);
    assert.equal(r.body.package.id, '@acme/hello@1.0.0');
    assert.equal(r.body.package.integrity, published['@acme/hello@1.0.0']);
    assert.equal(r.body.package.packages, 2);

    const dir = packageDir(t.home, '@acme/hello', '1.0.0');
    const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
    const locked = Object.entries(lock.packages as Record<string, any>)
      .filter(([path]) => path)
      .map(([, p]) => `${p.version} ${p.integrity}`)
      .sort();
    assert.deepEqual(
      locked,
      Object.entries(published)
        .filter(([id]) => id.startsWith('@acme/hello@1.0.0') || id.startsWith('canonicalize@'))
        .map(([id, integrity]) => `${id.slice(id.lastIndexOf('@') + 1)} ${integrity}`)
        .sort(),
    );
    const code = join(dir, 'node_modules/@acme/hello/server.mjs');
    // No write bit anywhere (the program is executable: npm's bin links make it so).
    assert.equal(statSync(code).mode & 0o777, 0o555);
    assert.equal(statSync(join(dir, 'package-lock.json')).mode & 0o777, 0o444);
    assert.equal(statSync(dir).mode & 0o777, 0o555);
    assert.deepEqual(readdirSync(join(t.home, 'packages-staging')), [], 'no staging left behind');

    // The same version again fetches nothing.
    const before = reg.requests.length;
    const again = await api('post', '/server-packages', { package: '@acme/hello@1.0.0' });
    assert.equal(again.status, 201, again.text);
    assert.equal(again.body.already, true);
    assert.equal(reg.requests.slice(before).filter((p) => p.endsWith('.tgz')).length, 0);

    // On the platform's log and the org's, with every integrity hash.
    const installed = await audit('server_package.installed');
    assert.deepEqual(installed.map((e) => e.log_id).sort(), [acme.id, 'platform'].sort());
    const details = detailsOf(installed[0]!);
    assert.equal(details.integrity, published['@acme/hello@1.0.0']);
    assert.equal(details.tree.length, 2);
    assert.ok(details.tree.every((p: any) => published[`${p.name}@${p.version}`] === p.integrity));
    assert.match(details.lockfileSha256, /^[0-9a-f]{64}$/);
  });

  test('no install script ever runs: not the package’s, not a dependency’s, not node-gyp’s', async () => {
    const r = await api('post', '/server-packages', { package: '@acme/scripted@1.0.0' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.package.packages, 2);
    assert.ok(existsSync(join(packageDir(t.home, '@acme/scripted', '1.0.0'), 'node_modules/@acme/scripted')));
    assert.ok(
      !existsSync(markers),
      `install scripts ran: ${existsSync(markers) ? readdirSync(markers) : ''}`,
    );
    assert.ok(
      !existsSync(join(packageDir(t.home, '@acme/scripted', '1.0.0'), 'node_modules/@acme/scripted/build')),
    );
  });

  test('a tarball that does not match its integrity is refused, as the package or as a dependency; nothing is stored', async () => {
    for (const [name, which] of [
      ['@acme/tampered', 'The tarball of @acme/tampered@1.0.0 does'],
      [
        '@acme/tampered-dep',
        'The tarball of left-pad-evil@1.0.0 (a dependency of @acme/tampered-dep@1.0.0) does',
      ],
    ] as const) {
      const r = await api('post', '/server-packages', { package: `${name}@1.0.0` });
      assert.equal(r.status, 502, r.text);
      assert.equal(r.body.error.code, 'package_integrity_mismatch');
      assert.ok(r.body.error.message.startsWith(which), r.body.error.message);
      assert.ok(!existsSync(packageDir(t.home, name, '1.0.0')), `${name} is not in the store`);
    }
    assert.ok(!existsSync(packageDir(t.home, 'left-pad-evil', '1.0.0')));
    assert.deepEqual(readdirSync(join(t.home, 'packages-staging')), [], 'no staging left behind');
    const listed = await api('get', '/server-packages');
    assert.deepEqual(
      listed.body.packages.map((p: any) => p.id),
      ['@acme/hello@1.0.0', '@acme/scripted@1.0.0'],
    );
    const refused = (await audit('server_package.install.refused')).filter((e) => e.log_id === 'platform');
    assert.deepEqual(
      refused.map((e) => [e.target_id, detailsOf(e).code]),
      [
        ['@acme/tampered@1.0.0', 'package_integrity_mismatch'],
        ['@acme/tampered-dep@1.0.0', 'package_integrity_mismatch'],
      ],
    );
  });

  test('a name outside the operator’s allowlist is refused before the registry is asked; members install nothing', async () => {
    const before = reg.requests.length;
    const r = await api('post', '/server-packages', { package: 'not-allowed@1.0.0' });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.body.error.code, 'package_not_allowed');
    assert.match(r.body.error.message, /PADDOCK_SERVER_PACKAGES: @acme\/\*/);
    assert.deepEqual(reg.requests.slice(before), []);
    assert.ok(!existsSync(packageDir(t.home, 'not-allowed', '1.0.0')));
    for (const bad of ['github:acme/hello', 'file:../x', 'https://example.test/x.tgz', 'x@npm:y@1']) {
      const b = await api('post', '/server-packages', { package: bad });
      assert.equal(b.status, 400, `${bad}: ${b.text}`);
      assert.equal(b.body.error.code, 'invalid_package');
    }
    const byMember = await api(
      'post',
      '/server-packages',
      { package: '@acme/hello@1.0.0' },
      acme.people.member.token,
    );
    assert.equal(byMember.status, 403);
    const seen = await api('get', '/server-packages', undefined, acme.people.member.token);
    assert.equal(seen.status, 200);
    assert.deepEqual(seen.body.allowlist, ['@acme/*']);
  });

  test('a connection runs an installed package inside the sandbox: its tools list through the gate; the store is read-only from inside', async () => {
    const missing = await api('post', '/connections', {
      name: 'nope',
      transport: 'stdio',
      package: '@acme/hello@9.9.9',
    });
    assert.equal(missing.status, 404, missing.text);
    assert.equal(missing.body.error.code, 'package_not_installed');
    const c = await api('post', '/connections', {
      name: 'hello',
      transport: 'stdio',
      package: '@acme/hello@1.0.0',
    });
    assert.equal(c.status, 201, c.text);
    assert.equal(c.body.package, '@acme/hello@1.0.0');
    assert.equal(c.body.command, null);
    const listed = await api('post', `/connections/${c.body.id}/tools/refresh`);
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(listed.body.tools.map((x: any) => x.name).sort(), ['hello', 'probe_store']);

    const agent = await api('post', '/agents', {
      name: 'greeter',
      scope: 'organization',
      instructions: 'x',
      model: MODEL,
    });
    assert.equal(agent.status, 201, agent.text);
    const token = (await api('post', `/agents/${agent.body.id}/tokens`, { name: 'mcp' })).body
      .token as string;
    for (const tool of ['hello', 'probe_store']) {
      const g = await api('post', `/agents/${agent.body.id}/grants`, { connectionId: c.body.id, tool });
      assert.equal(g.status, 201, g.text);
    }
    const tools = (await mcp(token, 'tools/list')).tools.map((x: any) => x.name).sort();
    assert.deepEqual(tools, ['hello__hello', 'hello__probe_store']);
    const hello = await mcp(token, 'tools/call', { name: 'hello__hello', arguments: { name: 'paddock' } });
    const said = JSON.parse(hello.content[0].text);
    assert.equal(said.greeting, 'hello paddock');
    assert.equal(said.from, '/packages/@acme/hello@1.0.0/node_modules/@acme/hello/server.mjs');

    // Another version installed beside it is not in this server's view; its own is read-only.
    assert.equal((await api('post', '/server-packages', { package: '@acme/hello@1.1.0' })).status, 201);
    const probe = JSON.parse(
      (await mcp(token, 'tools/call', { name: 'hello__probe_store', arguments: {} })).content[0].text,
    );
    assert.deepEqual(probe.packages, ['hello@1.0.0']);
    for (const tried of probe.tries) assert.match(tried, /: refused E(ROFS|ACCES|PERM)$/, tried);
    const code = join(packageDir(t.home, '@acme/hello', '1.0.0'), 'node_modules/@acme/hello/server.mjs');
    assert.equal(readFileSync(code, 'utf8'), serverCode('Says hello.'));
  });

  test('which connections run each package; removal is refused while one does; an upgrade is audited, re-lists the tools and suspends changed grants', async () => {
    const conn = (await api('get', '/connections')).body.connections.find((c: any) => c.name === 'hello');
    const listed = (await api('get', '/server-packages')).body.packages;
    const used = listed.find((p: any) => p.id === '@acme/hello@1.0.0');
    assert.deepEqual(
      used.usedBy.map((u: any) => u.connectionName),
      ['hello'],
    );
    assert.equal(used.usedElsewhere, 0);

    const refused = await api(
      'delete',
      `/server-packages?package=${encodeURIComponent('@acme/hello@1.0.0')}`,
    );
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.body.error.code, 'package_in_use');
    assert.match(refused.body.error.message, /in use by hello/);

    const agentId = (await api('get', '/agents')).body.agents.find((a: any) => a.name === 'greeter').id;
    const grants = (await api('get', `/agents/${agentId}/grants`)).body.grants;
    const helloGrant = grants.find((g: any) => g.tool === 'hello');
    const up = await call(app, 'put', `/api/v1/orgs/acme/connections/${conn.id}/package`, {
      token: admin(),
      body: { package: '@acme/hello@1.1.0' },
    });
    assert.equal(up.status, 200, up.text);
    assert.equal(up.body.connection.package, '@acme/hello@1.1.0');
    assert.deepEqual(up.body.tools.changed, ['hello']);
    assert.deepEqual(up.body.tools.suspended, [helloGrant.id]);
    const [changed] = await audit('connection.package.changed');
    assert.deepEqual(detailsOf(changed!), {
      before: { package: '@acme/hello@1.0.0', bin: null, integrity: published['@acme/hello@1.0.0'] },
      after: { package: '@acme/hello@1.1.0', bin: null, integrity: published['@acme/hello@1.1.0'] },
    });

    // Not installed: nothing changes.
    const nowhere = await call(app, 'put', `/api/v1/orgs/acme/connections/${conn.id}/package`, {
      token: admin(),
      body: { package: '@acme/hello@7.0.0' },
    });
    assert.equal(nowhere.status, 404);

    const removed = await api(
      'delete',
      `/server-packages?package=${encodeURIComponent('@acme/hello@1.0.0')}`,
    );
    assert.equal(removed.status, 204, removed.text);
    assert.ok(!existsSync(packageDir(t.home, '@acme/hello', '1.0.0')));
    const [record] = (await audit('server_package.removed')).filter((e) => e.log_id === 'platform');
    assert.equal(detailsOf(record!).integrity, published['@acme/hello@1.0.0']);
  });

  test('the operator’s CLI: install within the allowlist, list with the connections that run each, remove', async () => {
    // Not spawnSync: the registry answering it runs in this process.
    const cli = (...args: string[]) =>
      run(process.execPath, [join(ROOT, 'bin/paddock.js'), 'servers', ...args], {
        env: {
          ...process.env,
          PADDOCK_HOME: t.home,
          DATABASE_URL: t.databaseUrl ?? '',
          PADDOCK_NPM_REGISTRY: reg.url,
          PADDOCK_SERVER_PACKAGES: '@acme/*',
        },
      });
    const outside = await cli('install', 'not-allowed@1.0.0');
    assert.equal(outside.status, 2, outside.stderr);
    assert.match(outside.stderr, /not-allowed is not on this installation's list/);
    const removed = await cli('remove', '@acme/scripted@1.0.0');
    assert.equal(removed.status, 0, removed.stderr);
    const installed = await cli('install', '@acme/scripted@1.0.0');
    assert.equal(installed.status, 0, installed.stderr);
    assert.match(installed.stdout, /Installed @acme\/scripted@1\.0\.0: 2 packages/);
    const listed = await cli('list');
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /@acme\/hello@1\.1\.0\t2\t.*\tacme\/hello\n/);
    const inUse = await cli('remove', '@acme/hello@1.1.0');
    assert.equal(inUse.status, 2);
    assert.match(inUse.stderr, /in use by acme\/hello/);
  });

  describe('another replica (its own disk, the same database)', () => {
    const later = `@acme/later-${kind}`;
    let home2: string;
    let store2: Store;
    let deps2: ReturnType<typeof buildDeps>;
    let app2: ReturnType<typeof createApp>;
    const api2 = (method: string, path: string, body?: unknown) =>
      call(app2, method, `/api/v1/orgs/acme${path}`, {
        token: admin(),
        ...(body === undefined ? {} : { body }),
      });
    before(async () => {
      home2 = scratchFolder();
      // PostgreSQL: a second connection pool, as a second replica has; SQLite has one file.
      store2 = t.databaseUrl ? await openStore({ home: home2, databaseUrl: t.databaseUrl }) : t.store;
      deps2 = buildDeps(
        loadConfig(
          { home: home2, port: 0, databaseUrl: t.databaseUrl },
          { PADDOCK_NPM_REGISTRY: reg.url, PADDOCK_SERVER_PACKAGES: '@acme/*' },
        ),
        silentLogger,
        store2,
        {},
        { provider: bubblewrap, problem: null },
      );
      app2 = createApp(deps2);
    });
    after(async () => {
      await deps2?.sessions.close();
      await deps2?.gateway.close();
      await deps2?.audit.close();
      if (store2 && store2 !== t.store) await store2.close();
      if (home2) {
        removeFolder(storeDir(home2));
        removeScratch(home2);
      }
    });

    test('starts a connection to a package installed elsewhere: the recorded lockfile’s tarballs, each checked, no packument asked for; the same tree', async () => {
      assert.equal(readInstalled(home2, '@acme/hello', '1.1.0'), undefined, 'not on this disk yet');
      const listed = await api2('get', '/server-packages');
      assert.ok(listed.body.packages.some((p: any) => p.id === '@acme/hello@1.1.0'));
      const conn = (await api2('get', '/connections')).body.connections.find((c: any) => c.name === 'hello');
      const before = reg.requests.length;
      const refreshed = await api2('post', `/connections/${conn.id}/tools/refresh`);
      assert.equal(refreshed.status, 200, refreshed.text);
      assert.deepEqual(refreshed.body.tools.map((x: any) => x.name).sort(), ['hello', 'probe_store']);
      const fetched = reg.requests.slice(before);
      assert.deepEqual(
        fetched.filter((p) => !p.endsWith('.tgz')),
        [],
        'only tarballs, by the lockfile',
      );
      assert.equal(fetched.length, 2, 'the package and its dependency');
      const here = readInstalled(home2, '@acme/hello', '1.1.0')!;
      const there = readInstalled(t.home, '@acme/hello', '1.1.0')!;
      assert.deepEqual(here, there);
      assert.equal(
        readFileSync(join(packageDir(home2, '@acme/hello', '1.1.0'), 'package-lock.json'), 'utf8'),
        readFileSync(join(packageDir(t.home, '@acme/hello', '1.1.0'), 'package-lock.json'), 'utf8'),
      );
      assert.equal(statSync(packageDir(home2, '@acme/hello', '1.1.0')).mode & 0o777, 0o555);
      const [laid] = (await audit('server_package.laid_out')).filter(
        (e) => e.target_id === '@acme/hello@1.1.0',
      );
      assert.equal(detailsOf(laid!).lockfileSha256, there.lockfileSha256);
      // Laid out once: the next start fetches nothing.
      const again = reg.requests.length;
      assert.equal((await api2('post', `/connections/${conn.id}/tools/refresh`)).status, 200);
      assert.equal(reg.requests.length, again);
    });

    test('a tarball that no longer matches its recorded integrity is refused on the replica that lays it out; nothing is stored there', async () => {
      const installed = await api('post', '/server-packages', { package: `${later}@1.0.0` });
      assert.equal(installed.status, 201, installed.text);
      reg.tamper(later, '1.0.0');
      const c = await api2('post', '/connections', {
        name: 'later',
        transport: 'stdio',
        package: `${later}@1.0.0`,
      });
      assert.equal(c.status, 502, c.text);
      assert.equal(c.body.error.code, 'package_integrity_mismatch');
      assert.match(c.body.error.message, new RegExp(`The tarball of ${later}@1\\.0\\.0 does not match`));
      assert.equal(readInstalled(home2, later, '1.0.0'), undefined);
      assert.deepEqual(readdirSync(join(home2, 'packages-staging')), [], 'no staging left behind');
      const [refusedThere] = await audit('server_package.layout.refused');
      assert.equal(detailsOf(refusedThere!).code, 'package_integrity_mismatch');
      // Installing it there by hand is refused the same way (the record is what is laid out).
      const byHand = await api2('post', '/server-packages', { package: `${later}@1.0.0` });
      assert.equal(byHand.status, 502, byHand.text);
      assert.equal(byHand.body.error.code, 'package_integrity_mismatch');
      assert.equal(readInstalled(home2, later, '1.0.0'), undefined);
    });

    test('a package removed on one replica is not run on another, though its folder is still on that disk', async () => {
      const removed = await api('delete', `/server-packages?package=${encodeURIComponent(`${later}@1.0.0`)}`);
      assert.equal(removed.status, 204, removed.text);
      const conn = (await api2('get', '/connections')).body.connections.find((c: any) => c.name === 'hello');
      // Off the record (as a removal does, once no connection runs it), the folder on this disk is not run.
      await t.store.db.deleteFrom('server_packages').where('id', '=', '@acme/hello@1.1.0').execute();
      assert.ok(readInstalled(home2, '@acme/hello', '1.1.0'), 'still on this disk');
      await deps2.sessions.close();
      const refused = await api2('post', `/connections/${conn.id}/tools/refresh`);
      assert.equal(refused.status, 409, refused.text);
      assert.equal(refused.body.error.code, 'package_not_installed');
      assert.ok(
        !(await api2('get', '/server-packages')).body.packages.some((p: any) => p.id.startsWith(`${later}@`)),
      );
    });
    test('a package installed on a disk before installs were on record is put on record when first needed', async () => {
      const conn = (await api2('get', '/connections')).body.connections.find((c: any) => c.name === 'hello');
      // As if installed before migration 032: the same folder, an older install record.
      const dir = packageDir(home2, '@acme/hello', '1.1.0');
      const file = join(dir, 'paddock-install.json');
      const record = JSON.parse(readFileSync(file, 'utf8'));
      chmodSync(dir, 0o755);
      chmodSync(file, 0o644);
      writeFileSync(file, JSON.stringify({ ...record, installedAt: '2000-01-01T00:00:00.000Z' }));
      makeReadOnly(dir);
      const listed = await api2('post', `/connections/${conn.id}/tools/refresh`);
      assert.equal(listed.status, 200, listed.text);
      const row = await t.store.db
        .selectFrom('server_packages')
        .selectAll()
        .where('id', '=', '@acme/hello@1.1.0')
        .executeTakeFirstOrThrow();
      assert.equal(row.integrity, record.integrity);
      assert.equal(row.lockfile_sha256, record.lockfileSha256);
    });
  });
}

for (const kind of STORE_KINDS) describe(`MCP server packages [${kind}]`, () => packagesSuite(kind));
