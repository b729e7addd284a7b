/**
 * The `paddock` command as a user runs it: a real process on a real data directory (and on
 * PostgreSQL), then the README's curl check against a real `paddock up`.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { forgetSpentSetupLink, issueSetupSecret } from '../identity/index.ts';
import { silentLogger } from '../log/index.ts';
import { recentRuns, Scheduler } from '../scheduler/index.ts';
import { beginRun, finishRun } from '../scheduler/runs.ts';
import { PLATFORM_JOBS } from '../server/deps.ts';
import { type FakeSlack, startFakeSlack } from '../testing/fake-slack.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';

const BIN = fileURLToPath(new URL('../../bin/paddock.js', import.meta.url));

/** Runs the CLI without blocking this process (its HTTP connections to a server stay serviced). */
function paddock(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += String(d)));
    p.stderr.on('data', (d) => (stderr += String(d)));
    p.once('error', reject);
    p.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function waitForUp(proc: ChildProcess): Promise<string> {
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`paddock up did not start: ${out}`)), 20_000);
    proc.stdout!.on('data', (d) => {
      out += String(d);
      const m = /is running at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code) => reject(new Error(`paddock up exited ${code}: ${out}`)));
  });
}

test('--help lists every command, and each command has its own help', async () => {
  const top = await paddock(['--help'], {});
  assert.equal(top.code, 0);
  // Every setting Paddock reads from its environment is named there (tests' own excepted).
  const read = new Set(
    execFileSync('git', ['grep', '-hoE', 'env\\.(PADDOCK|OTEL)_[A-Z_]+', '--', 'src', ':!*.test.ts'], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean)
      .map((m) => m.slice(4)),
  );
  read.delete('PADDOCK_TEST_DATABASE_URL');
  for (const name of read)
    if (!name.startsWith('OTEL_')) assert.match(top.stdout, new RegExp(`\\b${name}\\b`), `${name} in --help`);
  assert.match(top.stdout, /OTEL_EXPORTER_OTLP_ENDPOINT and the other OTEL_\* settings/);
  for (const cmd of [
    'up',
    'init',
    'token',
    'audit',
    'evidence',
    'vault',
    'cells',
    'agents',
    'slack',
    'jobs',
    'migrate',
  ]) {
    assert.match(top.stdout, new RegExp(`\\n  ${cmd}\\s`));
    const own = await paddock([cmd, '--help'], {});
    assert.equal(own.code, 0, own.stderr);
    assert.match(own.stdout, new RegExp(`paddock ${cmd}`));
  }
});

