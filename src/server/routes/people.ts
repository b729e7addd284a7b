/** People in an organization: list, read, change role, remove. */
import { z } from 'zod';
import { changeRole, listPeople, removePerson, requirePerson } from '../../identity/index.ts';
import { defineRoute } from '../route.ts';
import { Id, OrgParams, PersonSchema, RoleSchema } from '../schemas.ts';

const PersonParams = OrgParams.extend({ person: Id });

export const peopleRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/people',
    summary: 'List the people of an organization',
    tag: 'people',
    access: { permission: 'people.read' },
    params: OrgParams,
    response: z.object({ people: z.array(PersonSchema) }),
    handler: async ({ ctx, deps }) => ({ people: await listPeople(deps.store.db, ctx.scope) }),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/people/{person}',
    summary: 'Read one person',
    tag: 'people',
    access: { permission: 'people.read' },
    params: PersonParams,
    response: PersonSchema,
    handler: async ({ ctx, deps, params }) => requirePerson(deps.store.db, ctx.scope, params.person),
  }),
  defineRoute({
    method: 'patch',
    path: '/api/v1/orgs/{org}/people/{person}',
    summary: "Change a person's role (only owners make or unmake owners)",
    tag: 'people',
    access: { permission: 'people.manage' },
    params: PersonParams,
    body: z.strictObject({ role: RoleSchema }),
    response: PersonSchema,
    handler: async ({ ctx, deps, params, body }) => changeRole(deps.store.db, ctx, params.person, body.role),
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/orgs/{org}/people/{person}',
    summary: 'Remove a person: their tokens here and all their sessions end at once',
    tag: 'people',
    access: { permission: 'people.manage' },
    params: PersonParams,
    status: 204,
    handler: async ({ ctx, deps, params }) => {
      await removePerson(deps.store.db, ctx, params.person);
      return undefined;
    },
  }),
];
