/**
 * An org's Slack app as configured in Paddock: installed with its signing secret, bot token and,
 * for Socket Mode, its app-level token (sealed in the vault, never shown again), the channels bound to agents, and the Slack users
 * linked to people. Every change is an audited config change in its own transaction, and every
 * query is scoped to the org.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { requireAgentRow } from '../agents/index.ts';
import { recordAudit, recordChange } from '../audit/index.ts';
import { BadRequestError, NotFoundError } from '../errors/index.ts';
import type { OrgContext } from '../identity/index.ts';
import type { Database, Db } from '../store/index.ts';
import type { SlackInstallTable } from '../store/schema.ts';
import type { Vault } from '../vault/index.ts';

/** A channel Slack names (public C…, private G…), or `dm` for direct messages to the app. */
export const CHANNEL = /^(?:[CG][A-Z0-9]{2,30}|dm)$/;
/** A conversation Slack names in an event: a channel, or a direct-message channel (D…). */
export const CHANNEL_ID = /^[CGD][A-Z0-9]{2,30}$/;
export const SLACK_USER = /^[UW][A-Z0-9]{2,30}$/;
const BOT_TOKEN = /^xoxb-[A-Za-z0-9-]{10,250}$/;
const SIGNING_SECRET = /^[a-f0-9]{32}$/;
const APP_TOKEN = /^xapp-[A-Za-z0-9-]{10,250}$/;
/** A link code lives long enough to switch to Slack and send it. */
export const LINK_CODE_MINUTES = 10;

export interface SlackInstallInput {
  signingSecret: string;
  botToken: string;
  approvalsChannel?: string | null | undefined;
  /** The app-level token (xapp-…, scope connections:write): needed for Socket Mode. */
  appToken?: string | undefined;
  /** Receive events over a WebSocket Paddock opens (servers behind NAT) rather than HTTP. */
  socketMode?: boolean | undefined;
}

export interface SlackInfo {
  teamId: string;
  botUserId: string;
  approvalsChannel: string | null;
  /** Events arrive over a Socket Mode connection Paddock holds (the events URL is then unused). */
  socketMode: boolean;
  installedBy: string;
  installedAt: string;
  /** Where Slack sends events and interactivity: this path on Paddock's public URL. */
  eventsPath: string;
  bindings: { channelId: string; agentId: string; boundBy: string; boundAt: string }[];
}

/** What auth.test says about a bot token (the workspace and the bot's own user). */
export type TokenCheck = (botToken: string) => Promise<{ teamId: string; botUserId: string }>;

export const eventsPath = (slug: string) => `/slack/${slug}/events`;
const ref = (orgId: string, name: 'signing' | 'bot' | 'app', version: number) => ({
  orgId,
  secretId: `slack/${name}`,
  version,
});
const hashCode = (code: string) => createHash('sha256').update(code).digest('hex');

export function checkInstallInput(input: SlackInstallInput): void {
  if (!SIGNING_SECRET.test(input.signingSecret))
    throw new BadRequestError(
      'slack_signing_secret_invalid',
      "The signing secret is the app's 32 hexadecimal characters (Basic Information → App Credentials).",
    );
  if (!BOT_TOKEN.test(input.botToken))
    throw new BadRequestError(
      'slack_bot_token_invalid',
      'The bot token starts with xoxb- (OAuth & Permissions → Bot User OAuth Token).',
    );
  if (input.appToken !== undefined && !APP_TOKEN.test(input.appToken))
    throw new BadRequestError(
      'slack_app_token_invalid',
      'The app-level token starts with xapp- (Basic Information → App-Level Tokens, scope connections:write).',
    );
  if (input.socketMode && input.appToken === undefined)
    throw new BadRequestError(
      'slack_app_token_required',
      'Socket Mode needs the app-level token (xapp-…, scope connections:write).',
    );
  if (input.approvalsChannel && !/^[CG][A-Z0-9]{2,30}$/.test(input.approvalsChannel))
    throw new BadRequestError(
      'slack_channel_invalid',
      'The approvals channel is a channel id such as C0123ABCD.',
    );
}

