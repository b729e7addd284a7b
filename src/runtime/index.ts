/** Agent runs: started here, run in the org's cell, tools only through the gate, all on record. */

export { PROVIDERS } from './cell/models.ts';
export { type ConversationMessage, conversationMessages, turnsOf } from './conversation-view.ts';
export {
  RunCoordinator,
  type RunListener,
  recorded,
  type StartInput,
  type SystemStart,
} from './coordinator.ts';
export type { RunObserver, RunRef } from './observe.ts';
export { applyRecordRetention, type RecordsDeleted } from './retention.ts';
export {
  listRunRows,
  type Run,
  type RunStatus,
  requireRunRow,
  requireVisibleRun,
  startedBy,
  startedByQuery,
  toRun,
} from './runs.ts';
