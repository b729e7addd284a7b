/**
 * Slack: the org's Slack app installed with its credentials (sealed, never shown again) and
 * uninstalled, channels bound to agents, a person's link to their Slack account (a one-time code
 * they send the app), and the public `POST /slack/{org}/events` Slack sends events and clicks
 * to, authenticated by its signature alone.
 */
import { z } from 'zod';
import {
  bindChannel,
  checkInstallInput,
  createLinkCode,
  getSlack,
  installSlack,
  LINK_CODE_MINUTES,
  linkOf,
  type SlackInfo,
  TOLERANCE_SECONDS,
  unbindChannel,
  uninstallSlack,
  unlinkSlack,
} from '../../slack/index.ts';
import type { Deps } from '../deps.ts';
import { clientAddress } from '../request.ts';
import { defineRoute } from '../route.ts';
import { Id, OrgParams, Timestamp } from '../schemas.ts';

const SlackSchema = z
  .object({
    teamId: z.string(),
    botUserId: z.string(),
    approvalsChannel: z.string().nullable().describe('where approval cards are posted'),
    socketMode: z
      .boolean()
      .describe('events arrive over a Socket Mode connection Paddock holds (the events URL is then unused)'),
    installedBy: z.string(),
    installedAt: Timestamp,
    eventsPath: z.string().describe('the Events API and interactivity request URL, on this server'),
    eventsUrl: z.string().describe('the same, on this server’s public URL'),
    bindings: z.array(
      z.object({ channelId: z.string(), agentId: Id, boundBy: z.string(), boundAt: Timestamp }),
    ),
  })
  .meta({ id: 'SlackInstall' });

export const SlackStatusSchema = z.object({
  slack: SlackSchema.nullable().describe('null when Slack is not installed'),
});
export const SlackLinkSchema = z.object({
  link: z.object({ slackUserId: z.string(), linkedAt: Timestamp }).nullable(),
});
export const SlackLinkCodeSchema = z.object({ code: z.string(), expiresAt: Timestamp });

const ChannelId = z
  .string()
  .regex(/^(?:[CG][A-Z0-9]{2,30}|dm)$/, 'a Slack channel id such as C0123ABCD, or "dm"')
  .describe('a Slack channel id (C…, G…), or "dm" for direct messages to the app');

export const SlackInstallBodySchema = z.strictObject({
  signingSecret: z.string().max(200).describe('Basic Information → App Credentials → Signing Secret'),
  botToken: z.string().max(300).describe('OAuth & Permissions → Bot User OAuth Token (xoxb-…)'),
  approvalsChannel: z.string().max(40).nullable().optional().describe('a channel id for approval cards'),
  appToken: z
    .string()
    .max(300)
    .optional()
    .describe('Basic Information → App-Level Tokens (xapp-…, scope connections:write); for Socket Mode'),
  socketMode: z
    .boolean()
    .optional()
    .describe('receive events over a WebSocket Paddock opens to Slack (servers behind NAT); needs appToken'),
});
export const SlackBindBodySchema = z.strictObject({ channelId: ChannelId, agentId: Id.nullable() });

const withUrl = async (deps: Deps, info: SlackInfo) => ({
  ...info,
  eventsUrl: new URL(info.eventsPath, deps.config.publicUrl).href,
});

export const slackRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/slack',
    summary: "The org's Slack app: workspace, approvals channel, bound channels (never a secret)",
    tag: 'slack',
    access: { permission: 'org.read' },
    params: OrgParams,
    response: SlackStatusSchema,
    handler: async ({ ctx, deps }) => {
      const info = await getSlack(deps.store.db, ctx);
      return { slack: info ? await withUrl(deps, info) : null };
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/v1/orgs/{org}/slack',
    summary:
      "Install (or replace) the org's Slack app: its signing secret, bot token and (for Socket Mode) app-level token are checked with Slack and sealed in the vault",
    tag: 'slack',
    access: { permission: 'org.update' },
    params: OrgParams,
    body: SlackInstallBodySchema,
    response: SlackSchema,
    handler: async ({ ctx, deps, body }) => {
      checkInstallInput(body);
      const team = await deps.slack.checkToken(body.botToken);
      if (body.appToken !== undefined) await deps.slack.checkAppToken(body.appToken);
      await installSlack(deps.store.db, deps.vault, ctx, body, team);
      await deps.slack.sync(ctx.scope.orgId);
      return withUrl(deps, (await getSlack(deps.store.db, ctx))!);
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/orgs/{org}/slack',
    summary: "Uninstall the org's Slack app: its credentials, bound channels and links are deleted",
    tag: 'slack',
    access: { permission: 'org.update' },
    params: OrgParams,
    status: 204,
    handler: async ({ ctx, deps }) => {
      await uninstallSlack(deps.store.db, ctx);
      await deps.slack.sync(ctx.scope.orgId);
      return undefined;
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/v1/orgs/{org}/slack/channels',
    summary:
      'Set which agent answers in a Slack channel (or "dm", direct messages): mentions there start runs of it; agentId null unbinds the channel',
    tag: 'slack',
    access: { permission: 'org.update' },
    params: OrgParams,
    body: SlackBindBodySchema,
    status: 204,
    handler: async ({ ctx, deps, body }) => {
      if (body.agentId === null) await unbindChannel(deps.store.db, ctx, body.channelId);
      else await bindChannel(deps.store.db, ctx, body.channelId, body.agentId);
      return undefined;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/slack/link',
    summary: 'Your own Slack link, if any',
    tag: 'slack',
    access: { permission: 'org.read' },
    params: OrgParams,
    response: SlackLinkSchema,
    handler: async ({ ctx, deps }) => ({ link: await linkOf(deps.store.db, ctx) }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/slack/link',
    summary: `A one-time code (valid ${LINK_CODE_MINUTES} minutes) to send the Slack app as "link <code>" in a direct message: it links that Slack account to you`,
    tag: 'slack',
    access: { permission: 'runs.start' },
    params: OrgParams,
    response: SlackLinkCodeSchema,
    status: 201,
    handler: async ({ ctx, deps }) => createLinkCode(deps.store.db, ctx),
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/orgs/{org}/slack/link',
    summary: 'Unlink your Slack account',
    tag: 'slack',
    access: { permission: 'org.read' },
    params: OrgParams,
    status: 204,
    handler: async ({ ctx, deps }) => {
      await unlinkSlack(deps.store.db, ctx);
      return undefined;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/slack/{slug}/events',
    summary: `Slack's Events API and interactivity request URL (signed: X-Slack-Signature v0, X-Slack-Request-Timestamp within ${TOLERANCE_SECONDS / 60} minutes)`,
    tag: 'slack',
    // The signature is the credential: the service verifies it before anything else is read.
    access: 'public',
    params: z.strictObject({ slug: z.string().max(100).describe("the org's slug") }),
    // The API's own 64 KiB limit: what Slack sends is a few kilobytes.
    rawBody: { description: 'an Events API JSON body, or an interactivity form (payload=…)' },
    response: z.record(z.string(), z.unknown()),
    handler: async ({ deps, params, requestId, c }) => {
      const body = new Uint8Array(await c.req.arrayBuffer());
      return deps.slack.receive({
        slug: params.slug,
        header: (name) => c.req.header(name),
        body,
        requestId,
        from: clientAddress(c, deps.config.trustedProxies),
      });
    },
  }),
];
