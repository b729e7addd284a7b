/** Organizations: list the ones you can see, read and change one. */
import { z } from 'zod';
import { listAgents } from '../../agents/index.ts';
import { setOrgAgentsStopped, updateOrg, visibleOrgs } from '../../identity/index.ts';
import { defineRoute } from '../route.ts';
import { Id, Name, OrgParams, OrgSchema, OrgSettingsSchema, RoleSchema } from '../schemas.ts';

export const OrgWithRoleSchema = OrgSchema.extend({ role: RoleSchema });
export const OrgListSchema = z.object({ orgs: z.array(OrgWithRoleSchema) });
export const OrgUpdateBodySchema = z.strictObject({
  name: Name(100).optional(),
  settings: OrgSettingsSchema.partial().optional(),
});

export const orgRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs',
    summary: 'List the organizations you belong to, with your role in each',
    tag: 'orgs',
    access: 'signed-in',
    response: OrgListSchema,
    handler: async ({ principal, deps }) => ({ orgs: await visibleOrgs(deps.store.db, principal) }),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}',
    summary: 'Read an organization',
    tag: 'orgs',
    access: { permission: 'org.read' },
    params: OrgParams,
    response: OrgWithRoleSchema,
    handler: async ({ ctx }) => ({ ...ctx.org, role: ctx.role }),
  }),
  defineRoute({
    method: 'patch',
    path: '/api/v1/orgs/{org}',
    summary: "Change an organization's name or settings",
    tag: 'orgs',
    access: { permission: 'org.update' },
    params: OrgParams,
    body: OrgUpdateBodySchema,
    response: OrgSchema,
    handler: async ({ ctx, deps, body }) => updateOrg(deps.store.db, ctx, body),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/stop',
    summary: 'Org-wide kill switch: stop every agent of the organization (no tool call runs from now on)',
    tag: 'orgs',
    access: { permission: 'agents.stop_all' },
    params: OrgParams,
    response: OrgSchema,
    handler: async ({ ctx, deps }) => deps.killSwitch.stopOrg(ctx),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/resume',
    summary: 'Lift the org-wide kill switch (agents stopped one by one stay stopped)',
    tag: 'orgs',
    access: { permission: 'agents.stop_all' },
    params: OrgParams,
    response: OrgSchema.extend({
      agentsStillStopped: z
        .array(z.object({ id: Id, name: z.string() }))
        .describe('agents stopped one by one: they stay stopped until resumed one by one'),
    }),
    handler: async ({ ctx, deps }) => {
      const org = await setOrgAgentsStopped(deps.store.db, ctx, false);
      // "May run again" must not read as "all of them": say which stay stopped.
      const agents = await listAgents(deps.store.db, ctx);
      const agentsStillStopped = agents
        .filter((a) => a.state === 'stopped')
        .map((a) => ({ id: a.id, name: a.name }));
      return { ...org, agentsStillStopped };
    },
  }),
];
