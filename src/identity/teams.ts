/** Teams: named groups of people in an org (agents can later be scoped to a team). */
import type { Kysely } from 'kysely';
import { recordChange } from '../audit/index.ts';
import { BadRequestError, ConflictError, NotFoundError } from '../errors/index.ts';
import { newId } from '../ids/index.ts';
import { type Database, type Db, isUniqueViolation } from '../store/index.ts';
import type { OrgContext } from './context.ts';
import { requirePerson } from './people.ts';
import type { OrgScope } from './scope.ts';

export interface Team {
  id: string;
  name: string;
  createdAt: string;
  members: string[];
}

function assertTeamName(name: string): string {
  const n = name.trim();
  if (!n || n.length > 80) throw new BadRequestError('invalid_name', 'A team name is 1 to 80 characters.');
  return n;
}

export async function listTeams(db: Db, scope: OrgScope): Promise<Team[]> {
  const teams = await db
    .selectFrom('teams')
    .selectAll()
    .where('org_id', '=', scope.orgId)
    .orderBy('name')
    .execute();
  const members = await db
    .selectFrom('team_members')
    .select(['team_id', 'user_id'])
    .where('org_id', '=', scope.orgId)
    .execute();
  return teams.map((t) => ({
    id: t.id,
    name: t.name,
    createdAt: t.created_at,
    members: members.filter((m) => m.team_id === t.id).map((m) => m.user_id),
  }));
}

export async function requireTeam(db: Db, scope: OrgScope, teamId: string): Promise<Team> {
  const team = (await listTeams(db, scope)).find((t) => t.id === teamId);
  if (!team) throw new NotFoundError('team_not_found', 'No team with that id in this organization.');
  return team;
}

async function audited<T>(
  db: Kysely<Database>,
  ctx: OrgContext,
  action: string,
  teamId: () => string,
  fn: (trx: Db) => Promise<T>,
  details: (r: T) => Record<string, unknown>,
) {
  return db.transaction().execute(async (trx) => {
    let result: T;
    try {
      result = await fn(trx);
    } catch (err) {
      if (isUniqueViolation(err))
        throw new ConflictError('team_exists', 'A team with that name already exists.');
      throw err;
    }
    await recordChange(trx, ctx, {
      action,
      target: { type: 'team', id: teamId() },
      details: details(result),
    });
    return result;
  });
}

export async function createTeam(
  db: Kysely<Database>,
  ctx: OrgContext,
  input: { name: string },
): Promise<Team> {
  const name = assertTeamName(input.name);
  const id = newId('team');
  return audited(
    db,
    ctx,
    'team.created',
    () => id,
    async (trx) => {
      const now = new Date().toISOString();
      await trx.insertInto('teams').values({ id, org_id: ctx.scope.orgId, name, created_at: now }).execute();
      return { id, name, createdAt: now, members: [] };
    },
    (t) => ({ after: { name: t.name } }),
  );
}

export async function renameTeam(
  db: Kysely<Database>,
  ctx: OrgContext,
  teamId: string,
  input: { name: string },
) {
  const name = assertTeamName(input.name);
  let before = '';
  return audited(
    db,
    ctx,
    'team.renamed',
    () => teamId,
    async (trx) => {
      const team = await requireTeam(trx, ctx.scope, teamId);
      before = team.name;
      await trx
        .updateTable('teams')
        .set({ name })
        .where('org_id', '=', ctx.scope.orgId)
        .where('id', '=', teamId)
        .execute();
      return { ...team, name };
    },
    () => ({ before: { name: before }, after: { name } }),
  );
}

export async function deleteTeam(db: Kysely<Database>, ctx: OrgContext, teamId: string): Promise<void> {
  await audited(
    db,
    ctx,
    'team.deleted',
    () => teamId,
    async (trx) => {
      const team = await requireTeam(trx, ctx.scope, teamId);
      await trx.deleteFrom('teams').where('org_id', '=', ctx.scope.orgId).where('id', '=', teamId).execute();
      return team;
    },
    (t) => ({ before: { name: t.name, members: t.members } }),
  );
}

export async function setTeamMember(
  db: Kysely<Database>,
  ctx: OrgContext,
  teamId: string,
  userId: string,
  member: boolean,
) {
  return audited(
    db,
    ctx,
    member ? 'team.member.added' : 'team.member.removed',
    () => teamId,
    async (trx) => {
      const team = await requireTeam(trx, ctx.scope, teamId);
      await requirePerson(trx, ctx.scope, userId);
      const has = team.members.includes(userId);
      if (member && !has) {
        await trx
          .insertInto('team_members')
          .values({
            org_id: ctx.scope.orgId,
            team_id: teamId,
            user_id: userId,
            created_at: new Date().toISOString(),
          })
          .execute();
        team.members.push(userId);
      } else if (!member && has) {
        await trx
          .deleteFrom('team_members')
          .where('org_id', '=', ctx.scope.orgId)
          .where('team_id', '=', teamId)
          .where('user_id', '=', userId)
          .execute();
        team.members = team.members.filter((m) => m !== userId);
      }
      return team;
    },
    () => ({ person: userId }),
  );
}