/** Installs (or replaces) the org's Slack app; the token is checked with Slack first. */
export async function installSlack(
  db: Kysely<Database>,
  vault: Vault,
  ctx: OrgContext,
  input: SlackInstallInput,
  team: { teamId: string; botUserId: string },
): Promise<void> {
  checkInstallInput(input);
  await db.transaction().execute(async (trx) => {
    const old = await trx
      .selectFrom('slack_installs')
      .select(['version', 'team_id'])
      .where('org_id', '=', ctx.scope.orgId)
      .executeTakeFirst();
    const version = old ? Number(old.version) + 1 : 1;
    const row: SlackInstallTable = {
      org_id: ctx.scope.orgId,
      team_id: team.teamId,
      bot_user_id: team.botUserId,
      signing_secret: await vault.seal(trx, ref(ctx.scope.orgId, 'signing', version), input.signingSecret),
      bot_token: await vault.seal(trx, ref(ctx.scope.orgId, 'bot', version), input.botToken),
      app_token:
        input.appToken === undefined
          ? null
          : await vault.seal(trx, ref(ctx.scope.orgId, 'app', version), input.appToken),
      socket_mode: input.socketMode ? 1 : 0,
      version,
      approvals_channel: input.approvalsChannel ?? null,
      installed_by: ctx.actor.id,
      installed_at: new Date().toISOString(),
    };
    await trx.deleteFrom('slack_installs').where('org_id', '=', ctx.scope.orgId).execute();
    await trx.insertInto('slack_installs').values(row).execute();
    // Links name Slack users of one workspace: another workspace's ids mean other people.
    if (old && old.team_id !== team.teamId)
      await trx.deleteFrom('slack_links').where('org_id', '=', ctx.scope.orgId).execute();
    await recordChange(trx, ctx, {
      action: 'slack.installed',
      target: { type: 'slack', id: team.teamId },
      details: {
        teamId: team.teamId,
        botUserId: team.botUserId,
        version,
        approvalsChannel: row.approvals_channel,
        socketMode: row.socket_mode === 1,
      },
    });
  });
}

export async function uninstallSlack(db: Kysely<Database>, ctx: OrgContext): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await requireInstall(trx, ctx.scope.orgId);
    for (const table of [
      'slack_installs',
      'slack_bindings',
      'slack_links',
      'slack_link_codes',
      'slack_threads',
      'slack_waiting_runs',
    ] as const)
      await trx.deleteFrom(table).where('org_id', '=', ctx.scope.orgId).execute();
    await recordChange(trx, ctx, {
      action: 'slack.uninstalled',
      target: { type: 'slack', id: row.team_id },
      details: { teamId: row.team_id },
    });
  });
}

async function requireInstall(db: Db, orgId: string): Promise<SlackInstallTable> {
  const row = await db
    .selectFrom('slack_installs')
    .selectAll()
    .where('org_id', '=', orgId)
    .executeTakeFirst();
  if (!row) throw new NotFoundError('slack_not_installed', 'Slack is not installed in this organization.');
  return row;
}

/** The orgs whose app receives events over Socket Mode (the connections to open on start). */
export async function socketModeOrgs(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('slack_installs').select('org_id').where('socket_mode', '=', 1).execute();
  return rows.map((r) => r.org_id);
}

/** The install as stored (sealed secrets included), for the receiver; undefined when none. */
export async function installOf(db: Db, orgId: string): Promise<SlackInstallTable | undefined> {
  return db.selectFrom('slack_installs').selectAll().where('org_id', '=', orgId).executeTakeFirst();
}

/** The install's secrets, opened (in memory only; the vault registers them for redaction). */
export async function openInstall(db: Db, vault: Vault, row: SlackInstallTable) {
  const v = Number(row.version);
  return {
    signingSecret: await vault.open(db, ref(row.org_id, 'signing', v), row.signing_secret),
    botToken: await vault.open(db, ref(row.org_id, 'bot', v), row.bot_token),
    appToken: row.app_token ? await vault.open(db, ref(row.org_id, 'app', v), row.app_token) : null,
  };
}

