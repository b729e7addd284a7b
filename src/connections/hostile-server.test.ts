/**
 * A compromised MCP server given a vault secret puts it, in every form the scrubber claims to
 * catch, into its tool names, descriptions, schemas, titles, annotations, icons, `_meta`, results
 * (structured content too), errors and stderr, its prompts, resources, templates, reads and
 * completions, and forges the `_meta` keys Paddock and MCP keep for themselves
 * (`paddock/approval`): those never reach the agent. None of those
 * forms may be found anywhere: the database (files and WAL, or every table), the server log,
 * any API answer for any role, the MCP endpoint's tools/list and results, audit exports in every
 * format. Run in the org's real bubblewrap sandbox, reached with the official MCP client.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { sql } from 'kysely';
import { createLogger } from '../log/index.ts';
import { secretForms } from '../redact/index.ts';
import { call, type SeededOrg, seedOrg } from '../testing/fixtures.ts';
import { leakedForms } from '../testing/leaks.ts';
import { agentWithGrants, type ServedPaddock, servePaddock } from '../testing/served.ts';
import { STORE_KINDS, type TestStore } from '../testing/stores.ts';

const HOSTILE = fileURLToPath(new URL('../testing/hostile-mcp-server.ts', import.meta.url));
// Quotes, a backslash, a slash and a plus: its JSON, URL and base64 forms all differ from it.
const SECRET = 'hunter2"q\\z/+-41f9e8d7c6b5';

/** Every form to look for, also as it reads inside JSON text (how databases and logs hold it). */
const LOOK_FOR = [...new Set([...secretForms(SECRET), ...leakedForms(SECRET)])].flatMap((f) => [
  f,
  JSON.stringify(f).slice(1, -1),
]);

function leaksIn(where: string, text: string): string[] {
  return LOOK_FOR.filter((f) => text.includes(f)).map((f) => `${where}: ${f}`);
}

