/**
 * Sweeps every route of the OpenAPI document, on SQLite and PostgreSQL: with no credential, with
 * another org's token, with a token of each role, and — the data layer as the tenant wall — with
 * the other org's ids under the caller's own org path, in paths, bodies and query filters. Both
 * orgs hold one real object of every kind; only what the role allows gets through, nothing
 * crosses tenants, and refused requests change nothing in any table.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PLATFORM_LOG, recordAudit } from '../audit/index.ts';
import { bubblewrap } from '../cells/index.ts';
import { can, PERMISSIONS, type Permission, ROLES, type Role } from '../identity/index.ts';
import { call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { runRow } from '../testing/run-rows.ts';
import { EVERYTHING } from '../testing/served.ts';
import { databaseSnapshot, snapshotDiff } from '../testing/snapshot.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';

type Json = Record<string, any>;
type Param = { name: string; in: 'path' | 'query'; schema: Json; required?: boolean };
type Op = {
  method: string;
  path: string;
  access: string;
  hasBody: boolean;
  params: Param[];
  body: Json | undefined;
};

/** The pattern of every object id (`Id` in src/server/schemas.ts), as the OpenAPI document gives it. */
const ID_PATTERN = '^[a-z]+_[0-9a-z]+$';

/** The kinds of object a route can name; each org holds one of every kind. */
const KINDS = [
  'agent',
  'agentToken',
  'approval',
  'checkpoint',
  'connection',
  'conversation',
  'document',
  'entry',
  'evidence',
  'exercise',
  'feedback',
  'grant',
  'incident',
  'index',
  'invitation',
  'line',
  'person',
  'review',
  'run',
  'secret',
  'team',
  'token',
  'webhook',
] as const;
type Kind = (typeof KINDS)[number];
type Ids = Record<Kind, string>;

/** Where a request body names an object, and which kind it names (`*`: any key of a map). */
const BODY_ID_KINDS: Record<string, Kind> = {
  connectionId: 'connection',
  'calls[].connectionId': 'connection',
  'agentIds[]': 'agent',
  teamId: 'team',
  'model.secretId': 'secret',
  'settings.siemWebhookSecret': 'secret',
  'env.*': 'secret',
  'headers.*': 'secret',
  'secrets.*': 'secret',
  transferTo: 'person',
  'revokeTokens[]': 'token',
  conversationId: 'conversation',
  agentId: 'agent',
  lineId: 'line',
};

/**
 * A valid body for each route that takes ids (in its path or its body), built from the ids it is
 * given: the caller's own everywhere, then another org's in one place at a time.
 */