/** The org's Slack app, or null when none is installed. */
export async function getSlack(db: Db, ctx: OrgContext): Promise<SlackInfo | null> {
  const row = await installOf(db, ctx.scope.orgId);
  if (!row) return null;
  const bindings = await db
    .selectFrom('slack_bindings')
    .selectAll()
    .where('org_id', '=', ctx.scope.orgId)
    .orderBy('channel_id')
    .execute();
  return {
    teamId: row.team_id,
    botUserId: row.bot_user_id,
    approvalsChannel: row.approvals_channel,
    socketMode: Number(row.socket_mode) === 1,
    installedBy: row.installed_by,
    installedAt: row.installed_at,
    eventsPath: eventsPath(ctx.org.slug),
    bindings: bindings.map((b) => ({
      channelId: b.channel_id,
      agentId: b.agent_id,
      boundBy: b.bound_by,
      boundAt: b.bound_at,
    })),
  };
}

/** Binds a channel (or `dm`) to an agent the caller can see; a channel has one agent. */
export async function bindChannel(db: Kysely<Database>, ctx: OrgContext, channelId: string, agentId: string) {
  if (!CHANNEL.test(channelId))
    throw new BadRequestError(
      'slack_channel_invalid',
      'A channel is a Slack channel id such as C0123ABCD, or "dm".',
    );
  await db.transaction().execute(async (trx) => {
    await requireInstall(trx, ctx.scope.orgId);
    await requireAgentRow(trx, ctx, agentId);
    await trx
      .deleteFrom('slack_bindings')
      .where('org_id', '=', ctx.scope.orgId)
      .where('channel_id', '=', channelId)
      .execute();
    await trx
      .insertInto('slack_bindings')
      .values({
        org_id: ctx.scope.orgId,
        channel_id: channelId,
        agent_id: agentId,
        bound_by: ctx.actor.id,
        bound_at: new Date().toISOString(),
      })
      .execute();
    await recordChange(trx, ctx, {
      action: 'slack.channel_bound',
      target: { type: 'agent', id: agentId },
      details: { channelId, agentId },
    });
  });
}

export async function unbindChannel(db: Kysely<Database>, ctx: OrgContext, channelId: string) {
  await db.transaction().execute(async (trx) => {
    const r = await trx
      .deleteFrom('slack_bindings')
      .where('org_id', '=', ctx.scope.orgId)
      .where('channel_id', '=', channelId)
      .executeTakeFirst();
    if (Number(r.numDeletedRows) !== 1)
      throw new NotFoundError('slack_binding_not_found', 'No agent is bound to that channel.');
    await recordChange(trx, ctx, {
      action: 'slack.channel_unbound',
      target: { type: 'slack', id: channelId },
      details: { channelId },
    });
  });
}

/** The agent bound to a channel, if any. */
export async function boundAgent(db: Db, orgId: string, channelId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('slack_bindings')
    .select('agent_id')
    .where('org_id', '=', orgId)
    .where('channel_id', '=', channelId)
    .executeTakeFirst();
  return row?.agent_id;
}

/**
 * A one-time code for the caller to send the app in Slack (`link <code>`): the link it makes is
 * proven from both sides (this person made the code; that Slack user sent it). Shown once.
 */
export async function createLinkCode(
  db: Kysely<Database>,
  ctx: OrgContext,
): Promise<{ code: string; expiresAt: string }> {
  if (!ctx.userId) throw new BadRequestError('person_required', 'Only a person can link a Slack account.');
  const code = randomBytes(12).toString('base64url');
  const expiresAt = new Date(Date.now() + LINK_CODE_MINUTES * 60_000).toISOString();
  await db.transaction().execute(async (trx) => {
    await requireInstall(trx, ctx.scope.orgId);
    await trx
      .deleteFrom('slack_link_codes')
      .where('org_id', '=', ctx.scope.orgId)
      .where('person_id', '=', ctx.userId!)
      .execute();
    await trx
      .insertInto('slack_link_codes')
      .values({
        code_hash: hashCode(code),
        org_id: ctx.scope.orgId,
        person_id: ctx.userId!,
        expires_at: expiresAt,
      })
      .execute();
  });
  return { code, expiresAt };
}

