/** A signed-in person's own account: their password. */
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/index.ts';
import { ForbiddenError, UnauthenticatedError } from '../errors/index.ts';
import type { Database } from '../store/index.ts';
import type { Caller } from './context.ts';
import { hashPassword, verifyPassword } from './credentials.ts';
import { assertPassword } from './people.ts';

/** Sets a new password. The current one is required when there is one. Ends other sessions. */
export async function changePassword(
  db: Kysely<Database>,
  caller: Caller & { userId: string },
  session: { id: string; orgId: string | null },
  input: { currentPassword?: string | undefined; newPassword: string },
): Promise<void> {
  assertPassword(input.newPassword);
  await db.transaction().execute(async (trx) => {
    const user = await trx
      .selectFrom('users')
      .select(['id', 'password_hash'])
      .where('id', '=', caller.userId)
      .executeTakeFirstOrThrow();
    if (user.password_hash && !(await verifyPassword(input.currentPassword ?? '', user.password_hash))) {
      throw new UnauthenticatedError('bad_credentials', 'The current password is wrong.');
    }
    // A first password would open every org of the person; one org's identity provider (which
    // that org's admin chooses) vouches for that org only, so its session cannot set one.
    if (!user.password_hash && session.orgId !== null) {
      throw new ForbiddenError(
        'password_needs_account_sign_in',
        "You signed in through your organization's single sign-on, which vouches for that organization only. Keep signing in that way; a password can't be set from it.",
      );
    }
    await trx
      .updateTable('users')
      .set({ password_hash: await hashPassword(input.newPassword) })
      .where('id', '=', user.id)
      .execute();
    await trx.deleteFrom('sessions').where('user_id', '=', user.id).where('id', '!=', session.id).execute();
    const orgs = await trx
      .selectFrom('memberships')
      .select('org_id')
      .where('user_id', '=', user.id)
      .execute();
    for (const o of orgs) {
      await recordAudit(trx, {
        orgId: o.org_id,
        actor: caller.actor,
        action: 'person.password.changed',
        target: { type: 'person', id: user.id },
        requestId: caller.requestId,
      });
    }
  });
}
