/** The dashboard's way to the Paddock API: the calls, their errors, the wire shapes and role rules. */
export * from './choices.ts';
export { api } from './client.ts';
export { ApiError, errorMessage, isSessionEnded } from './errors.ts';
export { type LiveHandlers, openLive } from './live.ts';
export { assignableRoles, canManage, canStartRuns } from './roles.ts';
export { messageRun, messageText, type RunMessage, runEnded } from './run-message.ts';
export {
  type AnswerPart,
  followRun,
  readAnswer,
  readContinuation,
  runTransport,
  type ToolCallView,
} from './run-stream.ts';
export type * from './wire.ts';
