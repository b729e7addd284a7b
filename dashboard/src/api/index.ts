/** The dashboard's way to the Paddock API: the calls, their errors, the wire shapes and role rules. */
export * from './choices.ts';
export { api } from './client.ts';
export { ApiError, errorMessage, isSessionEnded } from './errors.ts';
export { assignableRoles, canManage } from './roles.ts';
export type * from './wire.ts';
