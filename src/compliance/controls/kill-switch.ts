/**
 * PAD-KILL-01 — the kill switch. Stopping an agent (or an org) refuses its calls from the stop's
 * commit on and ends its runs. Evidence from the log: every stop of the period with the time to
 * halt (from the stop entry to the last run it ended), and any call the gate allowed to a
 * stopped agent (there must be none); and the kill-switch drills with their measured halts.
 */
import type { FigureEntry } from '../figures.ts';
import {
  type CollectorContext,
  count,
  DAY_MS,
  type Draft,
  dataOf,
  figureDraft,
  type PaddockControl,
  stateDraft,
  wholeLog,
} from './context.ts';

/** A drill whose agent took longer than this to halt failed. */
export const HALT_LIMIT_MS = 10_000;
/** A drill is expected at least this often. */
export const DRILL_EVERY_DAYS = 90;

interface Stop {
  index: number;
  time: string;
  scope: 'agent' | 'org';
  agent: string | null;
  by: string;
  runsEnded: number;
  msToHalt: number;
}

interface Stops {
  value: Record<string, number>;
  stops: Stop[];
  callsWhileStopped: Array<{ index: number; time: string; agent: string; stopIndex: number }>;
  /** Stops in force when the period's entries begin (entries before the range, named by index). */
  openBefore?: Stop[];
}

interface Drills {
  drills: Array<{ id: string; heldAt: string; outcome: string; agent: string; msToHalt: number | null }>;
  latestAt: string | null;
  daysSinceLatest: number | null;
}

const ms = (t: string) => Date.parse(t);

const STOP_ACTIONS = ['agent.stopped', 'agent.resumed', 'org.agents.stopped', 'org.agents.resumed'];

/**
 * Stops, halts and calls while stopped, in one pass over the slice. `openBefore` are the stops
 * still in force when the slice begins (from earlier entries): a call allowed in the slice to an
 * agent stopped yesterday counts too.
 */
export function stopsIn(entries: Iterable<FigureEntry>, openBefore: Stop[] = []): Omit<Stops, 'value'> {
  const stops: Stop[] = [];
  // Open stops by agent id ('*' for the org), with the stop they belong to.
  const open = new Map<string, Stop>(openBefore.map((s) => [s.agent ?? '*', { ...s }]));
  const calls: Stops['callsWhileStopped'] = [];
  for (const e of entries) {
    const agent = e.target?.type === 'agent' ? e.target.id : null;
    if ((e.action === 'agent.stopped' && agent) || e.action === 'org.agents.stopped') {
      const s: Stop = {
        index: e.index,
        time: e.time,
        scope: agent && e.action === 'agent.stopped' ? 'agent' : 'org',
        agent: e.action === 'agent.stopped' ? agent : null,
        by: `${e.actor.type}:${e.actor.id}`,
        runsEnded: 0,
        msToHalt: 0,
      };
      stops.push(s);
      open.set(s.agent ?? '*', s);
    } else if (e.action === 'agent.resumed' && agent) open.delete(agent);
    else if (e.action === 'org.agents.resumed') open.delete('*');
    else if (e.action === 'run.stopped' && e.actor.type === 'agent') {
      const s = open.get(e.actor.id) ?? open.get('*');
      if (s && e.time >= s.time) {
        s.runsEnded++;
        s.msToHalt = Math.max(s.msToHalt, ms(e.time) - ms(s.time));
      }
    } else if (e.action === 'tool.call.allowed' && e.actor.type === 'agent') {
      const s = open.get(e.actor.id) ?? open.get('*');
      if (s && e.time > s.time && calls.length < 50)
        calls.push({ index: e.index, time: e.time, agent: e.actor.id, stopIndex: s.index });
    }
  }
  return { stops, callsWhileStopped: calls };
}

/**
 * The stops in force where the collection's slice begins: the stop and resume entries before
 * it (few, read by action), replayed. Each is named by its index, under the same checkpoint.
 */
async function stopsOpenAt(ctx: CollectorContext): Promise<Stop[]> {
  const start = ctx.log.snapshot.range[0];
  if (start === 0) return [];
  const rows = await ctx.db
    .selectFrom('audit_entries')
    .select(['idx', 'time', 'action', 'actor_type', 'actor_id', 'target_type', 'target_id'])
    .where('log_id', '=', ctx.orgId)
    .where('action', 'in', STOP_ACTIONS)
    .where('idx', '<', start)
    .orderBy('idx')
    .execute();
  const open = new Map<string, Stop>();
  for (const r of rows) {
    const agent = r.target_type === 'agent' ? r.target_id : null;
    if (r.action === 'agent.stopped' && agent)
      open.set(agent, {
        index: Number(r.idx),
        time: r.time,
        scope: 'agent',
        agent,
        by: `${r.actor_type}:${r.actor_id}`,
        runsEnded: 0,
        msToHalt: 0,
      });
    else if (r.action === 'org.agents.stopped')
      open.set('*', {
        index: Number(r.idx),
        time: r.time,
        scope: 'org',
        agent: null,
        by: `${r.actor_type}:${r.actor_id}`,
        runsEnded: 0,
        msToHalt: 0,
      });
    else if (r.action === 'agent.resumed' && agent) open.delete(agent);
    else if (r.action === 'org.agents.resumed') open.delete('*');
  }
  return [...open.values()];
}

