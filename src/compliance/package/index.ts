/** The evidence package: build it (streamed ZIP) and verify it offline. */
export type { BuiltPackage, PackageInput, PackageLog, PackageSummary } from './build.ts';
export { buildPackage } from './build.ts';
export { readDataFlow } from './dataflow-source.ts';
export { renderPdf } from './pdf.ts';
export { evidencePackage, type PackageDeps, parsePeriod, periodOf } from './service.ts';
export type { ControlInfo, DataFlow, EvidenceSource, Period } from './source.ts';
export { storedEvidence } from './stored-source.ts';
export type { PackageVerification } from './verify.ts';
export { verifyPackage } from './verify.ts';
