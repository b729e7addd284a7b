/**
 * The tenant wall. Every data-access function for org-owned rows takes an OrgScope and adds
 * `org_id = scope.orgId` to its query, so a row of another org cannot be read or written even
 * when its id is known. Scopes are made only by the access check (or by trusted operator code).
 */
declare const scopeBrand: unique symbol;

export interface OrgScope {
  readonly orgId: string;
  readonly [scopeBrand]: true;
}

/** Only for the access check, the CLI acting as operator, and tests. */
export function trustedScope(orgId: string): OrgScope {
  return { orgId } as OrgScope;
}
