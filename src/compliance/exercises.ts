/**
 * Exercises recorded as tests: tabletop exercises (what people rehearsed, and what they found)
 * and kill-switch drills, which Paddock runs itself — it stops a live agent through the real
 * kill switch and measures the time to halt from the log: from the `agent.stopped` entry to the
 * entry ending the last run that was in flight, and checks no call was allowed after the stop.
 */
import type { Kysely } from 'kysely';
import { requireAgentRow } from '../agents/index.ts';
import { recordChange } from '../audit/index.ts';
import { ConflictError, NotFoundError } from '../errors/index.ts';
import type { OrgContext } from '../identity/index.ts';
import { newId } from '../ids/index.ts';
import type { Database, Db } from '../store/index.ts';
import type { ComplianceExerciseTable } from '../store/schema.ts';
import { HALT_LIMIT_MS } from './controls/kill-switch.ts';

export type ExerciseKind = ComplianceExerciseTable['kind'];
export type ExerciseOutcome = ComplianceExerciseTable['outcome'];

export interface Exercise {
  id: string;
  kind: ExerciseKind;
  title: string;
  heldAt: string;
  outcome: ExerciseOutcome;
  facts: Record<string, unknown>;
  createdBy: string;
  createdAt: string;
}

const toExercise = (r: ComplianceExerciseTable): Exercise => ({
  id: r.id,
  kind: r.kind,
  title: r.title,
  heldAt: r.held_at,
  outcome: r.outcome,
  facts: JSON.parse(r.facts) as Record<string, unknown>,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

export async function listExercises(db: Db, orgId: string): Promise<Exercise[]> {
  const rows = await db
    .selectFrom('compliance_exercises')
    .selectAll()
    .where('org_id', '=', orgId)
    .orderBy('held_at', 'desc')
    .orderBy('id')
    .execute();
  return rows.map(toExercise);
}

export async function getExercise(db: Db, orgId: string, id: string): Promise<Exercise> {
  const row = await db
    .selectFrom('compliance_exercises')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new NotFoundError('exercise_not_found', 'No such exercise in this organization.');
  return toExercise(row);
}

async function insert(
  trx: Db,
  ctx: OrgContext,
  row: ComplianceExerciseTable,
  action: string,
): Promise<Exercise> {
  await trx.insertInto('compliance_exercises').values(row).execute();
  const exercise = toExercise(row);
  await recordChange(trx, ctx, { action, target: { type: 'exercise', id: row.id }, details: { exercise } });
  return exercise;
}

export interface Tabletop {
  title: string;
  heldAt: string;
  participants: string[];
  scenario: string;
  findings: string;
  outcome: ExerciseOutcome;
}

export async function recordTabletop(db: Kysely<Database>, ctx: OrgContext, t: Tabletop): Promise<Exercise> {
  return db.transaction().execute((trx) =>
    insert(
      trx,
      ctx,
      {
        id: newId('exr'),
        org_id: ctx.scope.orgId,
        kind: 'tabletop',
        title: t.title,
        held_at: t.heldAt,
        outcome: t.outcome,
        facts: JSON.stringify({ participants: t.participants, scenario: t.scenario, findings: t.findings }),
        created_by: ctx.actor.id,
        created_at: new Date().toISOString(),
      },
      'compliance.exercise.recorded',
    ),
  );
}

/** The real kill switch, as the server composes it (the same path as `POST …/agents/{agent}/stop`). */
export interface KillSwitch {
  stop(agentId: string): Promise<void>;
  resume(agentId: string): Promise<void>;
}

export interface DrillOptions {
  kill: KillSwitch;
  /** Places the entries the stop left pending, so the drill can read them (the trail's flush). */
  settle: () => Promise<void>;
  /** Start the agent again afterwards (default). */
  resume: boolean;
  /** How long to wait for the runs in flight to end on record. */
  waitMs?: number;
}

type Header = { idx: number; id: string; time: string; action: string; run_id: string | null };

/**
 * Stops the agent through the kill switch and measures the halt from the log.
 *
 * @example
 *   const drill = await runKillSwitchDrill(db, ctx, 'agt_1', { kill, settle: () => audit.flush(), resume: true });
 *   drill.facts.msToHalt; // 42
 */
export async function runKillSwitchDrill(
  db: Kysely<Database>,
  ctx: OrgContext,
  agentId: string,
  opts: DrillOptions,
): Promise<Exercise> {
  const agent = await requireAgentRow(db, ctx, agentId);
  if (agent.state !== 'active')
    throw new ConflictError('agent_stopped', 'A drill stops a running agent; this one is stopped already.');
  const inFlight = (
    await db
      .selectFrom('runs')
      .select('id')
      .where('org_id', '=', ctx.scope.orgId)
      .where('agent_id', '=', agentId)
      .where('status', 'in', ['running', 'waiting_approval'])
      .execute()
  ).map((r) => r.id);
  const startId = await db.transaction().execute((trx) =>
    recordChange(trx, ctx, {
      action: 'compliance.drill.started',
      target: { type: 'agent', id: agentId },
      details: { kind: 'kill_switch', runsInFlight: inFlight },
    }),
  );
  await opts.kill.stop(agentId);
  await opts.settle();
  const log = ctx.scope.orgId;
  const read = (q: (b: ReturnType<typeof base>) => ReturnType<typeof base>) => q(base()).execute();
  const base = () =>
    db
      .selectFrom('audit_entries')
      .select(['idx', 'id', 'time', 'action', 'run_id'])
      .where('log_id', '=', log);
  const [start] = await read((b) => b.where('id', '=', startId));
  if (!start) throw new Error('the drill’s start entry was not placed in the log');
  const [stop] = await read((b) =>
    b
      .where('idx', '>', start.idx)
      .where('action', '=', 'agent.stopped')
      .where('target_id', '=', agentId)
      .orderBy('idx')
      .limit(1),
  );
  // The runs in flight end on record as part of the stop; wait for their entries, bounded.
  const deadline = Date.now() + (opts.waitMs ?? 15_000);
  let ends: Header[] = [];
  for (;;) {
    ends = inFlight.length
      ? await read((b) =>
          b
            .where('idx', '>', start.idx)
            .where('run_id', 'in', inFlight)
            .where('action', 'in', ['run.stopped', 'run.failed', 'run.completed']),
        )
      : [];
    if (ends.length >= inFlight.length || Date.now() > deadline) break;
    await opts.settle();
    await new Promise((r) => setTimeout(r, 50));
  }
  const allowedAfter = stop
    ? await read((b) =>
        b
          .where('idx', '>', start.idx)
          .where('action', '=', 'tool.call.allowed')
          .where('actor_id', '=', agentId)
          .where('time', '>', stop.time),
      )
    : [];
  const halted = !!stop && ends.length >= inFlight.length && allowedAfter.length === 0;
  const last = ends.reduce<Header | undefined>((m, e) => (!m || e.time > m.time ? e : m), undefined);
  const msToHalt = !halted ? null : last ? Date.parse(last.time) - Date.parse(stop!.time) : 0;
  const outcome: ExerciseOutcome = halted && msToHalt! <= HALT_LIMIT_MS ? 'pass' : 'fail';
  if (opts.resume) await opts.kill.resume(agentId);
  const facts = {
    agent: agentId,
    agentName: agent.name,
    startIndex: Number(start.idx),
    stopIndex: stop ? Number(stop.idx) : null,
    stoppedAt: stop?.time ?? null,
    runsInFlight: inFlight,
    runEnds: ends.map((e) => ({ index: Number(e.idx), run: e.run_id, action: e.action, time: e.time })),
    allowedAfterStop: allowedAfter.map((e) => Number(e.idx)),
    msToHalt,
    haltLimitMs: HALT_LIMIT_MS,
    how: inFlight.length
      ? 'time from the agent.stopped entry to the entry ending the last run that was in flight'
      : 'no run was in flight: the agent halted at the stop’s commit (the agent.stopped entry)',
    resumed: opts.resume,
  };
  return db.transaction().execute((trx) =>
    insert(
      trx,
      ctx,
      {
        id: newId('exr'),
        org_id: ctx.scope.orgId,
        kind: 'kill_switch_drill',
        title: `Kill-switch drill: ${agent.name}`,
        held_at: start.time,
        outcome,
        facts: JSON.stringify(facts),
        created_by: ctx.actor.id,
        created_at: new Date().toISOString(),
      },
      'compliance.drill.completed',
    ),
  );
}