const BODIES: Record<string, Array<(id: Ids) => Json>> = {
  'patch /api/v1/orgs/{org}': [(id) => ({ settings: { siemWebhookSecret: id.secret } })],
  'patch /api/v1/orgs/{org}/people/{person}': [() => ({ role: 'member' })],
  'post /api/v1/orgs/{org}/connections/{connection}/oauth/start': [() => ({})],
  'delete /api/v1/orgs/{org}/people/{person}': [
    (id) => ({ transferTo: id.person }),
    (id) => ({ privateResources: 'delete', revokeTokens: [id.token] }),
  ],
  'patch /api/v1/orgs/{org}/teams/{team}': [() => ({ name: 'swept' })],
  'post /api/v1/orgs/{org}/secrets': [
    (id) => ({ name: 'swept', kind: 'other', value: 'swept-value-0001', agentIds: [id.agent] }),
  ],
  'patch /api/v1/orgs/{org}/secrets/{secret}': [(id) => ({ agentIds: [id.agent] })],
  'put /api/v1/orgs/{org}/secrets/{secret}/value': [() => ({ value: 'swept-value-0002' })],
  'post /api/v1/orgs/{org}/agents': [
    (id) => ({
      name: 'swept',
      scope: 'team',
      teamId: id.team,
      instructions: 'x',
      model: { provider: 'openai', model: 'gpt-5', secretId: id.secret },
    }),
  ],
  'patch /api/v1/orgs/{org}/agents/{agent}': [
    (id) => ({
      scope: 'team',
      teamId: id.team,
      model: { provider: 'openai', model: 'gpt-5', secretId: id.secret },
    }),
  ],
  'post /api/v1/orgs/{org}/agents/{agent}/tokens': [() => ({ name: 'swept' })],
  'post /api/v1/orgs/{org}/agents/{agent}/webhooks': [() => ({ name: 'swept' })],
  'post /api/v1/orgs/{org}/connections': [
    (id) => ({ name: 'swept', transport: 'stdio', command: 'node', args: [], env: { API_TOKEN: id.secret } }),
    (id) => ({
      name: 'swept',
      transport: 'http',
      url: 'https://mcp.swept.test/mcp',
      headers: { Authorization: id.secret },
    }),
  ],
  'put /api/v1/orgs/{org}/connections/{connection}/package': [() => ({ package: 'swept@1.0.0' })],
  'post /api/v1/orgs/{org}/catalog/{entry}/connections': [(id) => ({ secrets: { NOTION_TOKEN: id.secret } })],
  'post /api/v1/orgs/{org}/agents/{agent}/grants': [(id) => ({ connectionId: id.connection, tool: 'echo' })],
  'post /api/v1/orgs/{org}/agents/{agent}/grants/check': [
    (id) => ({ connectionId: id.connection, tool: 'echo', args: { message: 'hi' } }),
  ],
  'post /api/v1/orgs/{org}/agents/{agent}/grant-suggestions': [
    (id) => ({ calls: [{ connectionId: id.connection, tool: 'echo', args: { message: 'hi' } }] }),
  ],
  'post /api/v1/orgs/{org}/agents/{agent}/calls': [
    (id) => ({ connectionId: id.connection, tool: 'echo', args: { message: 'hi' } }),
  ],
  'post /api/v1/orgs/{org}/agents/{agent}/runs': [
    (id) => ({ message: 'swept', conversationId: id.conversation }),
  ],
  'post /api/v1/orgs/{org}/approvals/{approval}/approve': [() => ({ reason: 'swept' })],
  'post /api/v1/orgs/{org}/approvals/{approval}/deny': [() => ({ reason: 'swept' })],
  'post /api/v1/orgs/{org}/compliance/reviews/{review}/lines/{line}': [() => ({ decision: 'defer' })],
  'post /api/v1/orgs/{org}/compliance/reviews/{review}/comments': [
    (id) => ({ body: 'swept', lineId: id.line }),
  ],
  'patch /api/v1/orgs/{org}/compliance/incidents/{incident}': [() => ({ note: 'swept' })],
  'post /api/v1/orgs/{org}/runs/{run}/feedback': [() => ({ correction: 'swept', reason: 'swept' })],
  'post /api/v1/orgs/{org}/feedback/{feedback}/resolve': [() => ({ note: 'swept' })],
  'post /api/v1/orgs/{org}/compliance/drills': [(id) => ({ agentId: id.agent })],
  'patch /api/v1/orgs/{org}/agents/{agent}/memory/{entry}': [() => ({ pinned: true })],
  'put /api/v1/orgs/{org}/slack/channels': [(id) => ({ channelId: 'C0SWEPT01', agentId: id.agent })],
};

/** The one write an auditor holds, by design: a comment on an access review (nothing else). */
const AUDITOR_WRITES = new Set(['compliance.comment']);

/** The kind of object a parameter names, or null when it names none (the org, an enum, a filter). */
function kindOf(op: Op, p: Param): string | null {
  if (p.in === 'path') {
    if (p.name === 'org' || p.schema.enum) return null;
    // Agent tokens and people's API tokens are both `{token}`: the path says which.
    return p.name === 'token' && op.path.includes('/agents/{agent}/tokens/') ? 'agentToken' : p.name;
  }
  if (p.schema.pattern === ID_PATTERN) return p.name;
  // Positions in an org's own audit log.
  if (p.name === 'index') return 'index';
  if (p.name === 'treeSize') return 'checkpoint';
  return null;
}

