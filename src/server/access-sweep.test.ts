/**
 * Sweeps every route of the OpenAPI document with no credential, with another org's token and
 * with a token of each role, on SQLite and PostgreSQL: only what the role allows gets through,
 * nothing crosses tenants, and refused requests change nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { can, PERMISSIONS, type Permission, ROLES } from '../identity/index.ts';
import { call, createApp, type SeededOrg, seedOrg, testDeps } from '../testing/fixtures.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';

type Op = { method: string; path: string; access: string; hasBody: boolean };

async function snapshot(t: TestStore, orgId: string): Promise<string> {
  const db = t.store.db;
  const tables = await Promise.all([
    db
      .selectFrom('memberships')
      .select(['user_id', 'role'])
      .where('org_id', '=', orgId)
      .orderBy('user_id')
      .execute(),
    db
      .selectFrom('api_tokens')
      .select(['id', 'role', 'revoked_at'])
      .where('org_id', '=', orgId)
      .orderBy('id')
      .execute(),
    db.selectFrom('teams').select(['id', 'name']).where('org_id', '=', orgId).orderBy('id').execute(),
    db
      .selectFrom('team_members')
      .select(['team_id', 'user_id'])
      .where('org_id', '=', orgId)
      .orderBy('team_id')
      .execute(),
    db.selectFrom('links').select(['id', 'used_at']).where('org_id', '=', orgId).orderBy('id').execute(),
    db
      .selectFrom('sso_configs')
      .select(['issuer', 'client_id', 'updated_at'])
      .where('org_id', '=', orgId)
      .execute(),
    db.selectFrom('orgs').select(['name', 'settings']).where('id', '=', orgId).execute(),
    db.selectFrom('users').select(['id', 'password_hash']).orderBy('id').execute(),
  ]);
  return JSON.stringify(tables);
}

for (const kind of STORE_KINDS) {
  describe(`access sweep [${kind}]`, () => {
    let t: TestStore;
    let app: ReturnType<typeof createApp>;
    let alpha: SeededOrg;
    let beta: SeededOrg;
    let ops: Op[];
    const real: Record<string, string> = {};

    before(async () => {
      t = await openTestStore(kind);
      app = createApp(testDeps(t.store, t.home));
      alpha = await seedOrg(t.store, 'alpha');
      beta = await seedOrg(t.store, 'beta');
      const owner = alpha.people.owner.token;
      const team = await call(app, 'post', '/api/v1/orgs/alpha/teams', {
        token: owner,
        body: { name: 'core' },
      });
      const inv = await call(app, 'post', '/api/v1/orgs/alpha/invitations', {
        token: owner,
        body: { email: 'new@alpha.test', role: 'member' },
      });
      const tok = await call(app, 'post', '/api/v1/orgs/alpha/tokens', {
        token: owner,
        body: { name: 'ci', role: 'member' },
      });
      const sso = await call(app, 'put', '/api/v1/orgs/alpha/sso', {
        token: owner,
        body: {
          issuer: 'https://idp.alpha.test',
          clientId: 'alpha-client',
          clientSecret: 'alpha-client-secret-canary',
        },
      });
      assert.deepEqual([team.status, inv.status, tok.status, sso.status], [201, 201, 201, 200]);
      real.person = alpha.people.member.id;
      real.team = team.body.id;
      real.invitation = inv.body.invitation.id;
      real.token = tok.body.info.id;
      const doc = (await call(app, 'get', '/api/v1/openapi.json')).body;
      ops = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, op]) => ({
          method,
          path,
          access: op['x-paddock-access'],
          hasBody: op.requestBody !== undefined,
        })),
      );
    });
    after(async () => t?.cleanup());

    const fill = (path: string, org: string, ids: 'real' | 'missing') =>
      path.replace(/\{(\w+)\}/g, (_m, name: string) => {
        if (name === 'org') return org;
        return ids === 'real'
          ? (real[name] ?? `${name}_missing`)
          : `${name === 'person' ? 'usr' : name}_0000000000000000`;
      });

    test('every route declares its access, and org routes name a permission', () => {
      assert.ok(ops.length >= 20, `only ${ops.length} operations in the OpenAPI document`);
      for (const op of ops) {
        assert.ok(op.access, `${op.method} ${op.path} has no x-paddock-access`);
        if (op.path.includes('{org}') && !op.path.startsWith('/api/v1/auth/')) {
          assert.ok(
            !['public', 'signed-in'].includes(op.access),
            `${op.method} ${op.path} is org-scoped but ${op.access}`,
          );
        }
      }
    });

    test('no credential: every non-public route answers 401', async () => {
      const before = await snapshot(t, alpha.id);
      for (const op of ops.filter((o) => o.access !== 'public')) {
        const r = await call(app, op.method, fill(op.path, 'alpha', 'real'), op.hasBody ? { body: {} } : {});
        assert.equal(r.status, 401, `${op.method} ${op.path} without a token answered ${r.status}`);
        assert.equal(r.body.error.code, 'unauthenticated');
      }
      assert.equal(await snapshot(t, alpha.id), before);
    });

    test("another org's token: alpha's routes answer 404 and leak nothing", async () => {
      const before = await snapshot(t, alpha.id);
      for (const op of ops.filter((o) => typeof o.access === 'string' && o.access.includes('.'))) {
        for (const role of ROLES) {
          const r = await call(app, op.method, fill(op.path, 'alpha', 'real'), {
            token: beta.people[role].token,
            ...(op.hasBody ? { body: {} } : {}),
          });
          assert.equal(r.status, 404, `beta ${role} on ${op.method} ${op.path} answered ${r.status}`);
          assert.equal(r.body.error.code, 'org_not_found');
          assert.ok(!r.text.includes(alpha.id) && !r.text.includes('@alpha.test'), 'alpha data leaked');
        }
      }
      assert.equal(await snapshot(t, alpha.id), before);
    });

    test("alpha's ids under beta's own path are unreachable (the data layer is the wall)", async () => {
      const before = await snapshot(t, alpha.id);
      const owner = beta.people.owner.token;
      const withIds = ops.filter(
        (o) => o.path.startsWith('/api/v1/orgs/{org}/') && /\{(person|team|token|invitation)\}/.test(o.path),
      );
      assert.ok(withIds.length >= 8);
      for (const op of withIds) {
        const body =
          op.method === 'patch'
            ? op.path.includes('people')
              ? { role: 'member' }
              : { name: 'x' }
            : undefined;
        const r = await call(app, op.method, fill(op.path, 'beta', 'real'), { token: owner, body });
        assert.equal(
          r.status,
          404,
          `beta owner on ${op.method} ${op.path} with alpha ids answered ${r.status}`,
        );
        assert.ok(!r.text.includes('@alpha.test'), 'alpha data leaked');
      }
      assert.equal(await snapshot(t, alpha.id), before);
    });

    test('each role: allowed exactly where its role has the permission; refusals change nothing', async () => {
      for (const op of ops.filter((o) => typeof o.access === 'string' && o.access.includes('.'))) {
        for (const role of ROLES) {
          // Missing ids and empty bodies: an allowed call reaches the service and stops at 404/400.
          const path = fill(op.path, 'alpha', op.method === 'get' ? 'real' : 'missing');
          const allowed = can(role, op.access as Permission);
          const before = allowed ? '' : await snapshot(t, alpha.id);
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
            assert.equal(
              await snapshot(t, alpha.id),
              before,
              `refused ${role} ${op.method} ${op.path} changed state`,
            );
          }
        }
      }
    });

    test('the auditor role can change nothing: it holds only read permissions; every other non-GET org route refuses it', async () => {
      for (const [perm, roles] of Object.entries(PERMISSIONS)) {
        if ((roles as readonly string[]).includes('auditor'))
          assert.match(perm, /\.read$/, `auditors hold ${perm}`);
      }
      for (const op of ops.filter((o) => o.method !== 'get' && o.path.startsWith('/api/v1/orgs/{org}'))) {
        const before = await snapshot(t, alpha.id);
        const r = await call(app, op.method, fill(op.path, 'alpha', 'real'), {
          token: alpha.people.auditor.token,
          ...(op.hasBody ? { body: {} } : {}),
        });
        // A POST that only reads (a dry-run check) may answer; nothing may change either way.
        if (!String(op.access).endsWith('.read'))
          assert.equal(r.status, 403, `auditor on ${op.method} ${op.path} answered ${r.status}`);
        assert.equal(
          await snapshot(t, alpha.id),
          before,
          `auditor changed state through ${op.method} ${op.path}`,
        );
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
