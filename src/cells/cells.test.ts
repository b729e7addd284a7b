/**
 * Org cells under real bubblewrap: what a cell can and cannot reach, and the supervisor keeping
 * cells alive (kill -9 → back within 2 s) without one org's trouble touching another's.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AuditTrail } from '../audit/index.ts';
import { initOrg, operatorCaller } from '../identity/index.ts';
import { silentLogger } from '../log/index.ts';
import { descendantNamed, hostIds, NODE } from '../testing/processes.ts';
import { openTestStore, type TestStore } from '../testing/stores.ts';
import { localKeyring, Vault, vaultLogKeys } from '../vault/index.ts';
import { bubblewrap, orgUsersProblem } from './bubblewrap.ts';
import { cellFolder } from './folders.ts';
import { orgHostUser } from './host-users.ts';
import { limitsDescription } from './limits.ts';
import type { CellSpec } from './sandbox.ts';
import { seccompSupported } from './seccomp.ts';
import { CellSupervisor, cellSpec, egressSocketPath } from './supervisor.ts';

const PROBE = fileURLToPath(new URL('./probe.ts', import.meta.url));

describe('org cells under bubblewrap', () => {
  let t: TestStore;
  let acme: string;
  let globex: string;
  let supervisor: CellSupervisor;
  let trail: AuditTrail;
  /** An org's cell spec with its host user, as the supervisor makes it. */
  const specOf = async (orgId: string, program: string, args: string[] = []): Promise<CellSpec> => ({
    ...cellSpec(orgId, t.home, program, args),
    user: await orgHostUser(t.store.db, orgId),
  });
  /** Runs a spec to its end (killed after `deadlineMs`, and said so); its output (stdout and stderr) and exit. */
  const run = async (spec: CellSpec, deadlineMs = 60_000) => {
    const proc = bubblewrap.spawn(spec);
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    proc.stdin!.end();
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      proc.kill('SIGKILL');
    }, deadlineMs);
    const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
      proc.once('exit', (c, sig) => r([c, sig])),
    );
    clearTimeout(deadline);
    return { out, code, signal, timedOut };
  };

  before(async () => {
    const check = await bubblewrap.check();
    assert.ok(check.ok, `bubblewrap is needed for these tests: ${check.reason}`);
    t = await openTestStore('sqlite');
    acme = (await initOrg(t.store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' })).org.id;
    globex = (await initOrg(t.store.db, operatorCaller(), { slug: 'globex', ownerEmail: 'o@globex.test' }))
      .org.id;
    const vault = new Vault(localKeyring(t.home, {}));
    trail = new AuditTrail({
      store: t.store,
      keys: vaultLogKeys(vault),
      originHost: 'cells.test',
      log: silentLogger,
    });
    supervisor = new CellSupervisor({
      store: t.store,
      vault,
      audit: trail,
      provider: bubblewrap,
      log: silentLogger,
      home: t.home,
      // Tighter than the defaults, so a hung cell is caught within the test's patience.
      heartbeatMs: 300,
      livenessMs: 1500,
    });
  });
  after(async () => {
    await supervisor?.close();
    await trail?.close();
    await t?.cleanup();
  });

  test('from inside a cell: no other org, no database, no master key, no other processes, no network', async () => {
    const other = cellFolder(t.home, globex);
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'memory.json'), '{"secret":"globex"}');
    assert.ok(existsSync(join(t.home, 'paddock.db')) && existsSync(join(t.home, 'master.key')));
    const host = createServer((_q, r) => r.end('host')).listen(0, '127.0.0.1');
    await new Promise((r) => host.once('listening', r));
    const port = (host.address() as AddressInfo).port;
    try {
      const spec = await specOf(acme, PROBE, [
        join(other, 'memory.json'),
        join(t.home, 'paddock.db'),
        join(t.home, 'master.key'),
        `/proc/${process.pid}/environ`,
        '/etc/passwd',
        '--connect',
        `127.0.0.1:${port}`,
      ]);
      const proc = bubblewrap.spawn({ ...spec, env: { ...spec.env, CANARY: 'x' } });
      let out = '';
      proc.stdout!.on('data', (d) => {
        out += d;
      });
      proc.stdin!.end();
      await new Promise((r) => proc.once('exit', r));
      const r = JSON.parse(out) as Record<string, string>;
      for (const [what, result] of Object.entries(r)) {
        if (what.startsWith('read ') || what.startsWith('connect ') || what === 'write /usr') {
          assert.match(result, /^refused /, `${what} should be refused, was: ${result}`);
        }
      }
      assert.equal(r['write own /cell'], 'ALLOWED undefined', 'its own directory is writable');
      const written = statSync(join(cellFolder(t.home, acme), 'probe.txt'));
      assert.ok(written, 'and it is the org’s private directory on the host');
      assert.equal(written.uid, (await orgHostUser(t.store.db, acme)).uid, 'written as the org’s host user');
      assert.ok(
        r.processes!.split(',').every((p) => Number(p) < 10),
        `only its own processes: ${r.processes}`,
      );
      assert.equal(r.env, 'CANARY,NODE_ENV,PADDOCK_CELL_ORG,PWD', 'nothing of the host environment');
    } finally {
      host.close();
    }
  });

  test('the seccomp filter refuses what sandboxed code has no business doing (ptrace, keyrings, here)', async () => {
    assert.ok(seccompSupported(), `seccomp is enforced only on x86-64; this is ${process.arch}`);
    assert.ok(existsSync('/usr/bin/python3'), "this test needs Debian's python3 (apt-get install python3)");
    // Calls an unprivileged process may make: only the filter stands in their way.
    const py = [
      'import ctypes',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'libc.syscall.restype = ctypes.c_long',
      'print("ptrace", libc.syscall(101, 0, 0, 0, 0), ctypes.get_errno())',
      'print("keyctl", libc.syscall(250, 0, -3, 0, 0, 0), ctypes.get_errno())',
    ].join('\n');
    const runFiltered = async (seccomp: boolean) =>
      (
        await run({
          ...(await specOf('org_filtered', '')),
          command: '/usr/bin/python3',
          args: ['-c', py],
          seccomp,
        })
      ).out;
    const without = await runFiltered(false);
    assert.match(without, /ptrace 0 0/, `without the filter PTRACE_TRACEME succeeds (control): ${without}`);
    const filtered = await runFiltered(true);
    assert.match(filtered, /ptrace -1 1\b/, `ptrace must be EPERM: ${filtered}`);
    assert.match(filtered, /keyctl -1 1\b/, `keyctl must be EPERM: ${filtered}`);
    assert.equal(
      cellSpec('org_filtered', t.home, '').seccomp,
      true,
      'every cell and MCP server runs filtered',
    );
  });

  test('sandboxed code holds no capabilities, even when Paddock runs as root, and cannot nest namespaces', async () => {
    const { out } = await run({
      ...(await specOf('org_nocaps', '')),
      command: '/bin/sh',
      args: ['-c', 'grep CapEff /proc/self/status; /usr/bin/unshare --user /bin/true && echo nested-ok'],
      seccomp: false, // capabilities and --disable-userns on their own, without the filter's help
    });
    assert.match(out, /CapEff:\s+0+\b/, `effective capabilities must be empty: ${out}`);
    assert.ok(!out.includes('nested-ok'), `a nested user namespace must be refused: ${out}`);
  });

  test('the seccomp filter refuses namespaces through clone too; clone3 falls back; fork still works', async () => {
    assert.ok(existsSync('/usr/bin/python3'), "this test needs Debian's python3 (apt-get install python3)");
    const py = [
      'import ctypes, os',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'libc.syscall.restype = ctypes.c_long',
      'r = libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)',
      'if r == 0: os._exit(0)',
      'print("clone-newuser", r, ctypes.get_errno())',
      'print("clone3", libc.syscall(435, 0, 0), ctypes.get_errno())',
      'pid = os.fork()',
      'if pid == 0: os._exit(0)',
      'os.waitpid(pid, 0)',
      'print("fork ok")',
    ].join('\n');
    const { out } = await run({
      ...(await specOf('org_filtered', '')),
      command: '/usr/bin/python3',
      args: ['-c', py],
    });
    assert.match(out, /clone-newuser -1 1\b/, `clone(CLONE_NEWUSER) must be EPERM: ${out}`);
    assert.match(out, /clone3 -1 38\b/, `clone3 must be ENOSYS: ${out}`);
    assert.match(out, /fork ok/);
  });

  test('an org’s processes and memory are capped by its own cgroup (cell and MCP servers together)', async () => {
    const capped = async (command: string, args: string[]) => {
      const spec = { ...(await specOf('org_capped', '')), command, args };
      assert.ok(spec.cgroupProcs?.length, `cannot enforce limits on this host: ${limitsDescription()}`);
      return run(spec);
    };
    process.env.PADDOCK_ORG_PIDS = '16';
    process.env.PADDOCK_ORG_MEMORY_MB = '128';
    try {
      const forks = await capped('/bin/sh', [
        '-c',
        'i=0; while [ $i -lt 40 ]; do sleep 2 & i=$((i+1)); done; echo all-forked',
      ]);
      assert.ok(!forks.out.includes('all-forked'), 'a fork bomb stops at the process limit');
      assert.match(forks.out, /fork/i);
      // The fork bomb's sleeps hold the org's process slots for 2 s: a node started among them
      // could not make its threads and waited for ever (a CI run hung here).
      const procs = (await specOf('org_capped', '')).cgroupProcs ?? [];
      for (let i = 0; i < 100 && procs.some((f) => readFileSync(f, 'utf8').trim() !== ''); i++)
        await new Promise((r) => setTimeout(r, 100));
      const memory = await capped(process.execPath, [
        '-e',
        'const b = []; for (let i = 0; i < 40; i++) b.push(Buffer.alloc(16 * 2 ** 20, 1)); console.log("allocated")',
      ]);
      assert.ok(!memory.timedOut, `the capped process neither ended nor was killed in 60 s: ${memory.out}`);
      assert.ok(!memory.out.includes('allocated'), 'allocating 640 MiB fails under a 128 MiB limit');
      assert.ok(
        memory.code === 137 || memory.signal === 'SIGKILL' || memory.code !== 0,
        JSON.stringify(memory),
      );
      assert.match(limitsDescription(), /per-org cgroup/);
    } finally {
      delete process.env.PADDOCK_ORG_PIDS;
      delete process.env.PADDOCK_ORG_MEMORY_MB;
    }
  });

  test('each org’s code runs as its own unprivileged host user: never root, never the owner of $PADDOCK_HOME, another per org', async () => {
    assert.ok(bubblewrap.runsAsOrgUsers, `host users per org are not enforced here: ${orgUsersProblem()}`);
    const homeOwner = statSync(t.home).uid;
    const users = new Map<string, number>();
    for (const org of [acme, globex]) {
      const user = await orgHostUser(t.store.db, org);
      const info = await supervisor.ensure(org);
      // The host's view of the cell's process, below the launcher and both bubblewrap layers.
      const { uids, gids } = hostIds(await descendantNamed(info.pid!, NODE));
      assert.deepEqual(uids, Array(4).fill(user.uid), 'real, effective, saved and filesystem uid');
      assert.deepEqual(gids, Array(4).fill(user.gid));
      assert.ok(
        ![0, homeOwner].includes(user.uid) && user.gid !== 0,
        `uid ${user.uid} is root or owns the home`,
      );
      assert.equal(statSync(cellFolder(t.home, org)).uid, user.uid, 'its folder is its own');
      users.set(org, user.uid);
    }
    assert.notEqual(users.get(acme), users.get(globex), 'each org its own uid');

    // A file a sandboxed process makes is the org user's on the host, and that user is all an
    // escape would be: it reads neither the master key, nor the database, nor another org's files.
    await run({
      ...(await specOf(acme, '')),
      command: '/bin/sh',
      args: ['-c', 'echo acme-only > /cell/mine.txt'],
    });
    const mine = join(cellFolder(t.home, acme), 'mine.txt');
    assert.equal(statSync(mine).uid, users.get(acme));
    for (const [org, path] of [
      [globex, mine],
      [globex, join(t.home, 'master.key')],
      [acme, join(t.home, 'master.key')],
      [acme, join(t.home, 'paddock.db')],
    ] as const) {
      const uid = users.get(org)!;
      const r = spawnSync('/bin/cat', [path], { uid, gid: uid, encoding: 'utf8' });
      assert.match(r.stderr, /Permission denied/, `${path} as ${org}'s uid ${uid}: ${r.status} ${r.stdout}`);
    }
  });

  test('host code never follows a link a sandboxed process planted in its folder (at the master key, at the home)', async () => {
    const key = join(t.home, 'master.key');
    const before = statSync(key);
    const { out } = await run({
      ...(await specOf('org_planter', '')),
      command: '/bin/sh',
      args: [
        '-c',
        `ln -s ${key} /cell/key && ln -s ${t.home} /cell/home && ln -s /cell/key /cell/again && echo planted`,
      ],
    });
    assert.match(out, /planted/);
    // A restart makes the folder again (owner, mode): the folder itself, never what its links point at.
    await run({ ...(await specOf('org_planter', '')), command: '/bin/true', args: [] });
    const after = statSync(key);
    assert.deepEqual([after.uid, after.gid, after.mode], [before.uid, before.gid, before.mode]);
    assert.equal(readFileSync(key, 'utf8').length > 0, true);
    assert.equal(statSync(t.home).uid, before.uid, 'the home is still Paddock’s');
    assert.ok(lstatSync(join(cellFolder(t.home, 'org_planter'), 'key')).isSymbolicLink());
  });

  test('a link where a cell’s folder should be is refused, not followed (its target is left alone)', async () => {
    const target = join(t.home, 'not-for-cells');
    mkdirSync(target, { mode: 0o700 });
    // What a cell of an older version (which wrote in cells/<org> itself) could have left behind.
    mkdirSync(join(t.home, 'cells', 'org_linked'), { recursive: true, mode: 0o700 });
    symlinkSync(target, cellFolder(t.home, 'org_linked'));
    await assert.rejects(run(await specOf('org_linked', '/bin/true')), /is not a directory \(a link\?\)/);
    const st = statSync(target);
    assert.deepEqual([st.uid, st.mode & 0o7777], [process.getuid!(), 0o700], 'not given to the org');
  });

  test('a sandbox run as its org’s user still dies with the process that started it (no orphan)', async () => {
    const user = await orgHostUser(t.store.db, 'org_orphan');
    const starter = [
      `import { bubblewrap } from ${JSON.stringify(fileURLToPath(new URL('./bubblewrap.ts', import.meta.url)))};`,
      `import { cellSpec } from ${JSON.stringify(fileURLToPath(new URL('./supervisor.ts', import.meta.url)))};`,
      `const spec = cellSpec('org_orphan', ${JSON.stringify(t.home)}, '');`,
      `const p = bubblewrap.spawn({ ...spec, command: '/bin/sleep', args: ['600'], user: ${JSON.stringify(user)} });`,
      'console.log(p.pid);',
    ].join('\n');
    const parent = spawn(process.execPath, ['--input-type=module', '-e', starter], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const launcher = Number(
      await new Promise<string>((r) => parent.stdout!.once('data', (d) => r(String(d)))),
    );
    const sleeper = await descendantNamed(launcher, ['sleep']);
    assert.deepEqual(hostIds(sleeper).uids, Array(4).fill(user.uid));
    parent.kill('SIGKILL');
    const gone = () =>
      !existsSync(`/proc/${sleeper}`) || /^State:\s+Z/m.test(readFileSync(`/proc/${sleeper}/status`, 'utf8'));
    for (const deadline = Date.now() + 5000; !gone(); ) {
      assert.ok(Date.now() < deadline, 'the sandboxed process outlived the process that started it');
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  test('a home inside a directory others cannot pass through still works, hidden from the org’s user', async () => {
    const closed = mkdtempSync(join(t.home, 'closed-')); // 0700, like the home itself
    const home = join(closed, 'home');
    const { out, code } = await run({
      ...cellSpec('org_nested', home, ''),
      user: await orgHostUser(t.store.db, 'org_nested'),
      command: '/bin/sh',
      args: ['-c', `echo nested > /cell/x && ls ${closed} ${t.home} 2>&1; echo done`],
    });
    assert.equal(code, 0, out);
    assert.match(out, /done/);
    assert.ok(!out.includes('master.key') && !out.includes('paddock.db'), out);
    assert.equal(
      statSync(join(cellFolder(home, 'org_nested'), 'x')).uid,
      (await orgHostUser(t.store.db, 'org_nested')).uid,
    );
  });

  test('no descriptor Paddock hands bubblewrap reaches the sandboxed program', async () => {
    const { out } = await run({
      ...(await specOf(acme, '')),
      command: '/bin/sh',
      args: [
        '-c',
        'for fd in 3 4 5 6 7 8 9; do [ -e /proc/self/fd/$fd ] && echo open $fd; done; echo checked',
      ],
      dataFile: { content: 'X=1\n', path: '/run/paddock/env' },
    });
    // The data file's and the seccomp program's pipes were read and closed by bubblewrap.
    assert.equal(out.trim(), 'checked');
  });

  test('a cell starts ready, and after kill -9 is back within 2 s while another org’s cell never misses a beat', async () => {
    const first = await supervisor.ensure(acme);
    assert.equal(first.state, 'ready');
    assert.equal(first.sandbox, 'bubblewrap');
    const other = await supervisor.ensure(globex);
    assert.equal(other.state, 'ready');

    const before = supervisor.get(acme)!;
    const bwrapPid = before.pid!;
    // Kill the whole sandbox (bwrap and the cell under it).
    process.kill(bwrapPid, 'SIGKILL');
    const killedAt = Date.now();
    let back: number | undefined;
    let globexWorst = 0;
    // Meanwhile the other org's cell answers request after request.
    let served = 0;
    let serving = true;
    const traffic = (async () => {
      while (serving) {
        await supervisor.ping(globex, 500);
        served++;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    while (Date.now() - killedAt < 5000) {
      const a = supervisor.get(acme)!;
      const g = supervisor.get(globex)!;
      globexWorst = Math.max(globexWorst, Date.now() - Date.parse(g.lastHeartbeatAt!));
      assert.equal(g.state, 'ready', 'the other org’s cell stays ready');
      if (a.state === 'ready' && a.pid !== bwrapPid) {
        back = Date.now() - killedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    serving = false;
    await traffic; // rejects (and fails the test) if any request to the other cell failed
    assert.ok(served > 10, `the other cell answered ${served} requests meanwhile`);
    assert.ok(back !== undefined && back < 2000, `back after ${back} ms`);
    assert.ok((await supervisor.ping(acme)) < 500, 'and the restarted cell answers');
    assert.ok(globexWorst < 1500, `the other cell went ${globexWorst} ms without a heartbeat`);
    assert.equal(supervisor.get(acme)!.restarts, 1);
    await trail.flush();
    const actions = (
      await t.store.db.selectFrom('audit_entries').select('action').where('log_id', '=', acme).execute()
    ).map((r) => r.action);
    for (const a of ['cell.started', 'cell.health.changed', 'cell.exited', 'cell.restarting'])
      assert.ok(actions.includes(a), `${a} audited`);
    const history = await t.store.db
      .selectFrom('cell_events')
      .select('state')
      .where('org_id', '=', acme)
      .execute();
    assert.ok(
      history
        .map((h) => h.state)
        .join(',')
        .includes('ready,stopped,backoff,starting,ready'),
      history.map((h) => h.state).join(','),
    );
  });

  test('a hung cell (no heartbeat) is killed and restarted', async () => {
    const info = await supervisor.ensure(acme);
    // SIGSTOP freezes the cell without killing it: only the missing heartbeat can tell.
    const cellPid = await descendantNamed(info.pid!, NODE);
    process.kill(cellPid, 'SIGSTOP');
    const deadline = Date.now() + 6000;
    while (supervisor.get(acme)!.pid === info.pid) {
      assert.ok(Date.now() < deadline, 'the hung cell was never replaced');
      await new Promise((r) => setTimeout(r, 50));
    }
    const again = await supervisor.ensure(acme);
    assert.equal(again.state, 'ready');
  });

  test('a stall of the supervisor’s own event loop does not kill a healthy cell', async () => {
    const info = await supervisor.ensure(acme);
    // Blocks this process well past the liveness window: the cell keeps beating into the pipe.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2500);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(supervisor.get(acme)!.pid, info.pid, 'the cell was killed for our own stall');
    assert.equal(supervisor.get(acme)!.state, 'ready');
  });

  test('runs that start at once share one egress proxy per org: closing leaves none listening', async () => {
    const home = mkdtempSync(join(tmpdir(), 'paddock-egress-once-'));
    const withEgress = new CellSupervisor({
      store: t.store,
      vault: new Vault(localKeyring(t.home, {})),
      audit: trail,
      provider: bubblewrap,
      log: silentLogger,
      home,
      egressRules: async () => [],
    });
    const socket = egressSocketPath(home, acme);
    const listening = () =>
      readFileSync('/proc/self/net/unix', 'utf8')
        .split('\n')
        .filter((line) => line.endsWith(socket)).length;
    try {
      await Promise.all(Array.from({ length: 8 }, () => withEgress.ensure(acme)));
      assert.equal(listening(), 1, 'one proxy for the org, however many asked at once');
    } finally {
      await withEgress.close();
    }
    assert.equal(listening(), 0, 'and none left listening once closed');
  });

  test('stop keeps a cell stopped; restart brings it back', async () => {
    await supervisor.stop(globex);
    assert.equal(supervisor.get(globex)!.state, 'stopped');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(supervisor.get(globex)!.state, 'stopped', 'no automatic restart after an explicit stop');
    const back = await supervisor.restart(globex);
    assert.equal(back.state, 'ready');
  });
});

describe('cells over the API', () => {
  let t: TestStore;

  before(async () => {
    t = await openTestStore('sqlite');
  });
  after(async () => t?.cleanup());

  test('admins start, stop and restart their org’s cell; auditors read it; members cannot; the egress allowlist is the org’s', async () => {
    const { buildDeps } = await import('../server/deps.ts');
    const { createApp, call, seedOrg } = await import('../testing/fixtures.ts');
    const { loadConfig } = await import('../config/index.ts');
    const deps = buildDeps(
      loadConfig({ home: t.home, port: 7070 }, {}),
      silentLogger,
      t.store,
      {},
      { provider: bubblewrap, problem: null },
    );
    const app = createApp(deps);
    try {
      const org = await seedOrg(t.store, 'acme');
      const admin = org.people.admin.token;
      const none = await call(app, 'get', '/api/v1/orgs/acme/cell', { token: org.people.auditor.token });
      const { guarantees, ...rest } = none.body;
      assert.deepEqual(rest, { cell: null, sandbox: 'bubblewrap', problem: null });
      assert.ok(
        guarantees.some((g: string) => /seccomp filter: EPERM/.test(g)),
        'what is enforced is shown',
      );
      const started = await call(app, 'post', '/api/v1/orgs/acme/cell/start', { token: admin });
      assert.equal(started.status, 200, started.text);
      assert.equal(started.body.state, 'ready');
      assert.equal(
        (await call(app, 'post', '/api/v1/orgs/acme/cell/stop', { token: org.people.member.token })).status,
        403,
      );
      assert.equal(
        (await call(app, 'post', '/api/v1/orgs/acme/cell/stop', { token: org.people.auditor.token })).status,
        403,
      );
      const stopped = await call(app, 'post', '/api/v1/orgs/acme/cell/stop', { token: admin });
      assert.equal(stopped.body.state, 'stopped');
      const restarted = await call(app, 'post', '/api/v1/orgs/acme/cell/restart', {
        token: org.people.owner.token,
      });
      assert.equal(restarted.body.state, 'ready');
      const history = await call(app, 'get', '/api/v1/orgs/acme/cell/history', {
        token: org.people.auditor.token,
      });
      assert.ok(history.body.events.length >= 4);
      assert.equal(history.body.events.at(-1).state, 'starting');
      const bad = await call(app, 'post', '/api/v1/orgs/acme/cell/explode', { token: admin });
      assert.equal(bad.status, 400);
      // The org's allowlist reaches the proxy: a setting, validated.
      const set = await call(app, 'patch', '/api/v1/orgs/acme', {
        token: admin,
        body: { settings: { egressAllowlist: [{ host: 'api.openai.com', port: 443 }] } },
      });
      assert.equal(set.status, 200, set.text);
      const v6 = await call(app, 'patch', '/api/v1/orgs/acme', {
        token: admin,
        body: {
          settings: {
            egressAllowlist: [
              { host: '[::1]', port: 11434, allowPrivate: true },
              { host: 'API.OpenAI.com', port: 443 },
            ],
          },
        },
      });
      assert.deepEqual(
        v6.body.settings.egressAllowlist.map((r: any) => r.host),
        ['::1', 'api.openai.com'],
        'stored the way the proxy compares hosts',
      );
      const wrong = await call(app, 'patch', '/api/v1/orgs/acme', {
        token: admin,
        body: { settings: { egressAllowlist: [{ host: 'x', port: 0 }] } },
      });
      assert.equal(wrong.status, 400);
      await deps.audit.flush();
      const actions = (await t.store.db.selectFrom('audit_entries').select('action').execute()).map(
        (r) => r.action,
      );
      assert.ok(actions.includes('cell.stop.requested') && actions.includes('cell.restart.requested'));
    } finally {
      await deps.cells?.close();
      await deps.audit.close();
    }
  });

  test('without a sandbox, cells are refused with the reason, never silently unsandboxed', async () => {
    const { buildDeps } = await import('../server/deps.ts');
    const { createApp, call, seedOrg } = await import('../testing/fixtures.ts');
    const { loadConfig } = await import('../config/index.ts');
    const { chooseSandbox } = await import('./index.ts');
    const deps = buildDeps(
      loadConfig({ home: t.home, port: 7070 }, {}),
      silentLogger,
      t.store,
      {},
      { provider: null, problem: 'bubblewrap is not installed' },
    );
    const app = createApp(deps);
    try {
      const org = await seedOrg(t.store, 'nosandbox');
      const r = await call(app, 'post', '/api/v1/orgs/nosandbox/cell/start', {
        token: org.people.admin.token,
      });
      assert.equal(r.status, 503);
      assert.equal(r.body.error.code, 'sandbox_unavailable');
      assert.match(r.body.error.message, /bubblewrap is not installed/);
      const unsafe = await chooseSandbox({ unsafeNoSandbox: true }, silentLogger);
      assert.equal(unsafe.provider?.name, 'none', 'only when asked for explicitly');
      const normal = await chooseSandbox({ unsafeNoSandbox: false }, silentLogger);
      assert.equal(normal.provider?.name, 'bubblewrap');
    } finally {
      await deps.audit.close();
    }
  });
});

test('where orgs cannot run as their own users, the sandbox report and the start log say so, and why', async () => {
  const index = fileURLToPath(new URL('./index.ts', import.meta.url));
  const report = [
    `import { bubblewrap, chooseSandbox } from ${JSON.stringify(index)};`,
    'const warned = [];',
    'await chooseSandbox({ unsafeNoSandbox: false }, { warn: (m) => warned.push(m), error: () => {} });',
    'console.log(JSON.stringify({ users: bubblewrap.runsAsOrgUsers, guarantees: bubblewrap.guarantees, warned }));',
  ].join('\n');
  const run = (opts: { uid?: number; env?: NodeJS.ProcessEnv }) => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', report], {
      ...opts,
      cwd: tmpdir(),
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { users: boolean; guarantees: string[]; warned: string[] };
  };
  const cases = [
    [{ uid: 65534, gid: 65534 }, /not enforced here: a host user per org \(Paddock does not run as root/],
    [
      { env: { ...process.env, PADDOCK_CELL_UID_BASE: '60000', PADDOCK_CELL_UID_COUNT: '10000' } },
      /overlaps ids already in use: \/etc\/passwd \(nobody\)/,
    ],
  ] as const;
  for (const [opts, why] of cases) {
    const r = run(opts);
    assert.equal(r.users, false);
    assert.ok(
      r.guarantees.some((g) => why.test(g)),
      r.guarantees.join('\n'),
    );
    assert.ok(
      r.warned.some((w) => why.test(w)),
      `said at start: ${r.warned.join('\n')}`,
    );
  }
  assert.equal(run({}).users, true, 'and as root with the default range, they do');
});
