/** The dashboard's data hooks: loading what a page shows and running what it changes. */

export { decidedHere, markDecidedHere } from './decided-here.ts';
export { dismissToast, type Toast, type ToastKind, toast, useToasts } from './toasts.ts';
export { markTrailSeen, trailSeen } from './trail-seen.ts';
export { useAction } from './use-action.ts';
export { useListAction } from './use-list-action.ts';
export {
  LiveProvider,
  type LiveState,
  stillWaiting,
  useApprovalAlerts,
  useLive,
  useLiveReload,
  useNow,
} from './use-live.ts';
export { useLoad } from './use-load.ts';
export { usePeopleNames } from './use-people-names.ts';
export { useRunChat } from './use-run-chat.ts';
export { useRunContinuation } from './use-run-continuation.ts';
export { useRunFollow } from './use-run-follow.ts';
