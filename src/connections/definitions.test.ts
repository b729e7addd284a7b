/**
 * Tool definitions across the changes of digest formula — to scrubbing (v2) and to whole
 * definitions (v3): grants pinned under an older formula survive, re-pinned on record, unless
 * their tool really changed; definitions stored before scrubbing are re-scrubbed by the data
 * migration; listing tools gives a server only org-wide secrets unless an admin names an agent,
 * and says so on record. Against the hostile fixture server in the real sandbox.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import canonicalize from 'canonicalize';
import { bubblewrap } from '../cells/index.ts';
import { loadConfig } from '../config/index.ts';
import { silentLogger } from '../log/index.ts';
import { buildDeps } from '../server/deps.ts';
import { call, createApp, type SeededOrg, seedOrg } from '../testing/fixtures.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { type ToolDefinition, toolDigest, vetDefinitions } from './definitions.ts';
import { rescrubStoredTools } from './rescrub.ts';

const HOSTILE = fileURLToPath(new URL('../testing/hostile-mcp-server.ts', import.meta.url));
const SECRET = 'tok-7d41c09e55aa3b21ff';

/** The digest formula before definitions were scrubbed (v1): SHA-256 of the definition as received. */
const v1Digest = (d: ToolDefinition) =>
  createHash('sha256')
    .update(canonicalize({ name: d.name, description: d.description, inputSchema: d.inputSchema })!)
    .digest('hex');

test('a name the scrubber would change is refused; descriptions and schemas are kept scrubbed', () => {
  const scrub = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll('s3cret', '[REDACTED]'));
  const { tools, refused } = vetDefinitions(
    [
      { name: 'a_s3cret', description: '', inputSchema: {} },
      { name: 'ok', description: 'has s3cret', inputSchema: { properties: { s3cret: { type: 'string' } } } },
    ],
    scrub as <T>(v: T) => T,
  );
  assert.deepEqual(refused, [{ received: 'a_s3cret', shownAs: 'a_[REDACTED]', why: 'secret' }]);
  assert.deepEqual(
    tools.map((x) => [x.name, x.description, Object.keys(x.inputSchema.properties as object)]),
    [['ok', 'has [REDACTED]', ['[REDACTED]']]],
  );
  assert.equal(tools[0]!.digest, toolDigest(tools[0]!));
  assert.match(tools[0]!.digest, /^v3:[0-9a-f]{64}$/);
  assert.equal(tools[0]!.digestUnder(2), toolDigest(tools[0]!, 2));
  assert.equal(
    tools[0]!.digestUnder(1),
    v1Digest({
      name: 'ok',
      description: 'has s3cret',
      inputSchema: { properties: { s3cret: { type: 'string' } } },
    }),
  );
});

test('the rest of a definition is kept scrubbed and digested (v3); what would mislead a client is left out', () => {
  const scrub = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll('s3cret', '[REDACTED]'));
  const def: ToolDefinition = {
    name: 'report',
    title: 'Report s3cret',
    description: 'Reports.',
    inputSchema: { type: 'object' },
    outputSchema: { type: 'object', properties: { text: { type: 'string' } } },
    annotations: { readOnlyHint: true, destructiveHint: false },
    icons: [
      { src: 'https://example.com/i.png' },
      { src: 'http://10.0.0.1/i.png' },
      { src: 'data:image/png;base64,AAAA' },
      { src: 'javascript:alert(1)' },
    ],
    _meta: {
      'paddock/approval': { id: 'apr_forged' },
      'io.modelcontextprotocol/related-task': { taskId: 't' },
      'dev.mcp.tools/x': 1,
      'openai/outputTemplate': 'ui://widget/s3cret.html',
      plain: true,
    },
  };
  const withTask = { ...def, execution: { taskSupport: 'required' } } as ToolDefinition;
  const [kept] = vetDefinitions([withTask], scrub as <T>(v: T) => T).tools;
  assert.equal(kept!.title, 'Report [REDACTED]');
  assert.deepEqual(kept!.annotations, { readOnlyHint: true, destructiveHint: false });
  assert.deepEqual(kept!.outputSchema, def.outputSchema);
  assert.deepEqual(
    kept!.icons!.map((i) => i.src),
    ['https://example.com/i.png', 'data:image/png;base64,AAAA'],
  );
  assert.deepEqual(kept!._meta, { 'openai/outputTemplate': 'ui://widget/[REDACTED].html', plain: true });
  assert.equal((kept as { execution?: unknown }).execution, undefined);
  // The digest covers everything the agent is shown: a changed hint is a changed tool under v3…
  const hinted = vetDefinitions([{ ...def, annotations: { readOnlyHint: false } }], scrub as <T>(v: T) => T)
    .tools[0]!;
  assert.notEqual(hinted.digest, kept!.digest);
  // …but not under v2, which covered name, description and input schema only (so v2 pins re-pin).
  assert.equal(hinted.digestUnder(2), kept!.digestUnder(2));
  assert.equal(
    kept!.digestUnder(2),
    toolDigest({ name: 'report', description: 'Reports.', inputSchema: { type: 'object' } }, 2),
  );
});

