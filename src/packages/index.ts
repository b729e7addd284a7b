/** MCP server packages: installed from the npm registry, verified, pinned and read-only (see docs/server-packages.md). */
export { type InstallOutcome, InstallRefusedError, type InstallSettings } from './install.ts';
export {
  laidOutHere,
  type PackageSource,
  packageReady,
  packageReadyFor,
  recordedPackage,
} from './replica.ts';
export * from './service.ts';
export { allowedName, checkAllowed, parseInstalled, parseRequest } from './spec.ts';
export {
  binOf,
  type InstalledPackage,
  packageDir,
  readInstalled,
  SANDBOX_PACKAGES,
} from './store.ts';