/** Where a JSON Schema (with `$ref`s into the document) holds an id: `model.secretId`, `agentIds[]`, `env.*`. */
function idLocations(doc: Json, schema: Json, at = ''): string[] {
  if (schema.$ref) return idLocations(doc, doc.components.schemas[schema.$ref.split('/').pop()], at);
  if (schema.pattern === ID_PATTERN) return [at];
  const out: string[] = [];
  for (const s of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])])
    out.push(...idLocations(doc, s, at));
  for (const [name, s] of Object.entries<Json>(schema.properties ?? {}))
    out.push(...idLocations(doc, s, at ? `${at}.${name}` : name));
  if (schema.items) out.push(...idLocations(doc, schema.items, `${at}[]`));
  if (typeof schema.additionalProperties === 'object')
    out.push(...idLocations(doc, schema.additionalProperties, `${at}.*`));
  return [...new Set(out)];
}

/** Where a body holds one of the marker ids, as the locations above (map keys stay as given). */
function markedPaths(value: unknown, at = ''): Array<{ path: string; kind: Kind }> {
  if (typeof value === 'string' && value.startsWith('mark_'))
    return [{ path: at, kind: value.slice(5) as Kind }];
  if (Array.isArray(value)) return value.flatMap((v) => markedPaths(v, `${at}[]`));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => markedPaths(v, at ? `${at}.${k}` : k));
  return [];
}

const matches = (location: string, path: string) =>
  new RegExp(`^${location.replace(/[.*[\]]/g, (c) => (c === '*' ? '[^.[]+' : `\\${c}`))}$`).test(path);

const MARKERS = Object.fromEntries(KINDS.map((k) => [k, `mark_${k}`])) as Ids;

