/** Organizations: list the ones you can see, read and change one. */
import { z } from 'zod';
import { updateOrg, visibleOrgs } from '../../identity/index.ts';
import { defineRoute } from '../route.ts';
import { OrgParams, OrgSchema, OrgSettingsSchema, RoleSchema } from '../schemas.ts';

export const orgRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs',
    summary: 'List the organizations you belong to, with your role in each',
    tag: 'orgs',
    access: 'signed-in',
    response: z.object({ orgs: z.array(OrgSchema.extend({ role: RoleSchema })) }),
    handler: async ({ principal, deps }) => ({ orgs: await visibleOrgs(deps.store.db, principal) }),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}',
    summary: 'Read an organization',
    tag: 'orgs',
    access: { permission: 'org.read' },
    params: OrgParams,
    response: OrgSchema.extend({ role: RoleSchema }),
    handler: async ({ ctx }) => ({ ...ctx.org, role: ctx.role }),
  }),
  defineRoute({
    method: 'patch',
    path: '/api/v1/orgs/{org}',
    summary: "Change an organization's name or settings",
    tag: 'orgs',
    access: { permission: 'org.update' },
    params: OrgParams,
    body: z.strictObject({
      name: z.string().min(1).max(100).optional(),
      settings: OrgSettingsSchema.partial().optional(),
    }),
    response: OrgSchema,
    handler: async ({ ctx, deps, body }) => updateOrg(deps.store.db, ctx, body),
  }),
];