async function drills(ctx: CollectorContext): Promise<Draft> {
  const since = new Date(ctx.now.getTime() - 365 * DAY_MS).toISOString();
  const rows = await ctx.db
    .selectFrom('compliance_exercises')
    .select(['id', 'held_at', 'outcome', 'facts'])
    .where('org_id', '=', ctx.orgId)
    .where('kind', '=', 'kill_switch_drill')
    .where('held_at', '>=', since)
    .orderBy('held_at', 'desc')
    .execute();
  const size = ctx.log.snapshot.treeSize;
  const list = rows.flatMap((r) => {
    const f = JSON.parse(r.facts) as {
      agent?: string;
      msToHalt?: number | null;
      startIndex?: number;
      stopIndex?: number | null;
      runEnds?: Array<{ index: number }>;
    };
    const indexes = [f.startIndex ?? 0, f.stopIndex ?? 0, ...(f.runEnds ?? []).map((e) => e.index)];
    // A drill measured from entries past the collection's checkpoint waits for the next one.
    if (Math.max(...indexes) >= size) return [];
    return [
      {
        id: r.id,
        heldAt: r.held_at,
        outcome: r.outcome,
        agent: f.agent ?? '',
        msToHalt: f.msToHalt ?? null,
        entries: {
          start: f.startIndex ?? null,
          stop: f.stopIndex ?? null,
          runEnds: f.runEnds?.map((e) => e.index) ?? [],
        },
      },
    ];
  });
  const latestAt = list[0]?.heldAt ?? null;
  // Each drill's time to halt was measured from log entries (named by index): the record carries
  // the checkpoint they are all under.
  return {
    ...stateDraft('drills.kill_switch', {
      drills: list,
      latestAt,
      daysSinceLatest: latestAt ? Math.floor((ctx.now.getTime() - ms(latestAt)) / DAY_MS) : null,
    }),
    fromLog: true,
    range: wholeLog(ctx),
  };
}

export const killSwitch: PaddockControl = {
  id: 'PAD-KILL-01',
  title: 'Kill switch',
  description:
    'One agent, or every agent of the organization, can be stopped at once: from the stop’s commit the gate refuses its calls, its runs end, and the stop is logged. Drills stop an agent on purpose and measure the time to halt from the log.',
  criteria: ['CC7.3', 'CC7.4', 'CC9.1'],
  async collect(ctx) {
    const figure = figureDraft(ctx, 'stops', {
      name: 'stops and resumes by action',
      where: { actions: STOP_ACTIONS },
      by: 'action',
    });
    const openBefore = await stopsOpenAt(ctx);
    const found = stopsIn(ctx.log.entries(), openBefore);
    return [{ ...figure, data: { ...(figure.data as object), ...found, openBefore } }, await drills(ctx)];
  },
  test(evidence) {
    const stops = dataOf<Stops>(evidence, 'stops');
    const d = dataOf<Drills>(evidence, 'drills.kill_switch');
    if (!stops || !d) return { status: 'fail', reason: 'The kill-switch evidence is missing.' };
    if (stops.callsWhileStopped.length > 0) {
      const c = stops.callsWhileStopped[0]!;
      return {
        status: 'fail',
        reason: `The gate allowed ${count(stops.callsWhileStopped.length, 'call')} of a stopped agent (first: entry #${c.index}, ${c.agent}, stopped at entry #${c.stopIndex}).`,
      };
    }
    const latest = d.drills[0];
    if (latest && latest.outcome === 'fail') {
      return {
        status: 'fail',
        reason: `The latest kill-switch drill (${latest.heldAt.slice(0, 10)}) failed: ${latest.msToHalt === null ? 'the agent did not halt' : `halt took ${latest.msToHalt} ms, over ${HALT_LIMIT_MS} ms`}.`,
      };
    }
    const longest = Math.max(0, ...stops.stops.map((s) => s.msToHalt));
    const summary = `${count(stops.stops.length, 'stop')} in the period${stops.stops.length ? `, longest time to halt ${longest} ms` : ''}, no call allowed while stopped`;
    if (!latest || (d.daysSinceLatest ?? 0) > DRILL_EVERY_DAYS) {
      return {
        status: 'warning',
        reason: `No kill-switch drill in the last ${DRILL_EVERY_DAYS} days. ${summary}.`,
      };
    }
    return {
      status: 'pass',
      reason: `${summary}; last drill ${latest.heldAt.slice(0, 10)}: halted in ${latest.msToHalt} ms.`,
    };
  },
};
