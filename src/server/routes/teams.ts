/** Teams: named groups of people. */
import { z } from 'zod';
import {
  createTeam,
  deleteTeam,
  listTeams,
  renameTeam,
  requireTeam,
  setTeamMember,
} from '../../identity/index.ts';
import { defineRoute } from '../route.ts';
import { Id, Name, OrgParams, TeamSchema } from '../schemas.ts';

const TeamParams = OrgParams.extend({ team: Id });
const MemberParams = TeamParams.extend({ person: Id });
export const TeamBodySchema = z.strictObject({ name: Name(80) });
export const TeamListSchema = z.object({ teams: z.array(TeamSchema) });

export const teamRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/teams',
    summary: 'List teams',
    tag: 'teams',
    access: { permission: 'teams.read' },
    params: OrgParams,
    response: TeamListSchema,
    handler: async ({ ctx, deps }) => ({ teams: await listTeams(deps.store.db, ctx.scope) }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/teams',
    summary: 'Create a team',
    tag: 'teams',
    access: { permission: 'teams.manage' },
    params: OrgParams,
    body: TeamBodySchema,
    response: TeamSchema,
    status: 201,
    handler: async ({ ctx, deps, body }) => createTeam(deps.store.db, ctx, body),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/teams/{team}',
    summary: 'Read a team',
    tag: 'teams',
    access: { permission: 'teams.read' },
    params: TeamParams,
    response: TeamSchema,
    handler: async ({ ctx, deps, params }) => requireTeam(deps.store.db, ctx.scope, params.team),
  }),
  defineRoute({
    method: 'patch',
    path: '/api/v1/orgs/{org}/teams/{team}',
    summary: 'Rename a team',
    tag: 'teams',
    access: { permission: 'teams.manage' },
    params: TeamParams,
    body: TeamBodySchema,
    response: TeamSchema,
    handler: async ({ ctx, deps, params, body }) => renameTeam(deps.store.db, ctx, params.team, body),
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/orgs/{org}/teams/{team}',
    summary: 'Delete a team',
    tag: 'teams',
    access: { permission: 'teams.manage' },
    params: TeamParams,
    status: 204,
    handler: async ({ ctx, deps, params }) => {
      await deleteTeam(deps.store.db, ctx, params.team);
      return undefined;
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/v1/orgs/{org}/teams/{team}/members/{person}',
    summary: 'Add a person to a team',
    tag: 'teams',
    access: { permission: 'teams.manage' },
    params: MemberParams,
    response: TeamSchema,
    handler: async ({ ctx, deps, params }) =>
      setTeamMember(deps.store.db, ctx, params.team, params.person, true),
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/orgs/{org}/teams/{team}/members/{person}',
    summary: 'Remove a person from a team',
    tag: 'teams',
    access: { permission: 'teams.manage' },
    params: MemberParams,
    response: TeamSchema,
    handler: async ({ ctx, deps, params }) =>
      setTeamMember(deps.store.db, ctx, params.team, params.person, false),
  }),
];