for (const kind of STORE_KINDS) {
  describe(`access sweep [${kind}]`, () => {
    let t: TestStore;
    let app: ReturnType<typeof createApp>;
    let deps: ReturnType<typeof testDeps>;
    let alpha: SeededOrg;
    let beta: SeededOrg;
    let doc: Json;
    let ops: Op[];
    /** Each org's one object of every kind. */
    const ids: { alpha: Ids; beta: Ids } = { alpha: {} as Ids, beta: {} as Ids };
    /** What only alpha's data contains: none of it may appear in an answer to beta. */
    let canaries: string[];

    /** Makes one real object of every kind in an org, through the API as its owner. */
    async function seed(org: SeededOrg): Promise<Ids> {
      const as = async (method: string, path: string, status: number, body?: unknown) => {
        const r = await call(app, method, `/api/v1/orgs/${org.slug}${path}`, {
          token: org.people.owner.token,
          ...(body === undefined ? {} : { body }),
        });
        assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
        return r.body;
      };
      const s = org.slug;
      const team = await as('post', '/teams', 201, { name: `${s}-core` });
      await as('put', `/teams/${team.id}/members/${org.people.member.id}`, 200);
      const invitation = await as('post', '/invitations', 201, { email: `new@${s}.test`, role: 'member' });
      const token = await as('post', '/tokens', 201, { name: `${s}-ci`, role: 'member' });
      await as('put', '/sso', 200, {
        issuer: `https://idp.${s}.test`,
        clientId: `${s}-client`,
        clientSecret: `${s}-client-secret`,
      });
      const agent = await as('post', '/agents', 201, {
        name: `${s}-agent`,
        scope: 'team',
        teamId: team.id,
        instructions: `${s} instructions`,
        model: { provider: 'openai', model: 'gpt-5' },
      });
      const agentToken = await as('post', `/agents/${agent.id}/tokens`, 201, { name: `${s}-mcp` });
      const webhook = await as('post', `/agents/${agent.id}/webhooks`, 201, { name: `${s}-hook` });
      const secret = await as('post', '/secrets', 201, {
        name: `${s}-key`,
        kind: 'model_key',
        provider: 'openai',
        agentIds: [agent.id],
        value: `${s}-model-key-0001`,
      });
      await as('patch', `/agents/${agent.id}`, 200, {
        model: { provider: 'openai', model: 'gpt-5', secretId: secret.id },
      });
      const connection = await as('post', '/connections', 201, {
        name: `${s}-everything`,
        transport: 'stdio',
        command: 'node',
        args: EVERYTHING,
      });
      await as('post', `/connections/${connection.id}/tools/refresh`, 200);
      const grant = await as('post', `/agents/${agent.id}/grants`, 201, {
        connectionId: connection.id,
        tool: 'echo',
      });
      await as('post', `/agents/${agent.id}/grants`, 201, {
        connectionId: connection.id,
        tool: 'get-sum',
        requiresApproval: true,
      });
      // A prompt and resources, granted like tools (their lines in permissions, grants, reviews).
      await as('post', `/agents/${agent.id}/grants`, 201, {
        connectionId: connection.id,
        prompt: 'simple-prompt',
      });
      await as('post', `/agents/${agent.id}/grants`, 201, {
        connectionId: connection.id,
        resource: `demo://resource/static/`,
        match: 'prefix',
      });
      await as('patch', '', 200, { settings: { approvalWaitSeconds: 0 } });
      const held = await call(app, 'post', `/api/v1/orgs/${s}/agents/${agent.id}/calls`, {
        token: org.people.owner.token,
        body: { connectionId: connection.id, tool: 'get-sum', args: { a: 1, b: 2 } },
      });
      assert.equal(held.body?.error?.code, 'approval_required', held.text);
      // A finished run and its conversation: rows are enough here (runs have their own tests).
      const now = new Date().toISOString();
      const conversation = `cnv_${s}0sweep`;
      await t.store.db
        .insertInto('conversations')
        .values({
          id: conversation,
          org_id: org.id,
          agent_id: agent.id,
          person_id: org.people.owner.id,
          title: 'swept',
          messages: '[]',
          created_at: now,
          updated_at: now,
        })
        .execute();
      const run = `run_${s}0sweep`;
      await t.store.db
        .insertInto('runs')
        .values(
          runRow({
            id: run,
            org_id: org.id,
            agent_id: agent.id,
            conversation_id: conversation,
            person_id: org.people.owner.id,
            input: `${s} asked`,
            output: `${s} answered`,
            created_at: now,
            ended_at: now,
          }),
        )
        .execute();
      // Its answer on record, as the runtime records it, and a person's flag on that answer.
      await recordAudit(t.store.db, {
        orgId: org.id,
        runId: run,
        actor: { type: 'agent', id: agent.id },
        action: 'run.completed',
        target: { type: 'agent', id: agent.id },
        details: { output: `${s} answered` },
      });
      const feedback = await as('post', `/runs/${run}/feedback`, 201, {
        correction: `${s} corrected`,
        reason: `${s} reason`,
      });
      // An entry of the agent's memory (the tool that writes it has its own tests).
      const entry = `mem_${s}0sweep`;
      await t.store.db
        .insertInto('memories')
        .values({
          id: entry,
          org_id: org.id,
          agent_id: agent.id,
          person_id: null,
          text: `${s} remembers`,
          pinned: 0,
          updated_by: agent.id,
          created_at: now,
          updated_at: now,
        })
        .execute();
      // The cell's history is the supervisor's to write; a row of it is enough here.
      await t.store.db
        .insertInto('cell_events')
        .values({ org_id: org.id, time: new Date().toISOString(), state: 'ready', detail: `{"org":"${s}"}` })
        .execute();
      // The compliance center: a collection's evidence, an agents review and its lines, an
      // incident, a tabletop exercise, a document of the customer's own.
      const collection = await as('post', '/compliance/collect', 201);
      const review = await as('post', '/compliance/reviews', 201, { kind: 'agents' });
      assert.ok(review.lines.length > 0, 'the review has lines');
      const incident = await as('post', '/compliance/incidents', 201, {
        title: `${s} incident`,
        severity: 'low',
      });
      const exercise = await as('post', '/compliance/exercises', 201, {
        title: `${s} tabletop`,
        heldAt: now,
        scenario: `${s} scenario`,
        outcome: 'pass',
      });
      const document = await call(
        app,
        'post',
        `/api/v1/orgs/${s}/compliance/criteria/CC1.2/documents?name=${s}.txt`,
        {
          token: org.people.owner.token,
          raw: `${s} board charter`,
          headers: { 'content-type': 'text/plain' },
        },
      );
      assert.equal(document.status, 201, document.text);
      return {
        agent: agent.id,
        agentToken: agentToken.info.id,
        approval: held.body.error.details.approvalId,
        checkpoint: '',
        connection: connection.id,
        conversation,
        document: document.body.id,
        entry,
        evidence: collection.results.find((r: any) => r.evidence.length > 0).evidence[0],
        exercise: exercise.id,
        feedback: feedback.id,
        grant: grant.id,
        incident: incident.id,
        index: '',
        invitation: invitation.invitation.id,
        line: review.lines[0].id,
        person: org.people.member.id,
        review: review.id,
        run,
        secret: secret.id,
        team: team.id,
        token: token.info.id,
        webhook: webhook.webhook.id,
      };
    }

    before(async () => {
      const check = await bubblewrap.check();
      assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
      t = await openTestStore(kind);
      deps = testDeps(t.store, t.home, {}, { provider: bubblewrap, problem: null });
      app = createApp(deps);
      alpha = await seedOrg(t.store, 'alpha');
      beta = await seedOrg(t.store, 'beta');
      ids.alpha = await seed(alpha);
      ids.beta = await seed(beta);
      // Alpha's log grows past beta's: its last positions exist in alpha's log only.
      for (let i = 0; i < 3; i++) {
        const r = await call(app, 'patch', `/api/v1/orgs/alpha/teams/${ids.alpha.team}`, {
          token: alpha.people.owner.token,
          body: { name: `alpha-core-${i}` },
        });
        assert.equal(r.status, 200, r.text);
      }
      // Signed now, so that no read during the sweep has a checkpoint to make.
      const alphaSize = (await deps.audit.checkpoint(alpha.id)).size;
      const betaSize = (await deps.audit.checkpoint(beta.id)).size;
      assert.ok(alphaSize > betaSize, `alpha's log (${alphaSize}) is longer than beta's (${betaSize})`);
      ids.alpha.index = String(alphaSize - 1);
      ids.alpha.checkpoint = String(alphaSize);
      ids.beta.index = String(betaSize - 1);
      ids.beta.checkpoint = String(betaSize);

      canaries = [alpha.id, '@alpha.test', 'alpha-', 'idp.alpha.test', ...Object.values(ids.alpha)].filter(
        (c) => !/^\d+$/.test(c),
      );
      doc = (await call(app, 'get', '/api/v1/openapi.json')).body;
      ops = Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, op]) => ({
          method,
          path,
          access: op['x-paddock-access'],
          hasBody: op.requestBody !== undefined,
          params: op.parameters ?? [],
          body: op.requestBody?.content?.['application/json']?.schema,
        })),
      );
    });
    after(async () => t?.cleanup());

    const fill = (path: string, org: string, which: 'real' | 'missing') =>
      path.replace(/\{(\w+)\}/g, (_m, name: string) => {
        if (name === 'org') return org;
        const real = (ids.alpha as Record<string, string>)[name];
        if (which === 'real') return real ?? `${name}_missing`;
        return name === 'index' ? '1000000' : `${name === 'person' ? 'usr' : name}_0000000000000000`;
      });

    /** A never-used id shaped like `id` (same prefix), or a position past every log. */
    const missing = (id: string) => (/^\d+$/.test(id) ? '1000000' : `${id.split('_')[0]}_0000000000000000`);

    /**
     * The audit trail's own work placed and signed now (entries left pending by earlier changes,
     * the checkpoint due after them), so that a snapshot taken next moves only if a request moves it.
     */
    const settled = async () => {
      await deps.audit.checkpoint(alpha.id);
      await deps.audit.checkpoint(beta.id);
      // The platform's log too (the orgs' creation): its last state is signed unasked otherwise.
      await deps.audit.checkpoint(PLATFORM_LOG);
      return databaseSnapshot(t.store);
    };

    /** Beta's own value for each required query parameter (a position in its log, or 0). */
    const ownQuery = (op: Op) =>
      op.params
        .filter((p) => p.in === 'query' && p.required)
        .map((p) => {
          const k = kindOf(op, p);
          return `${p.name}=${k ? ids.beta[k as Kind] : 0}`;
        })
        .join('&');

    const orgOps = () =>
      ops.filter((o) => o.path.startsWith('/api/v1/orgs/{org}') && String(o.access).includes('.'));

    test('every route declares its access, and org routes name a permission', () => {
      assert.ok(ops.length >= 20, `only ${ops.length} operations in the OpenAPI document`);
      for (const op of ops) {
        assert.ok(op.access, `${op.method} ${op.path} has no x-paddock-access`);
        // Sign-in routes and OAuth discovery (which reads nothing of the org) take a slug publicly.
        const publicBySlug = op.path.startsWith('/api/v1/auth/') || op.path.startsWith('/.well-known/');
        if (op.path.includes('{org}') && !publicBySlug) {
          assert.ok(
            !['public', 'signed-in'].includes(op.access),
            `${op.method} ${op.path} is org-scoped but ${op.access}`,
          );
        }
      }
    });

    test('every id a route takes, in its path, query or body, has another org’s object to try', () => {
      const problems: string[] = [];
      for (const op of orgOps()) {
        const name = `${op.method} ${op.path}`;
        for (const p of op.params) {
          const k = kindOf(op, p);
          if (k !== null && !(KINDS as readonly string[]).includes(k))
            problems.push(`${name}: ${p.in} parameter {${p.name}} names a kind the sweep does not seed`);
        }
        const locations = op.body ? idLocations(doc, op.body) : [];
        for (const loc of locations)
          if (!BODY_ID_KINDS[loc]) problems.push(`${name}: body field ${loc} holds an id of no known kind`);
        const takesIds = locations.length > 0 || op.params.some((p) => p.in === 'path' && kindOf(op, p));
        if (op.hasBody && takesIds && !BODIES[name]) problems.push(`${name}: no valid body to sweep it with`);
        const filled = (BODIES[name] ?? []).flatMap((make) => markedPaths(make(MARKERS)));
        for (const loc of locations) {
          const at = filled.filter((f) => matches(loc, f.path));
          if (!at.length) problems.push(`${name}: no body puts an id at ${loc}`);
          for (const f of at)
            if (f.kind !== BODY_ID_KINDS[loc])
              problems.push(`${name}: ${loc} is given a ${f.kind}, not a ${BODY_ID_KINDS[loc]}`);
        }
      }
      assert.deepEqual(problems, []);
    });

    test("beta's owner sees beta's own objects, and no answer to beta shows anything of alpha's", async () => {
      const problems: string[] = [];
      let seen = '';
      for (const op of orgOps().filter((o) => o.method === 'get')) {
        const query = ownQuery(op);
        // A parameter of fixed values (a control or criterion id) takes its first one.
        const value = (p: Param) => (p.schema.enum ? p.schema.enum[0] : ids.beta[kindOf(op, p) as Kind]);
        const path =
          op.path.replace(/\{(\w+)\}/g, (_m, name: string) =>
            name === 'org' ? 'beta' : value(op.params.find((p) => p.name === name)!),
          ) + (query ? `?${query}` : '');
        for (const role of ROLES) {
          if (!can(role, op.access as Permission)) continue;
          const r = await call(app, 'get', path, { token: beta.people[role].token });
          if (role === 'owner') {
            seen += r.text;
            if (r.status !== 200) problems.push(`owner: GET ${path} answered ${r.status} ${r.text}`);
          }
          const leak = canaries.find((c) => r.text.includes(c));
          if (leak) problems.push(`${role}: GET ${op.path} shows alpha's ${leak}`);
        }
      }
      assert.deepEqual(problems, []);
      // So every "not found" below is about the other org's id, not a wrong id of beta's own.
      for (const k of KINDS.filter((k) => !['index', 'checkpoint'].includes(k)))
        assert.ok(seen.includes(ids.beta[k]), `beta's own ${k} ${ids.beta[k]} is listed nowhere`);
    });

    test("alpha's ids under beta's own path, in paths, bodies and filters: not found (or forbidden) for every role, as if they did not exist, and nothing changes", async () => {
      const before = await settled();
      const problems: string[] = [];
      let tried = 0;
      for (const op of orgOps()) {
        const name = `${op.method} ${op.path}`;
        const pathKinds = op.params
          .filter((p) => p.in === 'path')
          .flatMap((p) => {
            const k = kindOf(op, p);
            return k ? [{ name: p.name, kind: k as Kind }] : [];
          });
        const queryKinds = op.params
          .filter((p) => p.in === 'query')
          .flatMap((p) => {
            const k = kindOf(op, p);
            return k ? [{ name: p.name, kind: k as Kind }] : [];
          });
        const makers = BODIES[name] ?? [];

        // Every way to put alpha's ids in: each non-empty set of path ids, each body id, each filter.
        type Case = { foreign: Set<string>; maker?: (id: Ids) => Json; bodyKind?: Kind; query?: string };
        const cases: Case[] = [];
        for (let mask = 1; mask < 1 << pathKinds.length; mask++)
          cases.push({
            foreign: new Set(pathKinds.filter((_p, i) => mask & (1 << i)).map((p) => p.name)),
            ...(makers[0] ? { maker: makers[0] } : {}),
          });
        for (const maker of makers)
          for (const k of new Set(markedPaths(maker(MARKERS)).map((f) => f.kind)))
            cases.push({ foreign: new Set(), maker, bodyKind: k });
        for (const q of queryKinds) cases.push({ foreign: new Set(), query: q.name });

        for (const c of cases) {
          const request = (which: 'foreign' | 'missing') => {
            const pick = (k: Kind, isForeign: boolean) =>
              !isForeign ? ids.beta[k] : which === 'foreign' ? ids.alpha[k] : missing(ids.alpha[k]);
            let path = op.path.replace(/\{(\w+)\}/g, (_m, p: string) => {
              if (p === 'org') return 'beta';
              const k = pathKinds.find((x) => x.name === p)!.kind;
              return pick(k, c.foreign.has(p));
            });
            const query = new URLSearchParams(ownQuery(op));
            if (c.query) query.set(c.query, pick(queryKinds.find((x) => x.name === c.query)!.kind, true));
            if (query.size) path += `?${query}`;
            const body = c.maker?.(
              Object.fromEntries(KINDS.map((k) => [k, pick(k, k === c.bodyKind)])) as Ids,
            );
            return { path, body };
          };
          const what = c.query
            ? `?${c.query}`
            : c.bodyKind
              ? `body ${c.bodyKind}`
              : `{${[...c.foreign].join('}, {')}}`;
          for (const role of ROLES) {
            tried++;
            const f = request('foreign');
            const m = request('missing');
            const token = beta.people[role].token;
            const got = await call(app, op.method, f.path, { token, body: f.body });
            const absent = await call(app, op.method, m.path, { token, body: m.body });
            const said = (r: typeof got) =>
              r.status >= 400 ? `${r.status} ${r.body?.error?.code}` : `${r.status} ${r.text}`;
            const where = `${role} ${name} with alpha's ${what}`;
            // An error may repeat the id the caller gave; anything else of alpha's is a leak.
            const given = JSON.stringify(f);
            const leak = canaries.find((x) => got.text.includes(x) && !given.includes(x));
            if (leak) problems.push(`${where}: the answer shows alpha's ${leak}`);
            if (!can(role as Role, op.access as Permission)) {
              if (got.status !== 403 || got.body?.error?.code !== 'forbidden')
                problems.push(`${where}: ${said(got)}, expected 403 forbidden`);
              continue;
            }
            // A GET's filter may match nothing (200); any other id given must be refused.
            const filter = c.query !== undefined && op.method === 'get';
            if (!filter && ![403, 404].includes(got.status)) problems.push(`${where}: ${said(got)}`);
            if (got.status >= 500) problems.push(`${where}: ${said(got)}`);
            if (said(got) !== said(absent))
              problems.push(`${where}: ${said(got)}, but for an id that exists nowhere ${said(absent)}`);
          }
        }
      }
      assert.deepEqual(problems, []);
      assert.ok(tried > 200, `only ${tried} requests tried`);
      assert.deepEqual(
        snapshotDiff(before, await databaseSnapshot(t.store)),
        [],
        'refused requests changed data',
      );
    });

    test('no credential: every non-public route answers 401', async () => {
      const before = await settled();
      for (const op of ops.filter((o) => o.access !== 'public')) {
        const r = await call(app, op.method, fill(op.path, 'alpha', 'real'), op.hasBody ? { body: {} } : {});
        assert.equal(r.status, 401, `${op.method} ${op.path} without a token answered ${r.status}`);
        assert.equal(r.body.error.code, 'unauthenticated');
      }
      assert.deepEqual(snapshotDiff(before, await databaseSnapshot(t.store)), []);
    });

    test("another org's token: alpha's routes answer 404 and leak nothing", async () => {
      const before = await settled();
      for (const op of orgOps()) {
        for (const role of ROLES) {
          const r = await call(app, op.method, fill(op.path, 'alpha', 'real'), {
            token: beta.people[role].token,
            ...(op.hasBody ? { body: {} } : {}),
          });
          assert.equal(r.status, 404, `beta ${role} on ${op.method} ${op.path} answered ${r.status}`);
          assert.equal(r.body.error.code, 'org_not_found');
          assert.ok(!canaries.some((c) => r.text.includes(c)), 'alpha data leaked');
        }
      }
      assert.deepEqual(snapshotDiff(before, await databaseSnapshot(t.store)), []);
    });

    test('the auditor role can change nothing: it holds only read permissions (and may comment on access reviews); every other non-GET org route refuses it', async () => {
      for (const [perm, roles] of Object.entries(PERMISSIONS)) {
        if ((roles as readonly string[]).includes('auditor') && !AUDITOR_WRITES.has(perm))
          assert.match(perm, /\.read$/, `auditors hold ${perm}`);
      }
      for (const op of ops.filter((o) => o.method !== 'get' && o.path.startsWith('/api/v1/orgs/{org}'))) {
        const before = await settled();
        const r = await call(app, op.method, fill(op.path, 'alpha', 'real'), {
          token: alpha.people.auditor.token,
          ...(op.hasBody ? { body: {} } : {}),
        });
        // A POST that only reads (a dry-run check) may answer; nothing may change either way.
        if (!String(op.access).endsWith('.read') && !AUDITOR_WRITES.has(op.access))
          assert.equal(r.status, 403, `auditor on ${op.method} ${op.path} answered ${r.status}`);
        assert.deepEqual(
          snapshotDiff(before, await databaseSnapshot(t.store)),
          [],
          `auditor changed state through ${op.method} ${op.path}`,
        );
      }
    });

    // Last: the roles' allowed calls may change alpha (stop its agents, remove its SSO settings).
    test('each role: allowed exactly where its role has the permission; refusals change nothing', async () => {
      for (const op of orgOps()) {
        for (const role of ROLES) {
          // Missing ids and empty bodies: an allowed call reaches the service and stops at 404/400.
          const path = fill(op.path, 'alpha', op.method === 'get' ? 'real' : 'missing');
          const allowed = can(role, op.access as Permission);
          const before = allowed ? undefined : await settled();
          const r = await call(app, op.method, path, {
            token: alpha.people[role].token,
            ...(op.hasBody ? { body: {} } : {}),
          });
          if (allowed) {
            assert.ok(
              ![401, 403].includes(r.status),
              `${role} on ${op.method} ${op.path} refused: ${r.text}`,
            );
            assert.notEqual(r.body?.error?.code, 'org_not_found');
            assert.ok(r.status < 500, `${role} on ${op.method} ${path}: ${r.status} ${r.text}`);
          } else {
            assert.equal(
              r.status,
              403,
              `${role} on ${op.method} ${op.path} answered ${r.status}, expected 403`,
            );
            assert.equal(r.body.error.code, 'forbidden');
            assert.deepEqual(
              snapshotDiff(before!, await databaseSnapshot(t.store)),
              [],
              `refused ${role} ${op.method} ${op.path} changed state`,
            );
          }
        }
      }
    });

    test('public routes never fail with a server error on empty input', async () => {
      for (const op of ops.filter((o) => o.access === 'public')) {
        const r = await call(
          app,
          op.method,
          fill(op.path, 'alpha', 'missing'),
          op.hasBody ? { body: {} } : {},
        );
        assert.ok(r.status < 500, `${op.method} ${op.path} answered ${r.status}: ${r.text}`);
      }
    });
  });
}
