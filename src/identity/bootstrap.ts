/**
 * Making the first organization and its owner: offline from the CLI (`paddock init`), or from
 * the dashboard's first-run setup page with the one-time setup link printed at first start.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { ConflictError, UnauthenticatedError } from '../errors/index.ts';
import type { Database, Db } from '../store/index.ts';
import type { Caller, Org } from './context.ts';
import { hashSecret, newSecret } from './credentials.ts';
import { createSigninLink } from './links.ts';
import { insertOrg } from './orgs.ts';
import { addMembership, ensureUser, normalizeEmail } from './people.ts';
import { trustedScope } from './scope.ts';
import { createSession, type NewSession, recordSignIn } from './sessions.ts';
import { insertToken } from './tokens.ts';

export interface InitInput {
  slug: string;
  name?: string | undefined;
  ownerEmail: string;
  ownerName?: string | undefined;
  /** Also create an owner API token (shown once). */
  withToken?: boolean;
  /**
   * The owner's email may already have an account with a password: the operator says it is this
   * person's. Without it such an account is refused, as anyone holding an invitation link may have
   * claimed that email first (and would then own the new org).
   */
  existingAccount?: boolean;
}

export interface InitResult {
  org: Org;
  ownerId: string;
  signinSecret: string;
  token: string | null;
}

/** `paddock init`: an org, its owner, a one-time sign-in link and optionally an owner token. */
export async function initOrg(db: Kysely<Database>, caller: Caller, input: InitInput): Promise<InitResult> {
  return db.transaction().execute(async (trx) => {
    const org = await insertOrg(trx, caller, { slug: input.slug, name: input.name ?? input.slug });
    const scope = trustedScope(org.id);
    const owner = await ensureUser(trx, { email: input.ownerEmail, name: input.ownerName });
    if (!owner.created && owner.hasPassword && !input.existingAccount)
      throw new ConflictError(
        'owner_has_account',
        `${normalizeEmail(input.ownerEmail)} already has a Paddock account with a password, which someone may have set up before this person (an invitation's link is enough). If it is theirs, run again with --existing-account; otherwise choose another owner.`,
      );
    await addMembership(trx, caller, scope, owner.id, 'owner', 'paddock init');
    const signinSecret = await createSigninLink(trx, caller, scope, input.ownerEmail);
    let token: string | null = null;
    if (input.withToken) {
      const ownerCaller: Caller = { ...caller, userId: owner.id };
      const made = await insertToken(
        trx,
        ownerCaller,
        scope,
        { name: 'paddock init', role: 'owner', expiresInDays: org.settings.maxTokenDays, service: false },
        org.settings.maxTokenDays,
      );
      token = made.token;
    }
    return { org, ownerId: owner.id, signinSecret, token };
  });
}

const SETUP_KEY = 'setup_token_hash';

/** Where `paddock up` writes the setup link when its output is no terminal (under $PADDOCK_HOME); gone once used. */
export const SETUP_LINK_FILE = 'setup-link.txt';

/** Issues a fresh one-time setup secret while no organization exists; undefined otherwise. */
export async function issueSetupSecret(db: Kysely<Database>): Promise<string | undefined> {
  const orgs = await db.selectFrom('orgs').select('id').limit(1).execute();
  if (orgs.length > 0) return undefined;
  const secret = newSecret('pdl');
  await db.deleteFrom('platform_settings').where('key', '=', SETUP_KEY).execute();
  await db
    .insertInto('platform_settings')
    .values({ key: SETUP_KEY, value: hashSecret(secret) })
    .execute();
  return secret;
}

/**
 * Removes the setup link a server left in `home`, once setup is done, if this database issued
 * it (a server on another database keeps its own). Best effort: a file that cannot be read or
 * removed stays.
 */
export async function forgetSpentSetupLink(db: Db, home: string): Promise<void> {
  const file = join(home, SETUP_LINK_FILE);
  try {
    const secret = readFileSync(file, 'utf8').trim().split('#')[1] ?? '';
    const issued = await db
      .selectFrom('platform_settings')
      .select('value')
      .where('key', '=', SETUP_KEY)
      .executeTakeFirst();
    if (!issued || issued.value !== hashSecret(secret) || (await setupNeeded(db))) return;
    rmSync(file, { force: true });
  } catch {}
}

export async function setupNeeded(db: Db): Promise<boolean> {
  const orgs = await db.selectFrom('orgs').select('id').limit(1).execute();
  return orgs.length === 0;
}

/** First-run setup from the dashboard: needs the secret printed at start; works once. */
export async function completeSetup(
  db: Kysely<Database>,
  input: {
    secret: string;
    slug: string;
    name: string;
    email: string;
    personName: string;
    password: string;
    requestId: string;
  },
): Promise<NewSession & { org: Org; userId: string }> {
  return db.transaction().execute(async (trx) => {
    const stored = await trx
      .selectFrom('platform_settings')
      .select('value')
      .where('key', '=', SETUP_KEY)
      .executeTakeFirst();
    if (!(await setupNeeded(trx))) {
      throw new ConflictError('setup_done', 'Paddock is already set up. Sign in instead.');
    }
    if (!stored || stored.value !== hashSecret(input.secret)) {
      throw new UnauthenticatedError(
        'setup_link_invalid',
        'This setup link is not valid. Use the link printed at start-up.',
      );
    }
    const user = await ensureUser(trx, {
      email: input.email,
      name: input.personName,
      password: input.password,
    });
    const caller: Caller = {
      requestId: input.requestId,
      actor: { type: 'person', id: user.id },
      userId: user.id,
      tokenId: null,
    };
    const org = await insertOrg(trx, caller, { slug: input.slug, name: input.name });
    await addMembership(trx, caller, trustedScope(org.id), user.id, 'owner', 'first-run setup');
    await trx.deleteFrom('platform_settings').where('key', '=', SETUP_KEY).execute();
    const session = await createSession(trx, user.id, 'setup');
    // Every sign-in is on record, the first one too.
    await recordSignIn(trx, user.id, 'setup', input.requestId);
    return { ...session, org, userId: user.id };
  });
}
