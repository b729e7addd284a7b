/**
 * A cell restart as an operator sees it, end to end (both engines, a real bubblewrap cell, real
 * HTTP): the org's cell process is killed mid-run (as the kernel's OOM killer would), and the
 * supervisor brings it back; `/metrics` (with the scrape token, parsed as Prometheus text) counts
 * the restart and shows the cell's state; the server log says so at warn; the org's audit log and
 * the cell's health history record the exit and the restart; the run it killed failed as
 * `cell_gone`, and a run with a tool call afterwards completes. Then three restarts in a row: the
 * restart-loop alert rule of docs/monitoring, evaluated over the scrapes, fires on the third.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { createLogger } from '../log/index.ts';
import { METRICS } from '../telemetry/index.ts';
import { call, type SeededOrg, seedOrg, useModelServer } from '../testing/fixtures.ts';
import { type ModelServer, type ModelTurn, startModelServer } from '../testing/model-server/index.ts';
import { descendantNamed, NODE } from '../testing/processes.ts';
import { type Family, parsePrometheusText, total } from '../testing/prometheus-text.ts';
import { readPromQL } from '../testing/promql.ts';
import { addStdioConnection, agentWithToken, type ServedPaddock, servePaddock } from '../testing/served.ts';
import { STORE_KINDS } from '../testing/stores.ts';
import { until } from '../testing/until.ts';

const KEY = 'sk-restart-e2e-4f2a9c01d7b3e865';
const SCRAPE = 'scrape-restart-e2e-93c1d07b5a';

interface AlertRule {
  alert: string;
  expr: string;
  annotations: Record<string, string>;
}
const alertRules = (): AlertRule[] =>
  (
    parseYaml(readFileSync(new URL('../../docs/monitoring/paddock-alerts.yml', import.meta.url), 'utf8')) as {
      groups: Array<{ rules: AlertRule[] }>;
    }
  ).groups.flatMap((g) => g.rules);

for (const kind of STORE_KINDS) {
  describe(`a cell restart as an operator sees it [${kind}]`, () => {
    let p: ServedPaddock;
    let models: ModelServer;
    let acme: SeededOrg;
    let agentId: string;
    const logs: Array<Record<string, any>> = [];
    const scripts = new Map<string, ModelTurn[]>();
    /** A model turn held back until the test lets it go (a run in flight). */
    let held: { arrived: () => void; release: Promise<void> } | undefined;
    /** The restart counter of acme's cell at each scrape, in order: what Prometheus would store. */
    const restartSeries: number[] = [];

    const api = (method: 'get' | 'post', path: string, body?: unknown) =>
      call(p.app, method, `/api/v1/orgs/acme${path}`, {
        token: acme.people.admin.token,
        ...(body === undefined ? {} : { body }),
      });
    const scrape = async (): Promise<Family[]> => {
      const r = await fetch(`${p.url}/metrics`, { headers: { authorization: `Bearer ${SCRAPE}` } });
      assert.equal(r.status, 200);
      const families = parsePrometheusText(await r.text());
      restartSeries.push(total(families, METRICS.cellRestarts, { org: acme.id }));
      return families;
    };
    const cell = async () => {
      const r = await api('get', '/cell');
      assert.equal(r.status, 200, r.text);
      return r.body.cell as { state: string; pid: number | null; restarts: number };
    };
    /** Kills the program inside the cell's sandbox (not the launcher): what an OOM kill does. */
    const killCell = async () => {
      const { pid } = await cell();
      assert.ok(pid, 'the cell runs');
      process.kill(await descendantNamed(pid, NODE), 'SIGKILL');
      return pid;
    };
    /** Waits for the supervisor to have the cell back: ready, in another process. */
    const back = (oldPid: number) =>
      until(
        async () => {
          const c = await cell();
          return c.state === 'ready' && c.pid !== null && c.pid !== oldPid ? c : undefined;
        },
        { what: 'the cell back, ready', timeoutMs: 20_000 },
      );

    before(async () => {
      models = await startModelServer(async (req) => {
        if (req.lastUserText === 'hold on' && held) {
          held.arrived();
          await held.release;
        }
        return scripts.get(req.lastUserText)?.shift() ?? { text: 'nothing scripted' };
      });
      const sink = { write: (s: string) => void logs.push(JSON.parse(s)) };
      p = await servePaddock(kind, {
        env: { PADDOCK_METRICS_TOKEN: SCRAPE },
        log: createLogger({ level: 'info', destination: sink }),
      });
      acme = await seedOrg(p.t.store, 'acme');
      await useModelServer(p.app, acme, models.url, KEY);
      const everything = await addStdioConnection(p.app, acme);
      agentId = (
        await agentWithToken(p.app, acme, {
          name: 'helper',
          grants: [{ connectionId: everything, tool: 'echo' }],
        })
      ).id;
    });

    after(async () => {
      await p?.close();
      await models?.close();
    });

    test('killed mid-run, the cell comes back; metrics, the log, the audit log and the history say so; the next run with a tool call completes', async () => {
      scripts.set('warm up', [{ text: 'Ready.' }]);
      assert.equal(
        (await api('post', `/agents/${agentId}/runs`, { message: 'warm up' })).body.status,
        'completed',
      );
      const earlier = await scrape();
      assert.equal(total(earlier, METRICS.cellState, { org: acme.id, state: 'ready' }), 1);
      assert.equal(
        total(earlier, METRICS.cellRestarts, { org: acme.id }),
        0,
        'exported at 0 before any restart',
      );
      const logsBefore = logs.length;

      // A run in flight, its model call held, when the cell's process is killed.
      let arrived!: () => void;
      const inModel = new Promise<void>((r) => (arrived = r));
      let release!: () => void;
      held = { arrived, release: new Promise<void>((r) => (release = r)) };
      scripts.set('hold on', [{ text: 'too late' }]);
      const flying = await api('post', `/agents/${agentId}/runs`, { message: 'hold on', wait: false });
      assert.equal(flying.status, 202, flying.text);
      await inModel;
      const oldPid = await killCell();
      const ended = await until(
        async () => {
          const r = (await api('get', `/runs/${flying.body.id}`)).body.run;
          return r.status !== 'running' ? r : undefined;
        },
        { what: 'the killed run ended' },
      );
      assert.deepEqual([ended.status, ended.error.code], ['failed', 'cell_gone']);
      release();
      held = undefined;

      const now = await back(oldPid);
      assert.equal(now.restarts, 1);

      // Metrics: one restart, the cell ready (one state at a time), the run that went with it.
      const later = await scrape();
      const org = acme.id;
      assert.equal(total(later, METRICS.cellRestarts, { org }), 1);
      assert.equal(total(later, METRICS.cellState, { org, state: 'ready' }), 1);
      assert.equal(total(later, METRICS.cellState, { org }), 1, 'one state at a time');
      assert.equal(
        total(later, METRICS.runsFailed, { org, reason: 'cell_gone' }) -
          total(earlier, METRICS.runsFailed, { org, reason: 'cell_gone' }),
        1,
      );

      // The server log: a warning naming the org and why, with the restart count and the wait.
      const warned = logs.slice(logsBefore).filter((l) => l.msg === 'cell went away; restarting it');
      assert.equal(warned.length, 1, JSON.stringify(logs.slice(logsBefore)));
      assert.equal(warned[0]!.level, 40, 'at warn');
      assert.equal(warned[0]!.orgId, org);
      assert.equal(warned[0]!.restarts, 1);
      assert.equal(typeof warned[0]!.delayMs, 'number');
      assert.match(warned[0]!.why, /^(killed \(SIGKILL\)|exited \(\d+\))$/);
      assert.ok(!JSON.stringify(logs).includes(KEY), 'no model key in the log');

      // The org's audit log, through its API: the exit, the restart and the new start, by the supervisor.
      const audit = await api('get', '/audit?action=cell.*&order=asc&limit=500');
      assert.equal(audit.status, 200, audit.text);
      const events = audit.body.events as Array<{
        action: string;
        actor: { type: string; id: string };
        details: any;
      }>;
      const exited = events.findLastIndex((e) => e.action === 'cell.exited');
      assert.ok(exited >= 0, events.map((e) => e.action).join(','));
      const sequence = events.slice(exited).map((e) => e.action);
      assert.deepEqual(
        sequence.slice(0, 3),
        ['cell.exited', 'cell.restarting', 'cell.started'],
        sequence.join(','),
      );
      for (const e of events.slice(exited, exited + 3))
        assert.deepEqual(e.actor, { type: 'system', id: 'cell-supervisor' });
      assert.equal(events[exited + 1]!.details.restarts, 1);

      // The health history (newest first) has the stop, the backoff and the way back.
      const history = await api('get', '/cell/history');
      const states = (history.body.events as Array<{ state: string }>).map((e) => e.state).reverse();
      assert.match(states.join(','), /ready,stopped,backoff,starting,ready$/, states.join(','));

      // And the org works again: a run that calls a tool through the gate completes.
      scripts.set('after the restart', [
        { toolCalls: [{ name: 'everything__echo', args: { message: 'periwinkle' } }] },
        { text: 'It said periwinkle.' },
      ]);
      const again = await api('post', `/agents/${agentId}/runs`, { message: 'after the restart' });
      assert.equal(again.body.status, 'completed', again.text);
      const toolResult = models.requests.at(-1)!.toolResults.at(-1)!;
      assert.match(toolResult.output, /periwinkle/);
    });

    test('three restarts in a row: the restart-loop alert, evaluated over the scrapes, fires on the third and names the org', async () => {
      const rules = alertRules();
      const loop = rules.find((r) => r.alert === 'PaddockCellRestartLoop');
      assert.ok(loop, 'the restart-loop rule is there');
      const e = readPromQL(loop.expr, () => new Set(['org', 'instance', 'job']));
      assert.equal(e.selectors.length, 1);
      assert.equal(e.selectors[0]!.metric, METRICS.cellRestarts, 'it reads the metric Paddock exports');
      assert.equal(e.selectors[0]!.rangeFunction, 'increase');
      const m = /^increase\(\w+\[(\d+)m\]\)\s*>=\s*(\d+)$/.exec(loop.expr.trim());
      assert.ok(m, `an increase over minutes against a threshold: ${loop.expr}`);
      const [windowMinutes, threshold] = [Number(m[1]), Number(m[2])];
      assert.ok(e.resultLabels?.has('org'), 'its result keeps org, which the summary names');
      assert.match(loop.annotations.summary!, /\$labels\.org/);

      const start = Date.now();
      // The first test scraped before its restart (0) and after (1): the window opens at 0.
      assert.deepEqual(restartSeries, [0, 1]);
      for (let i = 0; restartSeries.at(-1)! < threshold && i < threshold; i++) {
        const oldPid = await killCell();
        await back(oldPid);
        const families = await scrape();
        // The series the rule reads carries the org's id as its `org` label.
        assert.ok(
          families
            .find((f) => f.name === METRICS.cellRestarts)
            ?.samples.some((s) => s.labels.org === acme.id),
        );
      }
      assert.ok(Date.now() - start < windowMinutes * 60_000, 'all within the rule’s window');
      assert.deepEqual(
        restartSeries,
        Array.from({ length: threshold + 1 }, (_, i) => i),
        'each restart counted once',
      );
      // `increase` over the window at each scrape (one process: the counter never resets).
      const firing = restartSeries.map((v) => v - restartSeries[0]! >= threshold);
      assert.deepEqual(
        firing,
        restartSeries.map((_, i) => i === threshold),
        `it fires at the ${threshold}th restart in the window, not before`,
      );

      // The not-ready rule matches states the real series take.
      const notReady = rules.find((r) => r.alert === 'PaddockCellNotReady');
      assert.ok(notReady);
      const families = await scrape();
      const states = new Set(
        families
          .find((f) => f.name === METRICS.cellState)!
          .samples.filter((s) => s.labels.org === acme.id)
          .map((s) => s.labels.state),
      );
      const matcher = readPromQL(notReady.expr, () => new Set(['org', 'state'])).selectors[0]!.matchers.find(
        (x) => x.label === 'state',
      )!;
      for (const v of matcher.value.split('|')) assert.ok(states.has(v), `${v} is a state the series takes`);
    });
  });
}
