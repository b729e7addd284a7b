/**
 * The compliance center: SOC 2 criteria, Paddock's controls mapped to them, evidence collected
 * continuously from the org's state and its tamper-evident log (hashed, recomputable), control
 * results with history, access reviews, the vendor and incident registers, exercises and drills,
 * and the customer's own documents for the criteria Paddock does not cover.
 */
export * from './catalog.ts';
export { type Collection, collectAll, collectEvidence } from './collect.ts';
export { CONTROL_IDS, CONTROLS, controlById, type PaddockControl, type Platform } from './controls/index.ts';
export { DESTRUCTIVE_VERBS, destructiveReason } from './destructive.ts';
export * from './documents.ts';
export { evidenceHash, plainData } from './evidence.ts';
export {
  type EvidenceQuery,
  getEvidence,
  latestResults,
  listEvidence,
  resultHistory,
  type StoredResult,
} from './evidence-store.ts';
export * from './exercises.ts';
export * from './figures.ts';
export { type CriterionRow, type CriterionState, coverage, criteriaGrid } from './grid.ts';
export * from './incidents.ts';
export { type LogSnapshot, LogWindow } from './log-window.ts';
export * from './reviews.ts';
export { type CollectionSummary, collectionTrend } from './trends.ts';
export * from './types.ts';
export * from './vendors.ts';
