/** Team feedback: flags on agents' answers, linked to the audit entry that recorded them. */
export { type Feedback, type FlaggedDay, flagOutput, listFeedback, resolveFeedback } from './feedback.ts';
