/**
 * What may be asked for: `<name>[@version|@range|@tag]` from the registry, nothing else (no git,
 * no URL, no file, no alias), and only a name the operator's allowlist admits.
 */
import npa from 'npm-package-arg';
import { BadRequestError, ForbiddenError } from '../errors/index.ts';

export interface PackageRequest {
  name: string;
  /** An exact version, a semver range or a dist-tag (`latest` when none is given). */
  wanted: string;
  /** Whether `wanted` is one exact version. */
  exact: boolean;
}

/**
 * Parses what was asked for; anything but a registry name and version, range or tag is refused.
 *
 * @example parseRequest('@modelcontextprotocol/server-memory@2026.8.31')
 */
export function parseRequest(text: string): PackageRequest {
  let parsed: ReturnType<typeof npa>;
  try {
    parsed = npa(text.trim());
  } catch (err) {
    throw new BadRequestError(
      'invalid_package',
      `"${text}" is not a package name: ${(err as Error).message}`,
    );
  }
  if (!parsed.name || !['version', 'range', 'tag'].includes(parsed.type)) {
    throw new BadRequestError(
      'invalid_package',
      `"${text}" is not a package from the registry: give <name> or <name>@<version> (no git, URL, file or alias).`,
    );
  }
  return {
    name: parsed.name,
    wanted: parsed.rawSpec === '' || parsed.rawSpec === '*' ? 'latest' : parsed.fetchSpec!,
    exact: parsed.type === 'version',
  };
}

/** `<name>@<version>`, exact, as a connection names an installed package. */
export function parseInstalled(text: string): { name: string; version: string } {
  const r = parseRequest(text);
  if (!r.exact) {
    throw new BadRequestError(
      'invalid_package',
      `"${text}" names no exact version: a connection runs one installed version, e.g. ${r.name}@1.2.3.`,
    );
  }
  return { name: r.name, version: r.wanted };
}

/**
 * Whether the allowlist admits a name: an entry is an exact name, or a scope with `/*`
 * (`@modelcontextprotocol/*`), or `*` for any.
 */
export function allowedName(name: string, allowlist: string[]): boolean {
  return allowlist.some(
    (entry) =>
      entry === '*' || entry === name || (entry.endsWith('/*') && name.startsWith(entry.slice(0, -1))),
  );
}

export function checkAllowed(name: string, allowlist: string[]): void {
  if (allowedName(name, allowlist)) return;
  throw new ForbiddenError(
    'package_not_allowed',
    allowlist.length === 0
      ? `No package may be installed here: the operator has not set PADDOCK_SERVER_PACKAGES (names or scopes, e.g. "@modelcontextprotocol/*").`
      : `${name} is not on this installation's list of MCP server packages (PADDOCK_SERVER_PACKAGES: ${allowlist.join(', ')}).`,
  );
}
