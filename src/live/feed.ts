/**
 * What a person watching an org is told as it happens, and only what their role lets them read:
 * the approvals waiting (owners, admins, auditors), that agents changed (everyone: they read the
 * agents again through the API, which scopes them), that runs in flight changed (everyone; a
 * member hears of their own runs only), the cell's state (owners, admins, auditors) and that the
 * log grew (those who read it). Each org's state is read once per hint for all its
 * viewers on this replica, and a viewer hears a topic only when it changed for them.
 *
 * A viewer's access is read again every `recheckMs`: a session that ended or a membership removed
 * ends the stream, and a changed role changes what it carries from then on.
 */
import { createHash } from 'node:crypto';
import { listApprovals } from '../approvals/approvals.ts';
import { can, type OrgContext } from '../identity/index.ts';
import { startedBy } from '../runtime/index.ts';
import type { Db } from '../store/index.ts';
import type { LiveSignals } from './signals.ts';

/** A call waiting for a person, as the live feed tells it (the arguments stay in the inbox). */
export interface LiveApproval {
  id: string;
  agentId: string;
  connectionId: string;
  tool: string;
  requestedBy: string | null;
  requestedAt: string;
  expiresAt: string;
}

export interface LiveCell {
  state: string;
  restarts: number;
}

export type LiveEvent =
  | { type: 'approvals'; data: { pending: LiveApproval[] } }
  | { type: 'agents'; data: { version: string } }
  | { type: 'runs'; data: { version: string } }
  | { type: 'cell'; data: { cell: LiveCell | null } }
  | { type: 'activity'; data: Record<string, never> };

export interface LiveViewer {
  ctx: OrgContext;
  /** Writes one event to the viewer's stream. */
  send(event: LiveEvent): void;
  /** Reads the viewer's access again (their credential, their membership); throws once it is gone. */
  recheck(): Promise<OrgContext>;
  /** Ends the viewer's stream, saying why. */
  end(reason: string): void;
}

/** An org's state as last read, shared by its viewers. */
interface OrgState {
  approvals: LiveApproval[] | null;
  agents: string;
  /** The runs in flight (started, not ended), each as `id:status:steps:updated`, by who asked. */
  runs: { person_id: string | null; token_id?: string | null; line: string }[];
  cell: LiveCell | null;
}

/** A run in one of these has not ended (the runs_by_status index finds them). */
const IN_FLIGHT = ['running', 'waiting_approval'] as const;

/** A digest that changes when `lines` do, naming none of them. */
function digest(lines: string[]): string {
  return createHash('sha256').update(lines.sort().join(';')).digest('hex').slice(0, 16);
}

interface Watching {
  viewer: LiveViewer;
  sent: Partial<Record<LiveEvent['type'], string>>;
  recheck: NodeJS.Timeout;
  unsubscribe: () => void;
}

export interface LiveFeedOptions {
  db: Db;
  signals: LiveSignals;
  /** The org's cell as this replica's supervisor sees it (null: none running, or no cells here). */
  cell: (orgId: string) => LiveCell | null;
  recheckMs?: number;
}

const RECHECK_MS = 30_000;

export class LiveFeed {
  readonly #o: LiveFeedOptions;
  readonly #orgs = new Map<string, Set<Watching>>();
  /** Per org: a read under way, and whether another hint came during it. */
  readonly #reading = new Map<string, { again: boolean }>();

  constructor(o: LiveFeedOptions) {
    this.#o = o;
  }

  /** The org's live state as `ctx` may see it now (the JSON answer, and a stream's first events). */
  async snapshot(ctx: OrgContext): Promise<LiveEvent[]> {
    const state = await this.#read(ctx.scope.orgId, can(ctx.role, 'approvals.read') ? ctx : null);
    return eventsFor(ctx, state);
  }

  /** Sends `viewer` the org's state now, then every change they may see, until the returned stop. */
  async watch(viewer: LiveViewer): Promise<() => void> {
    const orgId = viewer.ctx.scope.orgId;
    const w: Watching = {
      viewer,
      sent: {},
      recheck: setInterval(() => void this.#recheck(w), this.#o.recheckMs ?? RECHECK_MS),
      unsubscribe: this.#o.signals.subscribe(orgId, () => void this.#changed(orgId)),
    };
    w.recheck.unref();
    const set = this.#orgs.get(orgId) ?? new Set();
    this.#orgs.set(orgId, set);
    set.add(w);
    for (const e of await this.snapshot(viewer.ctx)) this.#tell(w, e);
    return () => this.#forget(w);
  }

  #forget(w: Watching): void {
    clearInterval(w.recheck);
    w.unsubscribe();
    const orgId = w.viewer.ctx.scope.orgId;
    const set = this.#orgs.get(orgId);
    set?.delete(w);
    if (set?.size === 0) this.#orgs.delete(orgId);
  }