for (const kind of STORE_KINDS) {
  describe(`tool definitions across the change to scrubbing [${kind}]`, () => {
    let t: TestStore;
    let deps: ReturnType<typeof buildDeps>;
    let app: ReturnType<typeof createApp>;
    let acme: SeededOrg;
    let beta: SeededOrg;
    let conn: string;
    let secretId: string;
    const agents: Record<string, string> = {};
    const api = (method: 'get' | 'post' | 'patch', path: string, body?: unknown, org = 'acme') =>
      call(app, method, `/api/v1/orgs/${org}${path}`, {
        token: (org === 'acme' ? acme : beta).people.admin.token,
        ...(body ? { body } : {}),
      });
    const grants = async (agent: string) =>
      (await api('get', `/agents/${agent}/grants`)).body.grants as Array<{
        id: string;
        tool: string;
        status: string;
        toolDigest: string;
      }>;
    const entries = async (action: string) =>
      (await api('get', `/audit?action=${action}&limit=100`)).body.events as Array<{
        details: Record<string, unknown>;
      }>;

    before(async () => {
      const check = await bubblewrap.check();
      assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
      t = await openTestStore(kind);
      deps = buildDeps(
        loadConfig({ home: t.home, port: 7070, databaseUrl: t.databaseUrl }, {}),
        silentLogger,
        t.store,
        {},
        { provider: bubblewrap, problem: null },
      );
      deps.audit.start();
      app = createApp(deps);
      acme = await seedOrg(t.store, 'acme');
      beta = await seedOrg(t.store, 'beta');
      for (const name of ['alpha', 'bravo']) {
        const a = await api('post', '/agents', {
          name,
          scope: 'organization',
          instructions: 'x',
          model: { provider: 'openai', model: 'gpt-5' },
        });
        agents[name] = a.body.id;
      }
      const other = await api(
        'post',
        '/agents',
        {
          name: 'elsewhere',
          scope: 'organization',
          instructions: 'x',
          model: { provider: 'openai', model: 'gpt-5' },
        },
        'beta',
      );
      agents.beta = other.body.id;
      // A credential only agent alpha may use.
      const s = await api('post', '/secrets', {
        name: 'alpha-only',
        kind: 'connector_credential',
        value: SECRET,
        agentIds: [agents.alpha],
      });
      assert.equal(s.status, 201, s.text);
      secretId = s.body.id;
      const c = await api('post', '/connections', {
        name: 'hostile',
        transport: 'stdio',
        command: 'node',
        args: [HOSTILE],
        env: { HOSTILE_SECRET: secretId },
      });
      conn = c.body.id;
    });
    after(async () => {
      await deps?.gateway.close();
      await deps?.audit.close();
      await t?.cleanup();
    });

    test('listing gives the server org-wide secrets only; naming an agent adds its own, on record', async () => {
      const plain = await api('post', `/connections/${conn}/tools/refresh`);
      assert.equal(plain.status, 200, plain.text);
      const whoami = (r: typeof plain) =>
        r.body.tools.find((x: { name: string }) => x.name === 'whoami').description;
      assert.equal(whoami(plain), 'HOSTILE_SECRET is not set');
      const asAlpha = await api('post', `/connections/${conn}/tools/refresh?agent=${agents.alpha}`);
      assert.equal(asAlpha.status, 200, asAlpha.text);
      assert.equal(whoami(asAlpha), 'HOSTILE_SECRET is set');
      const asBravo = await api('post', `/connections/${conn}/tools/refresh?agent=${agents.bravo}`);
      assert.equal(asBravo.status, 403);
      assert.equal(asBravo.body.error.code, 'secret_not_allowed');
      const foreign = await api('post', `/connections/${conn}/tools/refresh?agent=${agents.beta}`);
      assert.equal(foreign.status, 404);
      await deps.audit.flush();
      const listed = (await entries('connection.tools.listed')).map((e) => e.details.secretsOf);
      assert.deepEqual(listed, [{ agent: agents.alpha }, 'organization']);
    });

    test('grants pinned before scrubbing are re-pinned when their tool is unchanged, suspended when it changed', async () => {
      // The state an older Paddock left: definitions stored raw, digests and grants under formula v1.
      const stored = await t.store.db
        .selectFrom('connection_tools')
        .selectAll()
        .where('connection_id', '=', conn)
        .execute();
      for (const r of stored) {
        const raw = {
          name: r.name,
          // As stored before scrubbing: the secret in clear where the scrubber now puts [REDACTED].
          description: r.description.replace('[REDACTED]', SECRET),
          inputSchema: JSON.parse(r.input_schema),
        };
        await t.store.db
          .updateTable('connection_tools')
          .set({ description: raw.description, digest: v1Digest(raw) })
          .where('connection_id', '=', conn)
          .where('name', '=', r.name)
          .execute();
      }
      // A tool whose name held the secret, stored before names were checked.
      await t.store.db
        .insertInto('connection_tools')
        .values({ ...stored[0]!, name: `x_${SECRET}`, digest: 'abc' })
        .execute();
      for (const tool of ['lookup', 'whoami', 'fail', `x_${SECRET}`]) {
        const digest = (
          await t.store.db
            .selectFrom('connection_tools')
            .select('digest')
            .where('connection_id', '=', conn)
            .where('name', '=', tool)
            .executeTakeFirstOrThrow()
        ).digest;
        await t.store.db
          .insertInto('grants')
          .values({
            id: `grt_old_${tool.slice(0, 8)}`,
            org_id: acme.id,
            agent_id: agents.alpha!,
            connection_id: conn,
            tool,
            effect: 'allow',
            constraints: '[]',
            not_before: null,
            not_after: null,
            requires_approval: 0,
            // "fail" was granted when its definition read differently: a real change since.
            tool_digest:
              tool === 'fail' ? v1Digest({ name: 'fail', description: 'old', inputSchema: {} }) : digest,
            status: 'active',
            created_by: acme.people.admin.id,
            created_at: new Date().toISOString(),
            revoked_by: null,
            revoked_at: null,
          })
          .execute();
      }

      // The data migration re-scrubs what is stored, with every secret the connection names.
      assert.equal(await rescrubStoredTools(t.store.db, deps.vault), 1);
      assert.equal(await rescrubStoredTools(t.store.db, deps.vault), 0, 'once');
      const tools = (await api('get', `/connections/${conn}/tools`)).body.tools as Array<{
        name: string;
        description: string;
        digest: string;
      }>;
      assert.deepEqual(tools.map((x) => x.name).sort(), ['fail', 'lookup', 'report', 'whoami']);
      assert.ok(tools.every((x) => x.digest.startsWith('v2:') && !x.description.includes(SECRET)));
      const byTool = Object.fromEntries((await grants(agents.alpha!)).map((g) => [g.tool, g]));
      assert.equal(byTool.lookup!.status, 'active', 'scrubbing alone is no change');
      assert.equal(byTool.whoami!.status, 'active');
      assert.equal(byTool.lookup!.toolDigest, tools.find((x) => x.name === 'lookup')!.digest);
      assert.equal(byTool.fail!.status, 'suspended', 'a real change still suspends');
      assert.equal(byTool['x_[REDACTED]']?.status, 'revoked', 'a grant of a name holding a secret');
      assert.ok(!JSON.stringify(await grants(agents.alpha!)).includes(SECRET));
      await deps.audit.flush();
      assert.equal((await entries('grant.repinned')).length, 2);
      assert.equal((await entries('connection.tools.rescrubbed')).length, 1);

      // Listed live again as before: the re-pinned grants stay; the call is allowed.
      // Listed live, the definitions move on to v3 and the grants with them, re-pinned again.
      const again = await api('post', `/connections/${conn}/tools/refresh?agent=${agents.alpha}`);
      assert.deepEqual([again.body.changed, again.body.suspended], [[], []]);
      assert.deepEqual(again.body.repinned.sort(), [byTool.lookup!.id, byTool.whoami!.id].sort());
      const call1 = await api('post', `/agents/${agents.alpha}/calls`, {
        connectionId: conn,
        tool: 'whoami',
        args: {},
      });
      assert.equal(call1.status, 200, call1.text);
    });

    test('grants pinned under v2 are re-pinned when their tool still matches under v2, suspended when it changed', async () => {
      // The state the previous Paddock left: only name, description and input schema, under v2.
      const rows = await t.store.db
        .selectFrom('connection_tools')
        .selectAll()
        .where('connection_id', '=', conn)
        .execute();
      const v2 = new Map<string, string>();
      for (const r of rows) {
        const def = { name: r.name, description: r.description, inputSchema: JSON.parse(r.input_schema) };
        v2.set(r.name, toolDigest(def, 2));
        await t.store.db
          .updateTable('connection_tools')
          .set({ extras: null, digest: v2.get(r.name)! })
          .where('connection_id', '=', conn)
          .where('name', '=', r.name)
          .execute();
      }
      const before = await api('get', `/connections/${conn}/tools`);
      assert.equal(before.body.tools.find((x: { name: string }) => x.name === 'report').title, undefined);
      const pins: Record<string, string> = {
        report: v2.get('report')!,
        // Granted when its description read differently: a real change since.
        whoami: toolDigest({ name: 'whoami', description: 'Says who.', inputSchema: { type: 'object' } }, 2),
      };
      for (const [tool, digest] of Object.entries(pins)) {
        await t.store.db
          .insertInto('grants')
          .values({
            id: `grt_v2_${tool}`,
            org_id: acme.id,
            agent_id: agents.bravo!,
            connection_id: conn,
            tool,
            effect: 'allow',
            constraints: '[]',
            not_before: null,
            not_after: null,
            requires_approval: 0,
            tool_digest: digest,
            status: 'active',
            created_by: acme.people.admin.id,
            created_at: new Date().toISOString(),
            revoked_by: null,
            revoked_at: null,
          })
          .execute();
      }
      // Nothing to re-scrub: v2 definitions are moved on by listing, which sees their whole.
      assert.equal(await rescrubStoredTools(t.store.db, deps.vault), 0);
      const listed = await api('post', `/connections/${conn}/tools/refresh?agent=${agents.alpha}`);
      assert.equal(listed.status, 200, listed.text);
      assert.deepEqual(listed.body.changed, [], 'a wider formula is no change');
      assert.ok(listed.body.repinned.includes('grt_v2_report'));
      assert.deepEqual(listed.body.suspended, ['grt_v2_whoami']);
      const report = listed.body.tools.find((x: { name: string }) => x.name === 'report');
      assert.match(report.digest, /^v3:/);
      assert.equal(report.annotations.readOnlyHint, true);
      const byTool = Object.fromEntries((await grants(agents.bravo!)).map((g) => [g.tool, g]));
      assert.deepEqual(
        [byTool.report!.status, byTool.report!.toolDigest, byTool.whoami!.status],
        ['active', report.digest, 'suspended'],
      );
      await deps.audit.flush();
      const repinned = (await entries('grant.repinned')).find((e) => e.details.grantId === 'grt_v2_report');
      assert.match(String(repinned?.details.reason), /from v2 to v3; the definition it pinned is unchanged/);
      const suspended = (await entries('grant.suspended')).find((e) => e.details.grantId === 'grt_v2_whoami');
      assert.equal(suspended?.details.reason, 'the tool definition changed');
      // Listed again: nothing moves.
      const again = await api('post', `/connections/${conn}/tools/refresh?agent=${agents.alpha}`);
      assert.deepEqual([again.body.changed, again.body.suspended, again.body.repinned], [[], [], []]);
    });
  });
}
