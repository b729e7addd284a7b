/**
 * An agent's standing, as the tool gate needs it on every call: whether the agent or its whole org
 * is stopped (the kill switch), the version its grants are at, and how its org handles approvals.
 * One read, stamped with the moment before it was taken: a stop that reaches this replica after
 * that moment still ends the call (the gate's kill registry holds calls from then).
 */
import { type CheckSet, checkSetOf } from '../checks/index.ts';
import { DEFAULT_ORG_SETTINGS, type OrgSettings } from '../identity/context.ts';
import type { Db, OrgScope } from '../store/index.ts';

export interface AgentStanding {
  agentState: 'active' | 'stopped';
  /** When the org-wide kill switch was thrown, or null. */
  orgStoppedAt: string | null;
  /** Moves with every grant, revoke or suspension: the gate's grants cache key. */
  grantsVersion: number;
  /** How long a call may pause for a person, and how long a request (and approval) lasts. */
  approvals: { waitSeconds: number; minutes: number };
  /** The agent's checks, compiled (those on tool arguments are the gate's), or null for none. */
  checks: CheckSet | null;
  /** `performance.now()` taken before the read. */
  readAt: number;
}

/** The columns a standing is made of, for reads that join agents (`a`) and orgs (`o`). */
export const STANDING_COLUMNS = [
  'a.state as agent_state',
  'a.grants_version',
  'a.checks as agent_checks',
  'o.agents_stopped_at',
  'o.settings as org_settings',
] as const;

interface StandingRow {
  agent_state: 'active' | 'stopped';
  grants_version: number;
  agent_checks: string | null;
  agents_stopped_at: string | null;
  org_settings: string;
}

export function toStanding(row: StandingRow, readAt: number): AgentStanding {
  let approvals: AgentStanding['approvals'] | undefined;
  return {
    agentState: row.agent_state,
    orgStoppedAt: row.agents_stopped_at,
    grantsVersion: Number(row.grants_version),
    // Read only by a call that needs approval: most calls never parse the settings.
    get approvals() {
      if (!approvals) {
        const stored = JSON.parse(row.org_settings) as Partial<OrgSettings>;
        const settings = { ...DEFAULT_ORG_SETTINGS, ...stored };
        approvals = { waitSeconds: settings.approvalWaitSeconds, minutes: settings.approvalMinutes };
      }
      return approvals;
    },
    // Compiled once per saved form (cached), and only read by a call that gets this far.
    get checks() {
      return checkSetOf(row.agent_checks);
    },
    readAt,
  };
}

/** The agent's standing now, or undefined when there is no such agent in the org. */
export async function readAgentStanding(
  db: Db,
  scope: OrgScope,
  agentId: string,
): Promise<AgentStanding | undefined> {
  const readAt = performance.now();
  const row = await db
    .selectFrom('agents as a')
    .innerJoin('orgs as o', 'o.id', 'a.org_id')
    .select(STANDING_COLUMNS)
    .where('a.org_id', '=', scope.orgId)
    .where('a.id', '=', agentId)
    .executeTakeFirst();
  return row && toStanding(row, readAt);
}

/**
 * Of these agents (of any org: a replica catching up on what it holds), the ones that may run:
 * neither they nor their org are stopped. A deleted agent is not among them.
 */
export async function runnableAgents(db: Db, agentIds: string[]): Promise<Set<string>> {
  if (agentIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('agents as a')
    .innerJoin('orgs as o', 'o.id', 'a.org_id')
    .select('a.id')
    .where('a.id', 'in', agentIds)
    .where('a.state', '=', 'active')
    .where('o.agents_stopped_at', 'is', null)
    .execute();
  return new Set(rows.map((r) => r.id));
}