  async #recheck(w: Watching): Promise<void> {
    try {
      w.viewer.ctx = await w.viewer.recheck();
    } catch {
      this.#forget(w);
      w.viewer.end('access_ended');
    }
  }

  /** A hint for the org: read its state once (again if hints came meanwhile), tell each viewer. */
  async #changed(orgId: string): Promise<void> {
    const busy = this.#reading.get(orgId);
    if (busy) {
      busy.again = true;
      return;
    }
    const mark = { again: true };
    this.#reading.set(orgId, mark);
    try {
      while (mark.again) {
        mark.again = false;
        const viewers = [...(this.#orgs.get(orgId) ?? [])];
        if (viewers.length === 0) return;
        const reader = viewers.find((w) => can(w.viewer.ctx.role, 'approvals.read'))?.viewer.ctx ?? null;
        const state = await this.#read(orgId, reader);
        for (const w of viewers) {
          for (const e of eventsFor(w.viewer.ctx, state)) this.#tell(w, e);
          if (can(w.viewer.ctx.role, 'audit.read')) w.viewer.send({ type: 'activity', data: {} });
        }
      }
    } catch {
      // A failed read (the database away for a moment): the next hint reads again.
    } finally {
      this.#reading.delete(orgId);
    }
  }

  /** Sends an event unless the viewer already has exactly this. */
  #tell(w: Watching, e: LiveEvent): void {
    const text = JSON.stringify(e.data);
    if (w.sent[e.type] === text) return;
    w.sent[e.type] = text;
    w.viewer.send(e);
  }

  async #read(orgId: string, approvalsReader: OrgContext | null): Promise<OrgState> {
    const { db } = this.#o;
    const [approvals, agents, org, runs] = await Promise.all([
      approvalsReader ? listApprovals(db, approvalsReader, { status: 'pending' }) : null,
      db
        .selectFrom('agents')
        .select(['id', 'state', 'version', 'grants_version'])
        .where('org_id', '=', orgId)
        .execute(),
      db.selectFrom('orgs').select('agents_stopped_at').where('id', '=', orgId).executeTakeFirst(),
      db
        .selectFrom('runs')
        .select(['id', 'person_id', 'token_id', 'status', 'steps', 'updated_at'])
        .where('status', 'in', IN_FLIGHT)
        .where('org_id', '=', orgId)
        .execute(),
    ]);
    return {
      approvals:
        approvals?.map((a) => ({
          id: a.id,
          agentId: a.agentId,
          connectionId: a.connectionId,
          tool: a.tool,
          requestedBy: a.requestedBy,
          requestedAt: a.requestedAt,
          expiresAt: a.expiresAt,
        })) ?? null,
      // What changed is read through the API (which scopes agents per person): this only notices,
      // and names no agent (a digest of them all).
      agents: createHash('sha256')
        .update(
          `${org?.agents_stopped_at ?? ''};${agents.map((a) => `${a.id}:${a.state}:${a.version}:${a.grants_version}`).sort()}`,
        )
        .digest('hex')
        .slice(0, 16),
      // A run that starts, waits, goes on or ends changes its line (or takes it away).
      runs: runs.map((r) => ({
        person_id: r.person_id,
        token_id: r.token_id ?? null,
        line: `${r.id}:${r.status}:${r.steps}:${r.updated_at}`,
      })),
      cell: this.#o.cell(orgId),
    };
  }

  /** Ends every stream (the server is closing). */
  close(): void {
    for (const set of this.#orgs.values())
      for (const w of set) {
        this.#forget(w);
        w.viewer.end('server_closing');
      }
  }
}

/** The events of an org's state that `ctx`'s role may see. */
function eventsFor(ctx: OrgContext, s: OrgState): LiveEvent[] {
  const events: LiveEvent[] = [{ type: 'agents', data: { version: s.agents } }];
  if (can(ctx.role, 'runs.read')) {
    // Members read their own runs only; the others every run (the runs API scopes them the same way).
    const mine = ctx.role === 'member' ? s.runs.filter((r) => startedBy(ctx, r)) : s.runs;
    events.push({ type: 'runs', data: { version: digest(mine.map((r) => r.line)) } });
  }
  if (can(ctx.role, 'approvals.read') && s.approvals)
    events.push({ type: 'approvals', data: { pending: s.approvals } });
  if (can(ctx.role, 'cells.read')) events.push({ type: 'cell', data: { cell: s.cell } });
  return events;
}