for (const kind of STORE_KINDS) {
  describe(`a hostile MCP server leaks none of its secret [${kind}]`, () => {
    let paddock: ServedPaddock;
    let t: TestStore;
    let deps: ServedPaddock['deps'];
    let app: ServedPaddock['app'];
    let url: string;
    let acme: SeededOrg;
    let hostile: string;
    let agentId: string;
    const logs: string[] = [];
    const seen: Array<[string, string]> = [];
    const api = async (
      method: 'get' | 'post',
      path: string,
      body?: unknown,
      token = acme.people.admin.token,
    ) => {
      const r = await call(app, method, `/api/v1/orgs/acme${path}`, { token, ...(body ? { body } : {}) });
      seen.push([`${method} ${path}`, r.text]);
      return r;
    };

    before(async () => {
      const log = createLogger({ level: 'debug', destination: { write: (s: string) => void logs.push(s) } });
      paddock = await servePaddock(kind, { log });
      ({ t, deps, app, url } = paddock);
      acme = await seedOrg(t.store, 'acme');
      const secret = await api('post', '/secrets', {
        name: 'hostile',
        kind: 'connector_credential',
        value: SECRET,
      });
      assert.equal(secret.status, 201, secret.text);
      const made = await api('post', '/connections', {
        name: 'hostile',
        transport: 'stdio',
        command: 'node',
        args: [HOSTILE],
        env: { HOSTILE_SECRET: secret.body.id },
      });
      assert.equal(made.status, 201, made.text);
      hostile = made.body.id;
      agentId = await agentWithGrants(app, acme, { name: 'victim' });
    });

    after(async () => {
      await paddock?.close();
    });

    test('tools whose name holds the secret are refused, on record; the others are kept scrubbed', async () => {
      const listed = await api('post', `/connections/${hostile}/tools/refresh`);
      assert.equal(listed.status, 200, listed.text);
      assert.deepEqual(listed.body.tools.map((x: { name: string }) => x.name).sort(), [
        'fail',
        'lookup',
        'report',
        'whoami',
      ]);
      assert.equal(listed.body.refused.length, 4);
      // Names that would not read as they are: refused too, shown escaped (on record, as stored).
      for (const shown of ['nul\\u0000name', '\\u202etxt.exe'])
        assert.ok(listed.body.refused.includes(shown), `${shown} in ${JSON.stringify(listed.body.refused)}`);
      // A prompt, two resources and a template whose name or URI holds the secret.
      assert.deepEqual(
        listed.body.refusedOfferings.map((r: string) => r.split(' ')[0]),
        ['prompt', 'resource', 'resource', 'template'],
      );
      assert.ok(listed.body.refusedOfferings.every((r: string) => r.includes('[REDACTED]')));
      assert.deepEqual(
        [listed.body.prompts, listed.body.resources, listed.body.resourceTemplates],
        [1, 1, 1],
      );
      const lookup = listed.body.tools.find((x: { name: string }) => x.name === 'lookup');
      assert.match(lookup.description, /Looks things up\. Debug: form0=\[REDACTED\]/);
      assert.deepEqual(lookup.inputSchema.required, ['query'], 'the schema still works');
      // The rest of a definition is kept whole, scrubbed, less what would mislead the agent's client.
      const report = listed.body.tools.find((x: { name: string }) => x.name === 'report');
      assert.match(report.title, /^Report \(form0=\[REDACTED\] /);
      assert.deepEqual(report.annotations, {
        title: 'Report [REDACTED]',
        readOnlyHint: true,
        openWorldHint: false,
      });
      assert.deepEqual(report.outputSchema.required, ['text']);
      assert.match(report.outputSchema.properties.text.description, /form0=\[REDACTED\]/);
      assert.deepEqual(
        report.icons.map((i: { src: string }) => i.src),
        ['https://icons.example/report.png?k=[REDACTED]'],
        'only https: icons',
      );
      assert.equal(report.execution, undefined, 'the gate relays no tasks');
      assert.deepEqual(Object.keys(report._meta).sort(), ['vendor.example/debug', 'vendor.example/widget']);
      assert.match(report._meta['vendor.example/debug'], /^form0=\[REDACTED\]/);
      assert.match(report.digest, /^v3:[0-9a-f]{64}$/);
      await deps.audit.flush();
      const refused = await t.store.db
        .selectFrom('audit_entries')
        .select('details')
        .where('action', '=', 'connection.tool.refused')
        .execute();
      assert.equal(refused.length, 4);
      const reasons = refused.map((r) => (JSON.parse(r.details!) as { reason: string }).reason);
      assert.equal(reasons.filter((r) => /holds a secret/.test(r)).length, 2);
      assert.equal(reasons.filter((r) => /bidirectional-override/.test(r)).length, 2);
      const offeringsRefused = await t.store.db
        .selectFrom('audit_entries')
        .select('action')
        .where('action', 'in', ['connection.prompt.refused', 'connection.resource.refused'])
        .execute();
      assert.equal(offeringsRefused.length, 4);
      // What is kept of the others: scrubbed whole, less forged `_meta` and unsafe icons.
      const offered = await api('get', `/connections/${hostile}/offerings`);
      assert.equal(offered.status, 200, offered.text);
      const brief = offered.body.offerings.find((o: { key: string }) => o.key === 'brief').definition;
      assert.match(brief.description, /^Briefs\. Debug: form0=\[REDACTED\]/);
      assert.match(brief.arguments[0].description, /form0=\[REDACTED\]/);
      assert.deepEqual(Object.keys(brief._meta), ['vendor.example/debug']);
      assert.deepEqual(brief.icons.length, 1);
      const notes = offered.body.offerings.find(
        (o: { key: string }) => o.key === 'hostile://notes',
      ).definition;
      assert.match(notes.name, /^notes form0=\[REDACTED\]/);
    });

    test('results and errors reach the REST caller and the agent over MCP scrubbed', async () => {
      for (const grant of [
        { tool: 'lookup' },
        { tool: 'fail' },
        { tool: 'report' },
        { prompt: 'brief' },
        { resource: 'hostile://', match: 'prefix' },
      ]) {
        const g = await api('post', `/agents/${agentId}/grants`, { connectionId: hostile, ...grant });
        assert.equal(g.status, 201, g.text);
      }
      const ok = await api('post', `/agents/${agentId}/calls`, {
        connectionId: hostile,
        tool: 'lookup',
        args: { query: 'q' },
      });
      assert.equal(ok.status, 200, ok.text);
      assert.match(ok.text, /result: form0=\[REDACTED\]/);
      const failed = await api('post', `/agents/${agentId}/calls`, {
        connectionId: hostile,
        tool: 'fail',
        args: {},
      });
      assert.equal(failed.status, 502);
      assert.match(failed.body.error.message, /failed while holding form0=\[REDACTED\]/);

      const tok = await api('post', `/agents/${agentId}/tokens`, { name: 'mcp' });
      const client = new Client({ name: 'agent', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${url}/mcp/acme`), {
          requestInit: { headers: { authorization: `Bearer ${tok.body.token}` } },
        }),
      );
      try {
        const tools = await client.listTools();
        assert.deepEqual(tools.tools.map((x) => x.name).sort(), [
          'hostile__fail',
          'hostile__lookup',
          'hostile__report',
        ]);
        seen.push(['mcp tools/list', JSON.stringify(tools)]);
        const shown = tools.tools.find((x) => x.name === 'hostile__report')!;
        assert.equal(shown.annotations?.readOnlyHint, true);
        assert.deepEqual(Object.keys(shown._meta ?? {}).sort(), [
          'vendor.example/debug',
          'vendor.example/widget',
        ]);
        // Structured content passes (scrubbed, still valid for the schema the client was shown);
        // a forged approval wait does not.
        const rep = await client.callTool({ name: 'hostile__report', arguments: {} });
        seen.push(['mcp report', JSON.stringify(rep)]);
        assert.match((rep.structuredContent as { text: string }).text, /^report: form0=\[REDACTED\]/);
        assert.deepEqual(Object.keys(rep._meta ?? {}), ['vendor.example/trace']);
        const r = await client.callTool({ name: 'hostile__lookup', arguments: { query: 'q' } });
        assert.match(JSON.stringify(r), /REDACTED/);
        seen.push(['mcp lookup', JSON.stringify(r)]);
        const f = await client.callTool({ name: 'hostile__fail', arguments: {} });
        assert.equal(f.isError, true);
        seen.push(['mcp fail', JSON.stringify(f)]);
        // Prompts, resources, templates, reads, gets and completions: scrubbed, no forged `_meta`.
        const prompts = await client.listPrompts();
        seen.push(['mcp prompts/list', JSON.stringify(prompts)]);
        assert.deepEqual(
          prompts.prompts.map((p) => p.name),
          ['hostile__brief'],
        );
        const resources = await client.listResources();
        seen.push(['mcp resources/list', JSON.stringify(resources)]);
        assert.deepEqual(
          resources.resources.map((r) => r.uri),
          ['hostile+hostile://notes'],
        );
        const templates = await client.listResourceTemplates();
        seen.push(['mcp templates/list', JSON.stringify(templates)]);
        assert.deepEqual(
          templates.resourceTemplates.map((r) => r.uriTemplate),
          ['hostile+hostile://items/{id}'],
        );
        const got = await client.getPrompt({ name: 'hostile__brief', arguments: { topic: 't' } });
        seen.push(['mcp prompts/get', JSON.stringify(got)]);
        assert.match(JSON.stringify(got.messages), /prompt: form0=\[REDACTED\]/);
        assert.deepEqual(Object.keys(got._meta ?? {}), ['vendor.example/trace']);
        const read = await client.readResource({ uri: 'hostile+hostile://notes' });
        seen.push(['mcp resources/read', JSON.stringify(read)]);
        assert.match(JSON.stringify(read.contents), /contents: form0=\[REDACTED\]/);
        assert.deepEqual(Object.keys(read._meta ?? {}), ['vendor.example/trace']);
        const failedRead = await client
          .readResource({ uri: 'hostile+hostile://items/fail' })
          .catch((e: Error) => e);
        assert.ok(failedRead instanceof Error);
        seen.push(['mcp resources/read failed', `${failedRead.message} ${JSON.stringify(failedRead)}`]);
        assert.match(failedRead.message, /resource_failed: .*cannot read while holding form0=\[REDACTED\]/);
        const completed = await client.complete({
          ref: { type: 'ref/prompt', name: 'hostile__brief' },
          argument: { name: 'topic', value: '' },
        });
        seen.push(['mcp completion/complete', JSON.stringify(completed)]);
        assert.ok(completed.completion.values.every((v) => v.includes('[REDACTED]')));
      } finally {
        await client.close();
      }
    });

    test('a server that fails to start is reported with its stderr scrubbed', async () => {
      const secretId = (await api('get', '/secrets')).body.secrets[0].id;
      const made = await api('post', '/connections', {
        name: 'hostile-crash',
        transport: 'stdio',
        command: 'node',
        args: [HOSTILE, 'crash'],
        env: { HOSTILE_SECRET: secretId },
      });
      const r = await api('post', `/connections/${made.body.id}/tools/refresh`);
      assert.equal(r.status, 502, r.text);
      assert.equal(r.body.error.code, 'connection_failed');
      assert.match(r.body.error.message, /cannot start: form0=\[REDACTED\]/);
    });

    test('no form of the secret is anywhere: database, log, every API answer for every role, exports', async () => {
      await deps.audit.flush();
      await deps.audit.checkpoint(acme.id);
      const doc = (await call(app, 'get', '/api/v1/openapi.json')).body as { paths: Record<string, object> };
      const known: Record<string, string> = { org: 'acme', connection: hostile, agent: agentId, index: '0' };
      for (const role of ['owner', 'admin', 'member', 'auditor'] as const) {
        for (const [path, ops] of Object.entries(doc.paths)) {
          if (!('get' in ops) || !path.startsWith('/api/v1/orgs/{org}')) continue;
          const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
          if (!params.every((p) => p in known)) continue;
          const filled = path.replace(/\{(\w+)\}/g, (_, p: string) => known[p]!);
          const r = await call(app, 'get', filled, { token: acme.people[role].token });
          seen.push([`${role} GET ${filled}`, r.text]);
        }
        for (const format of ['jsonl', 'csv', 'ocsf', 'proof']) {
          const r = await call(app, 'get', `/api/v1/orgs/acme/audit/export?format=${format}`, {
            token: acme.people[role].token,
          });
          seen.push([`${role} export ${format}`, r.text]);
        }
      }
      const audit = await call(app, 'get', '/api/v1/orgs/acme/audit?limit=500', {
        token: acme.people.auditor.token,
      });
      assert.ok(audit.body.events.length > 20, 'the trail was read whole');
      const leaks = seen.flatMap(([where, text]) => leaksIn(where, text));
      leaks.push(...leaksIn('server log', logs.join('')));
      // The database: every table's rows, and for SQLite its files (WAL included) byte for byte.
      const tables =
        kind === 'sqlite'
          ? await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(
              t.store.db,
            )
          : await sql<{
              name: string;
            }>`select table_name as name from information_schema.tables where table_schema = 'public'`.execute(
              t.store.db,
            );
      for (const { name } of tables.rows) {
        const rows = await sql`select * from ${sql.table(name)}`.execute(t.store.db);
        leaks.push(...leaksIn(`table ${name}`, JSON.stringify(rows.rows)));
      }
      if (kind === 'sqlite') {
        for (const f of ['paddock.db', 'paddock.db-wal', 'paddock.db-shm']) {
          const file = join(t.home, f);
          if (existsSync(file)) leaks.push(...leaksIn(f, readFileSync(file).toString('latin1')));
        }
      }
      assert.deepEqual(leaks, []);
      assert.ok(logs.length > 0 && seen.length > 40, 'the log and the answers were really read');
    });
  });
}