test('paddock servers catalog: each entry, what it needs and whether it can be added here, offline', async () => {
  const home = mkdtempSync(join(tmpdir(), 'paddock-cli-'));
  try {
    const r = await paddock(['servers', 'catalog'], {
      PADDOCK_HOME: home,
      PADDOCK_SERVER_PACKAGES: '@modelcontextprotocol/*',
    });
    assert.equal(r.code, 0, r.stderr);
    const rows = new Map(
      r.stdout
        .trim()
        .split('\n')
        .slice(2)
        .map((l) => [l.split('\t')[0]!, l.split('\t')]),
    );
    assert.equal(rows.get('everything')?.[4], 'allowed');
    assert.equal(rows.get('notion')?.[4], 'not on PADDOCK_SERVER_PACKAGES');
    assert.equal(rows.get('sentry')?.[4], 'OAuth sign-in (Connect once added)');
    assert.match(
      rows.get('github')?.[2] ?? '',
      /OAuth sign-in or header Authorization ← vault "github-token"/,
    );
    assert.doesNotMatch(r.stdout, /not yet/, 'remote OAuth is built: no entry says it is missing');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('bad usage exits 2 with a clear message', async () => {
  const home = mkdtempSync(join(tmpdir(), 'paddock-cli-'));
  try {
    const unknown = await paddock(['frobnicate'], { PADDOCK_HOME: home });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown command "frobnicate"/);
    const missing = await paddock(['init', '--org', 'acme'], { PADDOCK_HOME: home });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--owner is required/);
    const badSlug = await paddock(['init', '--org', 'Not A Slug', '--owner', 'a@b.test'], {
      PADDOCK_HOME: home,
    });
    assert.equal(badSlug.code, 2);
    assert.match(badSlug.stderr, /slug/);
    const badRole = await paddock(['token', 'create', '--org', 'acme', '--role', 'king'], {
      PADDOCK_HOME: home,
    });
    assert.equal(badRole.code, 2);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

for (const kind of STORE_KINDS) {
  describe(`paddock init, token and up [${kind}]`, () => {
    let t: TestStore | undefined;
    let server: ChildProcess | undefined;
    /** The running server the first test started, for the Slack commands' own test. */
    let live:
      | { url: string; tokenFile: string; env: Record<string, string>; agentId: string; home: string }
      | undefined;
    let fakeSlack: FakeSlack | undefined;
    after(async () => {
      await fakeSlack?.close();
      server?.kill('SIGTERM');
      await t?.cleanup();
    });

    test('init → token file → curl /api/v1/orgs/acme answers 200, /orgs/other 404', async () => {
      t = await openTestStore(kind);
      const env = { PADDOCK_HOME: t.home, DATABASE_URL: t.databaseUrl ?? '' };
      const tokenFile = join(t.home, 't');
      // A server started before any org left its setup link on disk: spent once init made one.
      const issued = await issueSetupSecret(t.store.db);
      writeFileSync(join(t.home, 'setup-link.txt'), `http://127.0.0.1:7070/setup#${issued}\n`, {
        mode: 0o600,
      });
      const init = await paddock(
        ['init', '--org', 'acme', '--owner', 'a@acme.test', '--token-file', tokenFile],
        env,
      );
      assert.equal(init.code, 0, init.stderr);
      assert.equal(existsSync(join(t.home, 'setup-link.txt')), false, 'the spent setup link is removed');
      // One another database issued (a server on PostgreSQL, this init on SQLite) is not this init's.
      writeFileSync(join(t.home, 'setup-link.txt'), 'http://127.0.0.1:7070/setup#pdl_elsewhere\n');
      await forgetSpentSetupLink(t.store.db, t.home);
      assert.equal(existsSync(join(t.home, 'setup-link.txt')), true, 'another database’s link stays');
      rmSync(join(t.home, 'setup-link.txt'));
      assert.match(init.stdout, /one-time link:\n {2}http:\/\/127\.0\.0\.1:7070\/signin\/link#pdl_/);
      assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
      const token = readFileSync(tokenFile, 'utf8').trim();
      assert.match(token, /^pdk_/);
      assert.ok(!init.stdout.includes(token), 'the token goes to the file only');

      const again = await paddock(['init', '--org', 'acme', '--owner', 'b@acme.test'], env);
      assert.equal(again.code, 2);
      assert.match(
        again.stderr,
        /already exists\. Choose another --org, or make yourself a token for it: npm run -s paddock -- token create --org acme --for <your email> > acme\.token\n$/,
      );

      const made = await paddock(
        ['token', 'create', '--org', 'acme', '--role', 'auditor', '--name', 'evidence'],
        env,
      );
      assert.equal(made.code, 0, made.stderr);
      const auditorToken = made.stdout.trim();
      assert.match(auditorToken, /^pdk_/);
      const list = await paddock(['token', 'list', '--org', 'acme'], env);
      assert.match(list.stdout, /auditor\tactive/);
      assert.ok(!list.stdout.includes(auditorToken));

      fakeSlack = await startFakeSlack();
      server = spawn(process.execPath, [BIN, 'up', '--port', '0'], {
        env: { ...process.env, ...env, PADDOCK_LOG_LEVEL: 'warn', PADDOCK_SLACK_API_URL: fakeSlack.url },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const url = await waitForUp(server);
      const auth = { authorization: `Bearer ${token}` };
      const own = await fetch(`${url}/api/v1/orgs/acme`, { headers: auth });
      assert.equal(own.status, 200);
      assert.equal(((await own.json()) as any).role, 'owner');
      const other = await fetch(`${url}/api/v1/orgs/other`, { headers: auth });
      assert.equal(other.status, 404);
      const ready = await fetch(`${url}/readyz`);
      assert.deepEqual(await ready.json(), { status: 'ready', store: kind });
      const auditorCan = await fetch(`${url}/api/v1/orgs/acme/audit`, {
        headers: { authorization: `Bearer ${auditorToken}` },
      });
      assert.equal(auditorCan.status, 200);
      const events = ((await auditorCan.json()) as any).events.map((e: any) => e.action);
      assert.ok(events.includes('org.created') && events.includes('token.created'), events.join());

      const cellsCli = await paddock(
        ['cells', 'restart', '--org', 'acme', '--url', url, '--token-file', tokenFile],
        env,
      );
      assert.equal(cellsCli.code, 0, cellsCli.stderr);
      assert.match(cellsCli.stdout, /acme\tready\tbubblewrap\t\d+/);
      const auditorCells = await paddock(['cells', 'stop', '--org', 'acme', '--url', url], {
        ...env,
        PADDOCK_TOKEN: auditorToken,
      });
      assert.equal(auditorCells.code, 2);
      assert.match(auditorCells.stderr, /does not allow cells\.manage/);

      // The kill switch from the command line: one agent, then the whole org.
      const newAgent = await fetch(`${url}/api/v1/orgs/acme/agents`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'cli-agent',
          scope: 'organization',
          instructions: 'x',
          model: { provider: 'openai', model: 'gpt-5' },
        }),
      });
      assert.equal(newAgent.status, 201);
      const newAgentId = ((await newAgent.json()) as any).id;
      const agentsCli = async (args: string[]) =>
        paddock(['agents', ...args, '--org', 'acme', '--url', url, '--token-file', tokenFile], env);
      const stopOne = await agentsCli(['stop', '--agent', 'cli-agent']);
      assert.equal(stopOne.code, 0, stopOne.stderr);
      assert.match(stopOne.stdout, /cli-agent \(agt_\w+\): stopped/);
      assert.match((await agentsCli(['list'])).stdout, /cli-agent\tstopped/);
      assert.match((await agentsCli(['stop', '--all'])).stdout, /acme: every agent stopped at/);
      const org = (await (await fetch(`${url}/api/v1/orgs/acme`, { headers: auth })).json()) as any;
      assert.ok(org.agentsStoppedAt);
      // The list says so: no agent reads as if it could run.
      const whileStopped = (await agentsCli(['list'])).stdout;
      assert.match(whileStopped, /cli-agent\tstopped\t/);
      assert.doesNotMatch(whileStopped, /\tactive\t/);
      assert.match(
        whileStopped,
        /^Every agent of acme is stopped \(since .+\)\. To resume them: npm run -s paddock -- agents resume --all --org acme$/m,
      );
      // An agent stopped on its own stays stopped after resume --all, and the answer names it.
      const resumed = await agentsCli(['resume', '--all']);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(
        resumed.stdout,
        /^acme: agents may run again, except 1 stopped one by one, which stay stopped \(resume each with --agent\): cli-agent\n$/,
      );
      assert.match((await agentsCli(['list'])).stdout, /cli-agent\tstopped/);
      const api = (await (
        await fetch(`${url}/api/v1/orgs/acme/resume`, { method: 'POST', headers: auth })
      ).json()) as any;
      assert.deepEqual(api.agentsStillStopped, [{ id: newAgentId, name: 'cli-agent' }]);
      assert.match(
        (await agentsCli(['resume', '--agent', 'cli-agent'])).stdout,
        /cli-agent \(agt_\w+\): active/,
      );
      assert.equal((await agentsCli(['resume', '--all'])).stdout, 'acme: agents may run again\n');
      assert.match((await agentsCli(['stop', '--agent', 'nobody'])).stderr, /No agent "nobody"/);

      live = { url, tokenFile, env, agentId: newAgentId, home: t.home };

      const id = /^(tok_\w+)\tauditor/m.exec(list.stdout)![1]!;
      assert.equal((await paddock(['token', 'revoke', '--org', 'acme', '--id', id], env)).code, 0);
      const revoked = await fetch(`${url}/api/v1/orgs/acme/audit`, {
        headers: { authorization: `Bearer ${auditorToken}` },
      });
      assert.equal(revoked.status, 401);
    });

    test('paddock servers add: a catalog entry added through the running server; an unknown secret name, a malformed --secret and a refused package change nothing', async () => {
      assert.ok(live, 'the server test ran first');
      const { url, tokenFile, env } = live;
      const add = (args: string[]) =>
        paddock(['servers', 'add', ...args, '--org', 'acme', '--url', url, '--token-file', tokenFile], env);
      const auth = { authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` };
      const org = async () =>
        (await (await fetch(`${url}/api/v1/orgs/acme`, { headers: auth })).json()) as any;
      const signIn = await add(['sentry', '--name', 'sentry-cli', '--allow-egress']);
      assert.equal(signIn.code, 0, signIn.stderr);
      assert.match(signIn.stdout, /^Added sentry-cli \(con_\w+\) from the catalog entry sentry\./);
      assert.match(signIn.stdout, /sign in: {2}OAuth: press Connect on its row/);
      assert.doesNotMatch(signIn.stdout, /egress/, 'its only host is its own: nothing to allow');
      const before = (await org()).settings.egressAllowlist;
      const unknown = await add(['notion', '--secret', 'NOTION_TOKEN=no-such-secret', '--allow-egress']);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /No secret named "no-such-secret" in acme \(for NOTION_TOKEN\)/);
      const malformed = await add(['notion', '--secret', 'NOTION_TOKEN']);
      assert.equal(malformed.code, 2);
      assert.match(malformed.stderr, /--secret takes FIELD=SECRET/);
      const refused = await add(['notion', '--allow-egress']);
      assert.equal(refused.code, 2);
      assert.match(
        refused.stderr,
        /No package may be installed here: the operator has not set PADDOCK_SERVER_PACKAGES/,
      );
      assert.deepEqual((await org()).settings.egressAllowlist, before, 'nothing allowed by a refusal');
      const conns = (await (
        await fetch(`${url}/api/v1/orgs/acme/connections`, { headers: auth })
      ).json()) as any;
      assert.deepEqual(
        conns.connections.map((c: any) => c.name).filter((n: string) => /sentry|notion/.test(n)),
        ['sentry-cli'],
      );
    });

    test('paddock slack: install with secrets from files (never argv), bind, unbind, uninstall', async () => {
      assert.ok(live && fakeSlack, 'the server test ran first');
      const { url, tokenFile, env, agentId } = live;
      const slack = fakeSlack;
      const slackCli = (args: string[]) =>
        paddock(['slack', ...args, '--org', 'acme', '--url', url, '--token-file', tokenFile], env);
      const secretFile = join(live.home, 'slack-signing');
      const botFile = join(live.home, 'slack-bot');
      writeFileSync(secretFile, slack.signingSecret);
      writeFileSync(botFile, 'xoxb-0000000000-not-the-right-one');
      const wrong = await slackCli([
        'install',
        '--signing-secret-file',
        secretFile,
        '--bot-token-file',
        botFile,
      ]);
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /Slack did not accept the bot token/);
      writeFileSync(botFile, slack.botToken);
      const installed = await slackCli([
        'install',
        '--signing-secret-file',
        secretFile,
        '--bot-token-file',
        botFile,
        '--approvals-channel',
        'C0APPROVE1',
      ]);
      assert.equal(installed.code, 0, installed.stderr);
      assert.match(
        installed.stdout,
        /Slack workspace T0PADDOCK1\nevents URL\thttp:\/\/.*\/slack\/acme\/events\napprovals\tC0APPROVE1/,
      );
      assert.ok(
        !installed.stdout.includes(slack.botToken) && !installed.stdout.includes(slack.signingSecret),
      );
      const bound = await slackCli(['bind', '--channel', 'C0GENERAL1', '--agent', 'cli-agent']);
      assert.equal(bound.code, 0, bound.stderr);
      assert.match(bound.stdout, new RegExp(`C0GENERAL1\t${agentId}`));
      assert.doesNotMatch((await slackCli(['unbind', '--channel', 'C0GENERAL1'])).stdout, /C0GENERAL1/);
      // Socket Mode: the app-level token from the environment; --socket-mode without one is refused here.
      const args = ['slack', 'install', '--signing-secret-file', secretFile, '--bot-token-file', botFile];
      const common = ['--socket-mode', '--org', 'acme', '--url', url, '--token-file', tokenFile];
      const missing = await paddock([...args, ...common], env);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--app-token-file or PADDOCK_SLACK_APP_TOKEN/);
      const socket = await paddock([...args, ...common], { ...env, PADDOCK_SLACK_APP_TOKEN: slack.appToken });
      assert.equal(socket.code, 0, socket.stderr);
      assert.match(socket.stdout, /Slack workspace T0PADDOCK1\nevents\tover Socket Mode\n/);
      assert.ok(!socket.stdout.includes(slack.appToken) && !socket.stderr.includes(slack.appToken));
      await until(() => (slack.sockets.size === 1 ? true : undefined), { what: 'the server’s connection' });
      assert.match((await slackCli(['uninstall'])).stdout, /acme: Slack uninstalled/);
      await until(() => (slack.sockets.size === 0 ? true : undefined), { what: 'the connection closed' });
    });
  });
}

for (const kind of STORE_KINDS) {
  test(`paddock jobs lists each job with its interval and last run, and one job's runs [${kind}]`, async () => {
    const t = await openTestStore(kind);
    try {
      const env = { PADDOCK_HOME: t.home, DATABASE_URL: t.databaseUrl ?? '' };
      const before = await paddock(['jobs'], env);
      assert.equal(before.code, 0, before.stderr);
      assert.match(before.stdout, /^JOB\tEVERY\tLAST RUN\tOUTCOME/);
      assert.match(before.stdout, /\naudit\.retention\t1h\tnever\t/);

      // The platform's own jobs, as a server runs them, but without the start delay.
      const scheduler = new Scheduler({
        store: t.store,
        databaseUrl: t.databaseUrl,
        jobs: PLATFORM_JOBS,
        log: silentLogger,
        replica: 'cli-test',
        firstRunAfterMs: 0,
        jitterMs: 0,
      });
      scheduler.start();
      await until(
        async () => (await recentRuns(t.store.db, 'audit.retention', 1))[0]?.outcome === 'succeeded',
        {
          what: 'the retention job to run',
        },
      );
      await scheduler.close();
      const ran = await paddock(['jobs'], env);
      assert.equal(ran.code, 0, ran.stderr);
      const [, started] = /\naudit\.retention\t1h\t(\S+)\tsucceeded\t\d+ms\tcli-test\terased=0\t(\S+)\n/.exec(
        ran.stdout,
      )!;
      assert.ok(started, ran.stdout);

      // A failed run shows its error, and the last success stays the earlier run.
      const seq = await beginRun(t.store.db, 'audit.retention', 'other#2', new Date().toISOString());
      await finishRun(t.store.db, seq, {
        outcome: 'failed',
        endedAt: new Date().toISOString(),
        error: 'boom',
      });
      const failed = await paddock(['jobs'], env);
      assert.match(
        failed.stdout,
        new RegExp(`\\naudit\\.retention\\t1h\\t\\S+\\tfailed\\t\\d+ms\\tother#2\\tboom\\t${started}\\n`),
      );
      const history = await paddock(['jobs', '--job', 'audit.retention'], env);
      assert.equal(history.code, 0, history.stderr);
      assert.deepEqual(
        history.stdout
          .trim()
          .split('\n')
          .map((l) =>
            l
              .split('\t')
              .slice(1, 5)
              .filter((_, i) => i !== 1),
          ),
        [
          ['OUTCOME', 'REPLICA', 'RESULT'],
          ['failed', 'other#2', 'boom'],
          ['succeeded', 'cli-test', 'erased=0'],
        ],
      );
      const unknown = await paddock(['jobs', '--job', 'nope'], env);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /No job "nope"\. Jobs: audit\.retention/);
    } finally {
      await t.cleanup();
    }
  });
}

test('first start with no organization offers the setup link, kept out of non-terminal output', async () => {
  const home = mkdtempSync(join(tmpdir(), 'paddock-first-'));
  const proc = spawn(process.execPath, [BIN, 'up', '--port', '0', '--home', home], {
    env: { ...process.env, PADDOCK_LOG_LEVEL: 'warn', DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += String(d);
    });
    const url = await waitForUp(proc);
    // The setup offer ends with the `init` line: once it is there, everything was printed.
    await until(() => /npm run -s paddock -- init --org/.test(out), { what: 'the setup offer on stdout' });
    assert.match(out, /no organization yet/);
    assert.ok(!out.includes('pdl_'), 'stdout is not a terminal here: the secret must not be printed');
    const link = readFileSync(join(home, 'setup-link.txt'), 'utf8');
    assert.match(link, /\/setup#pdl_/);
    assert.equal(statSync(join(home, 'setup-link.txt')).mode & 0o777, 0o600);
    // Used, the link is spent, and not left on disk.
    const setup = await fetch(`${url}/api/v1/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        secret: link.trim().split('#')[1],
        org: { slug: 'first', name: 'First' },
        owner: { email: 'owner@first.test', name: 'Owner', password: 'a long enough passphrase 1' },
      }),
    });
    assert.equal(setup.status, 201, await setup.text());
    assert.equal(existsSync(join(home, 'setup-link.txt')), false);
    // The first sign-in is on record, as every sign-in is.
    const cookie = (setup.headers.get('set-cookie') ?? '').split(';')[0]!;
    const signedIn = await fetch(`${url}/api/v1/orgs/first/audit?action=person.signed_in`, {
      headers: { cookie },
    });
    const events = ((await signedIn.json()) as { events: Array<{ details: { method: string } }> }).events;
    assert.deepEqual(
      events.map((e) => e.details.method),
      ['setup'],
    );
  } finally {
    proc.kill('SIGTERM');
    rmSync(home, { recursive: true, force: true });
  }
});

test('one server per SQLite data folder: a second is refused in one line; killed, the first lets go of it', async () => {
  const home = mkdtempSync(join(tmpdir(), 'paddock-owner-'));
  const start = () =>
    spawn(process.execPath, [BIN, 'up', '--port', '0', '--home', home], {
      env: { ...process.env, PADDOCK_LOG_LEVEL: 'warn', DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const first = start();
  let again: ReturnType<typeof start> | undefined;
  try {
    await waitForUp(first);
    const second = await paddock(['up', '--port', '0', '--home', home], { DATABASE_URL: '' });
    assert.notEqual(second.code, 0);
    assert.equal(
      second.stderr,
      `paddock: Another Paddock server is running on the data folder ${home}: on SQLite one server owns the database. Stop that one first, or run several replicas on PostgreSQL (PADDOCK_DATABASE_URL).\n`,
    );
    // However it ends, the folder is free again: no stale lock to remove by hand.
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    again = start();
    await waitForUp(again);
  } finally {
    first.kill('SIGKILL');
    again?.kill('SIGTERM');
    rmSync(home, { recursive: true, force: true });
  }
});

test('a taken port is one line naming it and how to choose another, and a non-zero exit', async () => {
  const home = mkdtempSync(join(tmpdir(), 'paddock-port-'));
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const port = (taken.address() as AddressInfo).port;
  try {
    for (const [args, env] of [
      [['up', '--port', String(port)], {}],
      [['up'], { PORT: String(port) }],
    ] as const) {
      const r = await paddock([...args], { ...env, PADDOCK_HOME: home, DATABASE_URL: '' });
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      assert.equal(
        r.stderr,
        `paddock: port ${port} on 127.0.0.1 is already in use; choose another with \`PORT=${port + 1} npm start\` or \`npm start -- --port ${port + 1}\`.\n`,
      );
    }
  } finally {
    taken.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test('paddock vault rotate-kek replaces the master key and every secret still opens', async () => {
  const t = await openTestStore('sqlite');
  try {
    const { initOrg, operatorCaller } = await import('../identity/index.ts');
    const { localKeyring, Vault } = await import('../vault/index.ts');
    const org = (await initOrg(t.store.db, operatorCaller(), { slug: 'acme', ownerEmail: 'o@acme.test' }))
      .org;
    const vault = new Vault(localKeyring(t.home, {}));
    const ref = { orgId: org.id, secretId: 'sec_x', version: 1 };
    const sealed = await vault.seal(t.store.db, ref, 'model-key-value-123');
    const before = readFileSync(join(t.home, 'master.key'), 'utf8');
    const r = await paddock(['vault', 'rotate-kek'], { PADDOCK_HOME: t.home, DATABASE_URL: '' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Re-wrapped 1 data key/);
    const after = readFileSync(join(t.home, 'master.key'), 'utf8');
    assert.notEqual(after, before);
    assert.equal(after.trim().split('\n').length, 1, 'the old key is gone once nothing needs it');
    assert.equal(statSync(join(t.home, 'master.key')).mode & 0o777, 0o600);
    assert.equal(
      await new Vault(localKeyring(t.home, {})).open(t.store.db, ref, sealed),
      'model-key-value-123',
    );
  } finally {
    await t.cleanup();
  }
});
