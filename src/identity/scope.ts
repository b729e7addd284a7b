/**
 * The tenant wall (the type is the store's, `store/scope.ts`): scopes are made only by the
 * access check, by trusted operator code and by tests.
 */
import type { OrgScope } from '../store/index.ts';

export type { OrgScope } from '../store/index.ts';

/** Only for the access check, the CLI acting as operator, and tests. */
export function trustedScope(orgId: string): OrgScope {
  return { orgId } as OrgScope;
}