/** The caller's own link, if any. */
export async function linkOf(
  db: Db,
  ctx: OrgContext,
): Promise<{ slackUserId: string; linkedAt: string } | null> {
  if (!ctx.userId) return null;
  const row = await db
    .selectFrom('slack_links')
    .selectAll()
    .where('org_id', '=', ctx.scope.orgId)
    .where('person_id', '=', ctx.userId)
    .executeTakeFirst();
  return row ? { slackUserId: row.slack_user_id, linkedAt: row.linked_at } : null;
}

export async function unlinkSlack(db: Kysely<Database>, ctx: OrgContext): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const link = await linkOf(trx, ctx);
    if (!link) throw new NotFoundError('slack_link_not_found', 'Your Slack account is not linked.');
    await trx
      .deleteFrom('slack_links')
      .where('org_id', '=', ctx.scope.orgId)
      .where('person_id', '=', ctx.userId!)
      .execute();
    await recordChange(trx, ctx, {
      action: 'slack.unlinked',
      target: { type: 'person', id: ctx.userId! },
      details: { slackUserId: link.slackUserId },
    });
  });
}

/** Redeems a code sent from Slack: the person it was made for, now linked; null when it is not valid. */
export async function redeemLinkCode(
  db: Kysely<Database>,
  orgId: string,
  slackUserId: string,
  code: string,
  requestId: string,
): Promise<string | null> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('slack_link_codes')
      .selectAll()
      .where('code_hash', '=', hashCode(code))
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    if (!row || row.expires_at <= new Date().toISOString()) return null;
    await trx.deleteFrom('slack_link_codes').where('code_hash', '=', row.code_hash).execute();
    // Either side's older link is replaced: one Slack user per person, one person per Slack user.
    await trx
      .deleteFrom('slack_links')
      .where('org_id', '=', orgId)
      .where((eb) => eb.or([eb('slack_user_id', '=', slackUserId), eb('person_id', '=', row.person_id)]))
      .execute();
    await trx
      .insertInto('slack_links')
      .values({
        org_id: orgId,
        slack_user_id: slackUserId,
        person_id: row.person_id,
        linked_at: new Date().toISOString(),
      })
      .execute();
    await recordAudit(trx, {
      orgId,
      actor: { type: 'person', id: row.person_id },
      action: 'slack.linked',
      target: { type: 'person', id: row.person_id },
      requestId,
      details: { slackUserId },
    });
    return row.person_id;
  });
}

/** The person explicitly linked to a Slack user, if any. */
export async function linkedPerson(db: Db, orgId: string, slackUserId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('slack_links')
    .select('person_id')
    .where('org_id', '=', orgId)
    .where('slack_user_id', '=', slackUserId)
    .executeTakeFirst();
  return row?.person_id;
}

/** How long an event id is kept: Slack retries a delivery for about half an hour. */
export const EVENT_IDS_KEPT_MS = 2 * 3_600_000;

/** Forgets event ids past the retry window, and link codes past their expiry; the numbers forgotten. */
export async function forgetOldSlackEvents(
  db: Db,
  now = new Date(),
): Promise<{ events: number; codes: number }> {
  const events = await db
    .deleteFrom('slack_events')
    .where('received_at', '<', new Date(now.getTime() - EVENT_IDS_KEPT_MS).toISOString())
    .executeTakeFirst();
  const codes = await db
    .deleteFrom('slack_link_codes')
    .where('expires_at', '<', now.toISOString())
    .executeTakeFirst();
  // An answer owed for a run since deleted (a person's data deletion) can never be posted.
  await db
    .deleteFrom('slack_waiting_runs')
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('runs').select('runs.id').whereRef('runs.id', '=', 'slack_waiting_runs.run_id'))),
    )
    .execute();
  return { events: Number(events.numDeletedRows), codes: Number(codes.numDeletedRows) };
}
