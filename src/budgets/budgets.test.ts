/**
 * Limits and budgets, end to end: agents in a real org cell (bubblewrap) against a scripted
 * model that reports its usage, on SQLite and PostgreSQL. Fifty runs at once against a token
 * budget and against a spend budget: what the provider served never exceeds the budget by more
 * than one call's reservation. An unpriced model under a spend budget, runs a minute and tool
 * calls a run are refused with a clear message and an audit entry; settings are validated,
 * only owners and admins change them, and every change is on record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bubblewrap } from '../cells/index.ts';
import { call, createApp, type SeededOrg, seedOrg, testDeps, useModelServer } from '../testing/fixtures.ts';
import { type ModelServer, startModelServer } from '../testing/model-server/index.ts';
import { addStdioConnection } from '../testing/served.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { counter, reserve } from './ledger.ts';
import { periodOf } from './limits.ts';

const KEY = 'sk-budgets-e2e-71c3a09be5d24f18';
/** What the scripted model reports for each call (and so what the provider "billed"). */
const USAGE = { input: 30, output: 20 };
const MAX_OUTPUT = 20;

for (const kind of STORE_KINDS) {
  describe(`limits and budgets [${kind}]`, () => {
    let t: TestStore;
    let deps: ReturnType<typeof testDeps>;
    let app: ReturnType<typeof createApp>;
    let models: ModelServer;
    let acme: SeededOrg;
    let everything: string;

    const api = (
      method: 'get' | 'post' | 'patch' | 'put' | 'delete',
      path: string,
      body?: unknown,
      token?: string,
    ) =>
      call(app, method, `/api/v1/orgs/acme${path}`, {
        token: token ?? acme.people.admin.token,
        ...(body === undefined ? {} : { body }),
      });

    before(async () => {
      const check = await bubblewrap.check();
      assert.ok(check.ok, `bubblewrap is needed: ${check.reason}`);
      models = await startModelServer((req) => {
        if (req.lastUserText === 'two tools' && req.toolResults.length < 2)
          return {
            toolCalls: [{ name: 'everything__echo', args: { message: `n${req.toolResults.length}` } }],
          };
        return { text: 'Done.', usage: USAGE };
      });
      t = await openTestStore(kind);
      deps = testDeps(t.store, t.home, {}, { provider: bubblewrap, problem: null });
      deps.audit.start();
      app = createApp(deps);
      acme = await seedOrg(t.store, 'acme');
      await useModelServer(app, acme, models.url, KEY);
      everything = await addStdioConnection(app, acme, { by: acme.people.admin.token });
    });

    after(async () => {
      await models?.close();
      await t?.cleanup();
    });

    const newAgent = async (name: string, model: string, limits: Record<string, unknown>) => {
      const r = await api('post', '/agents', {
        name,
        scope: 'organization',
        instructions: 'Answer.',
        model: { provider: 'openai', model, maxOutputTokens: MAX_OUTPUT },
        limits,
      });
      assert.equal(r.status, 201, r.text);
      return r.body.id as string;
    };
    const runOf = (agentId: string, message: string) =>
      api('post', `/agents/${agentId}/runs`, { message }, acme.people.member.token);
    const entries = async (action: string) => {
      await deps.audit.flush();
      const r = await api('get', `/audit?action=${action}&limit=500`, undefined, acme.people.owner.token);
      assert.equal(r.status, 200, r.text);
      return r.body.events as Array<{ runId: string | null; target: { id: string }; details: any }>;
    };
    /** Fifty runs at once; what the provider served them, and how each ended. */
    const fifty = async (agentId: string, message: string) => {
      const before = models.requests.filter((r) => r.model === message).length;
      const runs = await Promise.all(Array.from({ length: 50 }, () => runOf(agentId, message)));
      const served = models.requests.filter((r) => r.model === message).length - before;
      return { runs: runs.map((r) => r.body), served };
    };

    test('fifty concurrent reservations in the database: exactly as many fit as the limit allows', async () => {
      const k = { orgId: acme.id, agentId: 'agt_ledger', kind: 'tokens' as const, period: '2026-12-05' };
      const granted = await Promise.all(Array.from({ length: 50 }, () => reserve(t.store.db, k, 70, 1000)));
      assert.equal(granted.filter(Boolean).length, 14);
      assert.deepEqual(await counter(t.store.db, k), { used: 0, reserved: 980 });
    });

    test('a token budget under fifty concurrent runs: never exceeded by more than one call’s reservation', async () => {
      const budget = 1000;
      const agentId = await newAgent('tokens', 'gpt-tokens', { tokensPerDay: budget });
      const { runs, served } = await fifty(agentId, 'gpt-tokens');
      const billed = served * (USAGE.input + USAGE.output);
      const completed = runs.filter((r) => r.status === 'completed');
      const refused = runs.filter((r) => r.error?.code === 'token_limit');
      assert.ok(completed.length > 0 && refused.length > 0, JSON.stringify(runs.map((r) => r.error?.code)));
      assert.equal(completed.length + refused.length, 50, JSON.stringify(runs.map((r) => r.error)));
      // A reservation is the input estimate plus the output bound: under 200 tokens here.
      assert.ok(billed <= budget + 200, `the provider served ${billed} tokens against a budget of ${budget}`);
      assert.equal(served, completed.length, 'a refused run never reached the provider');
      assert.match(refused[0].error.message, /budget of 1000 tokens a day/);
      const used = await counter(t.store.db, {
        orgId: acme.id,
        agentId,
        kind: 'tokens',
        period: periodOf.day(new Date()),
      });
      assert.deepEqual(used, { used: billed, reserved: 0 }, 'settled with the usage the provider reported');
      const reached = (await entries('agent.limit.reached')).filter((e) => e.target.id === agentId);
      assert.deepEqual(new Set(reached.map((e) => e.runId)), new Set(refused.map((r) => r.id)));
      assert.equal(reached[0]!.details.limit, 'tokensPerDay');
    });

    test('a spend budget under fifty concurrent runs, priced from the org’s own table', async () => {
      const price = await api('put', '/model-prices', {
        provider: 'openai',
        model: 'gpt-spend',
        inputPerMTok: 10,
        outputPerMTok: 30,
      });
      assert.equal(price.status, 200, price.text);
      const perCall = USAGE.input * 10 + USAGE.output * 30; // micro-dollars
      const agentId = await newAgent('spender', 'gpt-spend', { spend: { usd: 0.01, per: 'month' } });
      const { runs, served } = await fifty(agentId, 'gpt-spend');
      const refused = runs.filter((r) => r.error?.code === 'budget_exceeded');
      assert.ok(served > 0 && refused.length > 0, JSON.stringify(runs.map((r) => r.error?.code)));
      assert.equal(served + refused.length, 50);
      // One reservation here: at most (input estimate + 20) tokens at these prices, under 3,000 micro-dollars.
      assert.ok(served * perCall <= 10_000 + 3_000, `served ${served} calls of ${perCall} µ$`);
      assert.match(refused[0].error.message, /spend budget of \$0\.01 a month/);
      const set = (await entries('model_price.set')).at(-1)!;
      assert.equal(set.target.id, 'openai/gpt-spend');
      assert.deepEqual(set.details.after, {
        provider: 'openai',
        model: 'gpt-spend',
        inputPerMTok: 10,
        outputPerMTok: 30,
        source: 'org',
      });
    });

    test('a model the price table cannot price is refused while a spend budget is set, before any call', async () => {
      const agentId = await newAgent('unpriced', 'gpt-unpriced', { spend: { usd: 5, per: 'day' } });
      const before = models.requests.length;
      const r = await runOf(agentId, 'hi');
      assert.equal(r.body.status, 'failed', r.text);
      assert.equal(r.body.error.code, 'model_unpriced');
      assert.match(r.body.error.message, /no price for openai\/gpt-unpriced/);
      assert.equal(models.requests.length, before, 'the provider was not called');
      const reached = (await entries('agent.limit.reached')).find((e) => e.runId === r.body.id);
      assert.equal(reached?.details.code, 'model_unpriced');
    });

    test('runs a minute: the run over the limit does not start, with a clear refusal on record', async () => {
      const agentId = await newAgent('rate', 'gpt-rate', { runsPerMinute: 2 });
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await runOf(agentId, 'hi'));
      assert.deepEqual(
        results.map((r) => r.status),
        [200, 200, 429],
      );
      assert.equal(results[2]!.body.error.code, 'run_rate_limit');
      assert.match(results[2]!.body.error.message, /2 runs a minute/);
      const reached = (await entries('agent.limit.reached')).filter((e) => e.target.id === agentId);
      assert.equal(reached.length, 1);
      assert.equal(reached[0]!.runId, null);
    });

    test('tool calls a run: the call over the limit never runs and the run ends failed, saying why', async () => {
      const agentId = await newAgent('tools', 'gpt-tools', { toolCallsPerRun: 1 });
      assert.equal(
        (await api('post', `/agents/${agentId}/grants`, { connectionId: everything, tool: 'echo' })).status,
        201,
      );
      const r = await runOf(agentId, 'two tools');
      assert.equal(r.body.status, 'failed', r.text);
      assert.equal(r.body.error.code, 'tool_call_limit');
      assert.match(r.body.error.message, /limit of 1 tool call a run/);
      await deps.audit.flush();
      const trail = (await api('get', `/runs/${r.body.id}`)).body.audit as Array<{ action: string }>;
      assert.equal(
        trail.filter((e) => e.action === 'tool.call.allowed').length,
        1,
        'the second call did not run',
      );
      assert.ok(trail.some((e) => e.action === 'agent.limit.reached'));
    });

    test('limits are validated, set by owners and admins only, and every change is on record', async () => {
      const agentId = await newAgent('settings', 'gpt-4o', {});
      for (const limits of [
        { tokensPerDay: -1 },
        { runsPerMinute: 1.5 },
        { spend: { usd: 5 } },
        { spend: { usd: 5, per: 'week' } },
        { toolsPerRun: 3 },
      ]) {
        const r = await api('patch', `/agents/${agentId}`, { limits });
        assert.equal(r.status, 400, `${JSON.stringify(limits)}: ${r.text}`);
      }
      const member = await api(
        'post',
        '/agents',
        {
          name: 'mine',
          scope: 'private',
          instructions: 'x',
          model: { provider: 'openai', model: 'gpt-4o' },
        },
        acme.people.member.token,
      );
      assert.equal(member.status, 201, member.text);
      const lift = await api(
        'patch',
        `/agents/${member.body.id}`,
        { limits: { tokensPerDay: 10 } },
        acme.people.member.token,
      );
      assert.equal(lift.status, 403, lift.text);
      assert.equal(
        (await api('get', `/agents/${agentId}`)).body.limits.tokensPerDay,
        undefined,
        'nothing changed',
      );
      const ok = await api('patch', `/agents/${agentId}`, {
        limits: { tokensPerDay: 5000, spend: { usd: 20, per: 'day' } },
      });
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual(ok.body.limits, { tokensPerDay: 5000, spend: { usd: 20, per: 'day' } });
      const updated = (await entries('agent.updated')).filter((e) => e.target.id === agentId).at(-1)!;
      assert.deepEqual(updated.details.changes.limits, {
        before: {},
        after: { tokensPerDay: 5000, spend: { usd: 20, per: 'day' } },
      });
      const bad = await api('put', '/model-prices', {
        provider: 'openai',
        model: 'gpt-x',
        inputPerMTok: -1,
        outputPerMTok: 1,
      });
      assert.equal(bad.status, 400, bad.text);
      const byMember = await api(
        'put',
        '/model-prices',
        { provider: 'openai', model: 'gpt-x', inputPerMTok: 1, outputPerMTok: 1 },
        acme.people.member.token,
      );
      assert.equal(byMember.status, 403, byMember.text);
      const table = (await api('get', '/model-prices')).body.prices as Array<{
        model: string;
        source: string;
      }>;
      assert.ok(table.some((p) => p.model === 'gpt-4o' && p.source === 'default'));
      assert.ok(!table.some((p) => p.model === 'gpt-x'));
      const own = await api('put', '/model-prices', {
        provider: 'openai',
        model: 'gpt-4o',
        inputPerMTok: 2,
        outputPerMTok: 9,
      });
      assert.equal(own.status, 200, own.text);
      assert.equal((await api('delete', '/model-prices?provider=openai&model=gpt-4o')).status, 204);
      const back = (await api('get', '/model-prices')).body.prices.find(
        (p: { model: string }) => p.model === 'gpt-4o',
      );
      assert.deepEqual([back.source, back.inputPerMTok], ['default', 2.5]);
      const removed = (await entries('model_price.removed')).at(-1)!;
      assert.equal(removed.target.id, 'openai/gpt-4o');
      assert.equal((await api('delete', '/model-prices?provider=openai&model=gpt-4o')).status, 404);
    });

    test('the org-wide usage for the Overview: runs, tokens and spend today and this month', async () => {
      const r = await api('get', '/usage', undefined, acme.people.auditor.token);
      assert.equal(r.status, 200, r.text);
      assert.ok(r.body.today.runs > 0 && r.body.today.inputTokens > 0, r.text);
      assert.ok(r.body.month.spendUsd > 0, 'the spend agent is priced');
      assert.ok(r.body.month.unpricedTokens > 0, 'gpt-tokens has no price');
      assert.ok(r.body.month.runs >= r.body.today.runs);
    });
  });
}
