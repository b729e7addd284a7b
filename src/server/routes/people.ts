/** People in an organization: list, read, change role, see what removing one ends, remove. */
import { z } from 'zod';
import { authorizationsOf, revokeAtProvider } from '../../connections/index.ts';
import { changeRole, listPeople, requirePerson } from '../../identity/index.ts';
import { deletePersonData, previewRemoval, removePerson } from '../../offboarding/index.ts';
import { defineRoute } from '../route.ts';
import {
  Id,
  OrgParams,
  PersonSchema,
  RemovalBodySchema,
  RemovalPreviewSchema,
  RoleSchema,
} from '../schemas.ts';

const PersonParams = OrgParams.extend({ person: Id });

export const PeopleListSchema = z.object({ people: z.array(PersonSchema) });
export const RoleChangeBodySchema = z.strictObject({ role: RoleSchema });
export const PersonDataDeletedSchema = z
  .object({
    conversations: z.number().int(),
    runs: z.number().int(),
    feedback: z.number().int(),
    memory: z.number().int().describe('agents’ memory entries about them'),
    slackLinks: z
      .number()
      .int()
      .describe('their Slack link (which Slack user they are), with any pending link code'),
    auditPayloads: z.number().int().describe('audit entries whose payload was erased (their headers stay)'),
  })
  .meta({ id: 'PersonDataDeleted' });

export const peopleRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/people',
    summary: 'List the people of an organization',
    tag: 'people',
    access: { permission: 'people.read' },
    params: OrgParams,
    response: PeopleListSchema,
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
    body: RoleChangeBodySchema,
    response: PersonSchema,
    handler: async ({ ctx, deps, params, body }) => changeRole(deps.store.db, ctx, params.person, body.role),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/people/{person}/data-deletion',
    summary:
      'Delete a person’s data on request (a member’s or someone removed): their conversations and runs, the feedback they gave, agents’ memory about them, and the payloads of the audit entries holding their messages; counts on record, the log still verifies',
    tag: 'people',
    access: { permission: 'people.manage' },
    params: PersonParams,
    response: PersonDataDeletedSchema,
    handler: async ({ ctx, deps, params }) =>
      deletePersonData(
        deps.store.db,
        ctx,
        params.person,
        () => deps.audit.flush(),
        () => deps.store.purge(),
      ),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/people/{person}/removal',
    summary:
      'What removing this person would end (sessions, tokens, agent tokens, invitations), hand over and leave for review',
    tag: 'people',
    access: { permission: 'people.manage' },
    params: PersonParams,
    response: RemovalPreviewSchema,
    handler: async ({ ctx, deps, params }) => previewRemoval(deps.store.db, ctx, params.person),
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/orgs/{org}/people/{person}',
    summary:
      'Remove a person: their tokens, agent tokens, sessions and open invitations end at once; their private agents and connections are handed over or deleted',
    tag: 'people',
    access: { permission: 'people.manage' },
    params: PersonParams,
    body: RemovalBodySchema,
    status: 204,
    handler: async ({ ctx, deps, params, body }) => {
      // Their OAuth authorizations of remote servers end with them; the providers are asked to revoke them after.
      const held = await authorizationsOf(deps.store.db, ctx.scope.orgId, params.person);
      await removePerson(deps.store.db, (e) => deps.sessions.publish(e), ctx, params.person, body);
      // Their runs end too, in flight and waiting (their approvals expired with them, above).
      await deps.runs.stopRunsFor(ctx, params.person, 'the person it acts for was removed');
      for (const a of held) await revokeAtProvider(deps.opener, a);
      return undefined;
    },
  }),
];
