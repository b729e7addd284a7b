/** Identity and tenancy: organizations, people, roles, teams, tokens, sessions, links and SSO. */
export * from './access.ts';
export * from './account.ts';
export * from './bootstrap.ts';
export * from './context.ts';
export { hashSecret, newSecret, sameSecret } from './credentials.ts';
export * from './links.ts';
export * from './org-egress.ts';
export * from './orgs.ts';
export * from './people.ts';
export * from './removal.ts';
export * from './roles.ts';
export * from './scope.ts';
export * from './sessions.ts';
export * from './sso.ts';
export * from './teams.ts';
export * from './tokens.ts';
