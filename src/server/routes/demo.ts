/** The demo, added to an org from the dashboard's empty Overview (or `paddock init --demo`). */
import { z } from 'zod';
import { createDemo, DEMO_MESSAGE } from '../../demo/index.ts';
import { defineRoute } from '../route.ts';
import { Id, OrgParams } from '../schemas.ts';

export const DemoSchema = z.object({
  agentId: Id,
  connectionId: Id,
  listed: z
    .boolean()
    .describe('whether the demo server’s tools could be listed (it runs in the org’s sandbox)'),
  problem: z.string().nullable(),
  message: z.string().describe('a message to send the demo agent'),
});

export const demoRoutes = [
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/demo',
    summary:
      'Add the demo: an agent replaying a conversation (no model key), the demo order desk it is governed on, and two grants',
    tag: 'agents',
    access: { permission: 'grants.manage' },
    params: OrgParams,
    response: DemoSchema,
    status: 201,
    handler: async ({ ctx, deps }) => ({ ...(await createDemo(deps.opener, ctx)), message: DEMO_MESSAGE }),
  }),
];
