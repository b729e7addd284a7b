/**
 * The README's tour, run the way a new user runs it: every command of its ```sh blocks, taken
 * from the README itself, in order, through `sh` in a fresh directory against a real `npm start`,
 * each checked against what the README says it shows (its `#` comments). A README command with
 * no check here, or a check whose command or claim changed, fails the test: the two cannot drift.
 *
 * What differs from a person at a terminal, and why:
 * - the server listens on a free port (PORT=0), so `127.0.0.1:7070` in a command becomes that
 *   port and PADDOCK_PUBLIC_URL points the CLI there;
 * - placeholders a person copies from an earlier answer (`con_…`, `agt_…`, `pda_…`, the
 *   verifier key) are replaced by the values those answers gave;
 * - `curl` also writes the HTTP status to stderr (`-w`), and is quiet about progress (`-sS`);
 * - `npm install` has already run (this runs inside `npm test`), and `npm test` is not re-run;
 * - SSO needs an identity provider: its step is checked for its HTTP answer only.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { until } from '../src/testing/until.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface ReadmeCommand {
  /** As written in the README, comments left out (continuation lines kept). */
  text: string;
  /** The README's `#` comments on it: trailing, then the lines right after it. */
  says: string[];
}

/** The shell commands of a Markdown text's ```sh blocks, with what the text says they show. */
function shellCommands(markdown: string): ReadmeCommand[] {
  const out: ReadmeCommand[] = [];
  for (const block of markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    let text = '';
    let says: string[] = [];
    let single = false;
    let double = false;
    for (const line of block[1]!.split('\n')) {
      if (!text && /^\s*#/.test(line)) {
        out.at(-1)?.says.push(line.replace(/^\s*#\s?/, ''));
        continue;
      }
      if (!text && !line.trim()) continue;
      let code = '';
      let comment: string | undefined;
      for (let i = 0; i < line.length; i++) {
        const ch = line[i]!;
        if (ch === '\\' && !single) {
          // An escaped character (or, last on the line, a continuation): kept as written.
          code += ch + (line[i + 1] ?? '');
          i++;
          continue;
        }
        if (single) single = ch !== "'";
        else if (double) double = ch !== '"';
        else if (ch === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
          comment = line.slice(i + 1).trim();
          break;
        } else if (ch === "'") single = true;
        else if (ch === '"') double = true;
        code += ch;
      }
      text += (text ? '\n' : '') + code.trimEnd();
      if (comment) says.push(comment);
      if (single || double || text.endsWith('\\')) continue;
      out.push({ text, says });
      text = '';
      says = [];
    }
  }
  return out;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The HTTP status of the command's (last) curl request. */
  http: number | undefined;
  /** stdout as JSON, or undefined. */
  json: any;
}

/** The tour's state: the server, the directory, the values a person would copy from answers. */
interface Tour {
  dir: string;
  url: string;
  port: number;
  copied: Map<string, string>;
  run(command: string): Promise<Run>;
}

interface Step {
  /** Picks out the README command (in order). */
  command: RegExp;
  /** The README's comments on it, exactly. */
  says: string[];
  /** A shell assignment (`TOKEN=…`): repeated before every later command, as a shell session would. */
  assigns?: true;
  /** Not run, and why. */
  skip?: string;
  /** What the README says it shows. `command`: as written, for a variant of it. */
  check?: (r: Run, tour: Tour, command: string) => void | Promise<void>;
}

const ok = (r: Run, status: number) => {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  assert.equal(r.http, status, `HTTP ${r.http}: ${r.stdout.slice(0, 300)}`);
};

const STEPS: Step[] = [
  {
    command: /^npm install && npm start$/,
    says: ['Paddock on http://127.0.0.1:7070 with embedded defaults'],
    skip: 'npm install has run; the tour starts `npm start` itself before the first command',
  },
  {
    command: /^npm test$/,
    says: ['lint, strict type-check, the whole suite (SQLite and PostgreSQL)'],
    skip: 'this test is part of it',
  },
  {
    command: /paddock -- init --org acme --owner you@acme.test --token-file acme.token --demo$/,
    says: [
      'Created organization "acme" … Added the demo: agent demo-assistant (agt_…), connection demo, two grants.',
    ],
    check: (r, tour) => {
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        new RegExp(
          `^Created organization "acme" \\(org_\\w+\\) with owner you@acme\\.test\\.\\nSign in within 24 hours with this one-time link:\\n  ${tour.url}/signin/link#pdl_`,
        ),
      );
      const demo = /Added the demo: agent demo-assistant \((agt_\w+)\), connection demo, two grants\.\n/.exec(
        r.stdout,
      );
      assert.ok(demo, r.stdout);
      tour.copied.set('agt_…', demo[1]!);
      assertTokenFile(join(tour.dir, 'acme.token'));
      assert.equal(statSync(join(tour.dir, 'acme.token')).mode & 0o777, 0o600);
    },
  },
  { command: /^TOKEN=\$\(cat acme\.token\)$/, says: [], assigns: true },
  {
    command: /orgs\/acme$/,
    says: ['200'],
    check: (r) => {
      ok(r, 200);
      assert.equal(r.json.slug, 'acme');
      assert.equal(r.json.role, 'owner');
    },
  },
  {
    command: /orgs\/other$/,
    says: ['404'],
    check: (r) => {
      ok(r, 404);
      assert.equal(r.json.error.code, 'org_not_found');
    },
  },
  { command: /^B=http:\/\/127\.0\.0\.1:7070\/api\/v1\/orgs\/acme; H=.*; J=/, says: [], assigns: true },
  {
    command:
      /\$B\/agents\/agt_…\/runs -d '\{"message":"Check orders A-1001 and B-2002, and refund 20 on A-1001\."\}'$/,
    says: [
      '→ {"id":"run_…","status":"waiting_approval","waitingFor":[{"approvalId":"apr_…","tool":"demo__refund",…}],…}',
    ],
    check: (r, tour) => {
      ok(r, 200);
      assert.match(r.json.id, /^run_/);
      assert.equal(r.json.status, 'waiting_approval', r.stdout.slice(0, 500));
      assert.equal(r.json.waitingFor[0].tool, 'demo__refund');
      tour.copied.set('run_…', r.json.id);
      tour.copied.set('apr_…', r.json.waitingFor[0].approvalId);
    },
  },
  {
    command: /\$B\/approvals\/apr_…\/approve -d '\{"reason":"ok"\}'$/,
    says: ['the run resumes and the refund runs'],
    check: (r) => {
      ok(r, 200);
      assert.equal(r.json.status, 'approved');
    },
  },
  {
    command: /\$B\/runs\/run_…$/,
    says: [
      '→ {"run":{…,"status":"completed","output":"(Replay) Order A-1001 is shipped; …"},"audit":[…every entry…]}',
    ],
    check: async (r, tour, command) => {
      ok(r, 200);
      // The answer's shape, as the README shows it: the run, and its audit entries beside it.
      assert.ok(r.json.run && Array.isArray(r.json.audit), JSON.stringify(r.json).slice(0, 200));
      // The resumed run ends a moment after the approval: read it again until it has.
      const run = await until(
        async () => {
          const x = (await tour.run(command)).json.run;
          return x.status === 'completed' || x.status === 'failed' ? x : undefined;
        },
        { what: 'the demo run to end' },
      );
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.match(run.output, /^\(Replay\) Order A-1001 is shipped; /);
      const actions = (await tour.run(command)).json.audit.map((e: { action: string }) => e.action);
      for (const a of [
        'run.started',
        'tool.call.allowed',
        'tool.call.denied',
        'approval.requested',
        'run.resumed',
        'run.completed',
      ])
        assert.ok(actions.includes(a), `${a} in ${actions.join(', ')}`);
    },
  },
  {
    command: /"email":"sam@acme\.test","role":"member".*\/invitations$/s,
    says: [],
    check: (r) => {
      ok(r, 201);
      assert.match(JSON.stringify(r.json), /#pdi_/, 'the link is shown once, here');
    },
  },
  {
    command: /paddock -- token create --org acme --role auditor --name "2026 audit" > auditor\.token$/,
    says: [],
    check: (r, tour) => {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '', 'everything went to the file');
      assertTokenFile(join(tour.dir, 'auditor.token'));
    },
  },
  {
    command: /Bearer \$\(cat auditor\.token\)".*\/orgs\/acme\/audit$/,
    says: [],
    check: (r) => {
      ok(r, 200);
      const actions = r.json.events.map((e: any) => e.action);
      for (const a of ['org.created', 'token.created', 'invitation.created'])
        assert.ok(actions.includes(a), `${a} in ${actions.join()}`);
    },
  },
  {
    command: /-X PUT .*"issuer":"https:\/\/idp\.example\.com".*\/orgs\/acme\/sso$/s,
    says: [],
    check: (r) => {
      // No identity provider here: what can be checked is the API's answer to the request.
      ok(r, 200);
      assert.equal(r.json.issuer, 'https://idp.example.com');
      assert.equal(r.json.clientId, 'paddock');
      assert.ok(!('clientSecret' in r.json), 'the client secret is not echoed');
    },
  },
  {
    command: /\/audit\/checkpoint$/,
    says: [],
    check: (r) => {
      ok(r, 200);
      assert.ok(r.json.treeSize > 0, r.stdout);
      assert.match(r.json.checkpoint, /\n— /, 'a signed note');
    },
  },
  {
    command: /\/audit\/proof\?index=0"$/,
    says: [],
    check: (r) => ok(r, 200),
  },
  {
    command: /paddock -- audit verify$/,
    says: ['every entry, node and signed checkpoint'],
    check: (r) => {
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /audit log acme \(\w+\): OK — \d+ entries, \d+ signed checkpoints verified/);
      assert.doesNotMatch(r.stdout, /FAILED/);
    },
  },
  {
    command: /paddock -- audit export --org acme --out acme\.jsonl$/,
    says: ['+ acme.jsonl.proof'],
    check: (r, tour) => {
      assert.equal(r.code, 0, r.stderr);
      assert.ok(readFileSync(join(tour.dir, 'acme.jsonl'), 'utf8').length > 0);
      assert.ok(existsSync(join(tour.dir, 'acme.jsonl.proof')));
    },
  },
  {
    command: /paddock -- audit verify --export acme\.jsonl --key "<verifierKey from \/audit\/key>"$/,
    says: [],
    check: (r) => {
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /OK/);
    },
  },
  {
    command: /paddock -- cells start --org acme --token-file acme\.token$/,
    says: [
      'ORG   STATE  SANDBOX     PID    UPTIME  RESTARTS  MEMORY',
      'acme  ready  bubblewrap  12345  52s     0         -       (the demo run in step 3 started it already)',
    ],
    check: (r) => {
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const [head, row] = r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/));
      assert.deepEqual(head, ['ORG', 'STATE', 'SANDBOX', 'PID', 'UPTIME', 'RESTARTS', 'MEMORY']);
      assert.deepEqual(row!.slice(0, 3), ['acme', 'ready', 'bubblewrap']);
      assert.match(row![3]!, /^\d+$/);
    },
  },
  {
    command: /\$B\/connections -d '\{"name":"everything","transport":"stdio"/,
    says: ['→ con_…'],
    check: (r, tour) => {
      ok(r, 201);
      assert.match(r.json.id, /^con_/);
      tour.copied.set('con_…', r.json.id);
    },
  },
  {
    command: /-X POST .*\$B\/connections\/con_…\/tools\/refresh$/,
    says: ['its tools'],
    check: (r) => {
      ok(r, 200);
      assert.ok(
        r.json.tools.some((t: any) => t.name === 'echo'),
        r.stdout.slice(0, 300),
      );
    },
  },
  {
    command: /\$B\/agents -d '\{"name":"triage"/,
    says: ['→ agt_…'],
    check: (r, tour) => {
      ok(r, 201);
      assert.match(r.json.id, /^agt_/);
      tour.copied.set('agt_…', r.json.id);
    },
  },
  {
    command: /\$B\/agents\/agt_…\/calls -d .*"message":"status: ok"/,
    says: ['→ 403 tool_denied: default deny'],
    check: (r) => {
      ok(r, 403);
      assert.equal(r.json.error.code, 'tool_denied');
    },
  },
  {
    command: /\$B\/agents\/agt_…\/grants -d .*"prefix":"status:"/s,
    says: [],
    check: (r) => ok(r, 201),
  },
  {
    command: /\$B\/agents\/agt_…\/calls -d .*"message":"status: ok"/,
    says: ['→ {"content":[{"type":"text","text":"Echo: status: ok"}],…}; with "message":"rm -rf /" → 403'],
    check: async (r, tour, command) => {
      ok(r, 200);
      assert.deepEqual(r.json.content, [{ type: 'text', text: 'Echo: status: ok' }]);
      const refused = await tour.run(command.replace('status: ok', 'rm -rf /'));
      ok(refused, 403);
    },
  },
  {
    command: /\$B\/agents\/agt_…\/tokens -d '\{"name":"laptop"\}'$/,
    says: ['→ {"token":"pda_…"} (shown once)'],
    check: (r, tour) => {
      ok(r, 201);
      assert.match(r.json.token, /^pda_/);
      tour.copied.set('pda_…', r.json.token);
    },
  },
  {
    command: /Bearer pda_….*\/mcp\/acme -d '\{"jsonrpc":"2\.0","id":1,"method":"tools\/list"\}'$/s,
    says: ['→ {"result":{"tools":[{"name":"everything__echo",…}]},…}'],
    check: (r) => {
      ok(r, 200);
      assert.deepEqual(
        r.json.result.tools.map((t: any) => t.name),
        ['everything__echo'],
      );
    },
  },
  {
    command: /paddock -- agents stop --org acme --agent triage --token-file acme\.token$/,
    says: ['one agent'],
    check: (r) => {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^triage \(agt_\w+\): stopped\n$/);
    },
  },
  {
    command: /paddock -- agents stop --org acme --all --token-file acme\.token$/,
    says: ['every agent of acme'],
    check: (r) => {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^acme: every agent stopped at \S+\n$/);
    },
  },
  {
    command: /paddock -- agents resume --org acme --all --token-file acme\.token$/,
    says: [
      'acme: agents may run again, except 1 stopped one by one, which stay stopped (resume each with --agent): triage',
    ],
    check: (r) => {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${STEPS.at(-1)!.says[0]}\n`);
    },
  },
];

/** A file holding exactly one line, and that line a Paddock API token. */
function assertTokenFile(path: string): void {
  const text = readFileSync(path, 'utf8');
  assert.match(
    text,
    /^pdk_[A-Za-z0-9_-]{20,}\n?$/,
    `not one token line: ${JSON.stringify(text.slice(0, 200))}`,
  );
}

describe('the README tour, as written', () => {
  const commands = shellCommands(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  let dir: string;
  let server: ChildProcess | undefined;
  let serverOut = '';
  let tour: Tour;
  const assignments: string[] = [];

  before(async () => {
    // A new user's directory: the checkout's package, launcher and installed modules, nothing
    // else, so files the tour writes (acme.token, .paddock/, …) land here, not in the checkout.
    dir = mkdtempSync(join(tmpdir(), 'paddock-tour-'));
    for (const f of ['package.json', 'bin', 'node_modules']) symlinkSync(join(ROOT, f), join(dir, f));
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
    for (const v of ['PADDOCK_HOME', 'DATABASE_URL', 'PADDOCK_TOKEN', 'PADDOCK_PUBLIC_URL', 'HOST'])
      delete env[v];
    server = spawn('npm', ['start'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    server.stdout!.on('data', (d) => (serverOut += String(d)));
    server.stderr!.on('data', (d) => (serverOut += String(d)));
    // Its whole start-up message: with no organization yet, it ends offering `paddock init`.
    await until(() => /or run: .* init /.test(serverOut) || server!.exitCode !== null, {
      what: 'npm start to print its start-up message',
      timeoutMs: 60_000,
    });
    const port = Number(/is running at http:\/\/127\.0\.0\.1:(\d+)/.exec(serverOut)?.[1]);
    assert.ok(port, `npm start did not start: ${serverOut}`);
    const url = `http://127.0.0.1:${port}`;
    const commandEnv = { ...env, PORT: String(port), PADDOCK_PUBLIC_URL: url };
    const copied = new Map<string, string>();
    tour = {
      dir,
      url,
      port,
      copied,
      run: (command) => {
        let text = command.replaceAll('127.0.0.1:7070', `127.0.0.1:${port}`);
        for (const [placeholder, value] of copied) text = text.replaceAll(placeholder, value);
        assert.ok(!/…\/|_…/.test(text.replace(/"…"/g, '')), `a placeholder has no value yet: ${text}`);
        const prelude = [
          // The status of each request, on stderr, for the checks; the body stays on stdout.
          `curl() { command curl -sS -w '%{stderr}HTTP %{http_code}\\n' "$@"; }`,
          ...assignments,
        ].join('\n');
        return new Promise<Run>((resolve, reject) => {
          const p = spawn('sh', ['-c', `${prelude}\n${text}`], { cwd: dir, env: commandEnv });
          let stdout = '';
          let stderr = '';
          p.stdout.on('data', (d) => (stdout += String(d)));
          p.stderr.on('data', (d) => (stderr += String(d)));
          p.once('error', reject);
          p.once('close', (code) => {
            const statuses = [...stderr.matchAll(/^HTTP (\d{3})$/gm)].map((m) => Number(m[1]));
            let json: unknown;
            try {
              json = JSON.parse(stdout);
            } catch {}
            resolve({ code, stdout, stderr, http: statuses.at(-1), json });
          });
        });
      },
    };
  });

  after(async () => {
    if (server?.pid) {
      server.kill('SIGTERM');
      await until(() => server!.exitCode !== null || server!.signalCode !== null, {
        what: 'npm start to stop',
        timeoutMs: 20_000,
      }).catch(() => undefined);
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {}
      server.stdout?.destroy();
      server.stderr?.destroy();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('every README command has a check here, in order, with the README’s claims', () => {
    assert.equal(commands.length, STEPS.length, commands.map((c) => c.text.split('\n')[0]).join('\n'));
    STEPS.forEach((step, i) => {
      const c = commands[i]!;
      assert.match(c.text, step.command, `README command ${i + 1} is not the one checked here`);
      assert.deepEqual(c.says, step.says, `what the README says about: ${c.text}`);
    });
  });

  test('npm start: runs, and with no organization yet leaves a one-time setup link for its owner', () => {
    assert.match(serverOut, new RegExp(`Paddock \\S+ is running at ${tour.url}\\n`));
    assert.match(serverOut, /cells: {5}bubblewrap sandbox/);
    assert.match(serverOut, /or run: {2}npm run -s paddock -- init --org <slug> --owner <email>/);
    const link = join(dir, '.paddock', 'setup-link.txt');
    assert.match(readFileSync(link, 'utf8'), new RegExp(`^${tour.url}/setup#pdl_\\S+\\n$`));
    assert.equal(statSync(link).mode & 0o777, 0o600);
  });

  STEPS.forEach((step, i) => {
    const name = `${i + 1}. ${(commands[i]?.text ?? step.command.source).split('\n')[0]!.slice(0, 100)}`;
    test(name, { skip: step.skip ?? false }, async () => {
      const c = commands[i];
      assert.ok(c && step.command.test(c.text), 'the README has changed: see the first test');
      if (step.command.source.includes('verifierKey')) {
        // What a person copies from GET /audit/key, as the README says.
        const key = await fetch(`${tour.url}/api/v1/orgs/acme/audit/key`, {
          headers: { authorization: `Bearer ${readFileSync(join(dir, 'acme.token'), 'utf8').trim()}` },
        });
        tour.copied.set('<verifierKey from /audit/key>', ((await key.json()) as any).verifierKey);
      }
      if (step.assigns) {
        assignments.push(c.text.replaceAll('127.0.0.1:7070', `127.0.0.1:${tour.port}`));
        const r = await tour.run(c.text);
        assert.equal(r.code, 0, r.stderr);
        return;
      }
      const r = await tour.run(c.text);
      await step.check!(r, tour, c.text);
    });
  });
});
