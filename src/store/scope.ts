/**
 * The tenant wall's type. Every data-access function for org-owned rows takes an OrgScope and
 * adds `org_id = scope.orgId` to its query, so a row of another org cannot be read or written
 * even when its id is known. The brand means a scope cannot be written as a literal: only the
 * access check makes one (`identity`'s `trustedScope` for operator code and tests). It lives here,
 * below every domain, so each domain's data access can ask for it.
 */
declare const scopeBrand: unique symbol;

export interface OrgScope {
  readonly orgId: string;
  readonly [scopeBrand]: true;
}
