/**
 * MCP server packages: installed from the npm registry within the operator's allowlist, shared by
 * the installation, read-only; an org's owners and admins install and remove them, everyone reads.
 */
import { z } from 'zod';
import { addFromCatalog, CatalogFile, catalogFor } from '../../catalog/index.ts';
import {
  installServerPackage,
  listServerPackages,
  type PackageAsker,
  removeServerPackage,
} from '../../packages/index.ts';
import type { Deps } from '../deps.ts';
import { defineRoute } from '../route.ts';
import { Name, OrgParams, Timestamp } from '../schemas.ts';
import { ConnectionSchema, ToolRefreshSchema } from './connections.ts';

export const ServerPackageSchema = z
  .object({
    id: z.string().describe('`<name>@<version>`, as a connection names it'),
    name: z.string(),
    version: z.string(),
    integrity: z.string().describe("the package tarball's SRI integrity (sha512), as verified"),
    lockfileSha256: z.string().describe('SHA-256 of its stored package-lock.json'),
    packages: z.number().describe('packages in its tree, itself included, each verified'),
    registry: z.string(),
    installedAt: Timestamp,
    installedBy: z.string(),
    usedBy: z
      .array(z.object({ connectionId: z.string(), connectionName: z.string() }))
      .describe("this organization's connections that run it"),
    usedElsewhere: z.number().describe('connections of other organizations that run it (counted only)'),
  })
  .meta({ id: 'ServerPackage' });

export const ServerPackageListSchema = z.object({
  packages: z.array(ServerPackageSchema),
  allowlist: z.array(z.string()).describe('names and scopes the operator allows (PADDOCK_SERVER_PACKAGES)'),
  registry: z.string(),
});
export const ServerPackageInstallBodySchema = z.strictObject({
  package: z.string().min(1).max(300).describe('`<name>`, `<name>@<version>` or `<name>@<range>`'),
});
export const ServerPackageInstalledSchema = z.object({
  package: ServerPackageSchema,
  already: z.boolean().describe('that version was installed already: nothing was fetched'),
});

/** One catalog entry as it is in the repository's catalog.json (src/catalog/schema.ts). */
const CatalogEntrySchema = CatalogFile.shape.entries.element;

export const CatalogCardSchema = z
  .object({
    ...CatalogEntrySchema.shape,
    status: z.object({
      allowed: z.boolean().nullable().describe("npm entries: the operator's allowlist admits the package"),
      installed: z.boolean().nullable().describe('npm entries: that exact version is installed'),
      needsOAuth: z.boolean().describe("remote entries whose vendor's way in is OAuth sign-in"),
      credentials: z.array(
        z.object({
          field: z.string(),
          secretName: z.string(),
          secretId: z.string().nullable().describe('the vault secret of that name in this organization'),
        }),
      ),
      egress: z.array(z.object({ host: z.string(), allowed: z.boolean() })),
      connections: z
        .array(z.object({ id: z.string(), name: z.string() }))
        .describe("this organization's connections made from it"),
      addable: z.boolean(),
      blocked: z.string().nullable().describe('why it cannot be added now, when it cannot'),
    }),
  })
  .meta({ id: 'CatalogCard' });

export const CatalogListSchema = z.object({
  version: z.string().describe("the catalog's version: the date it was last revised"),
  entries: z.array(CatalogCardSchema),
});

export const CatalogAddBodySchema = z.strictObject({
  name: Name(64).optional().describe("the connection's name (default: the entry's id)"),
  secrets: z
    .record(z.string().max(64), z.string().min(1).max(64))
    .optional()
    .describe("field → vault secret id (default: the org's secret named as the entry says)"),
  allowEgress: z
    .boolean()
    .optional()
    .describe(
      "also allow the hosts the server calls (port 443) on the organization's egress allowlist, audited as org.egress.added (needs org.update); without it they are only reported",
    ),
});

export const CatalogAddedSchema = z.object({
  entry: z.string(),
  connection: ConnectionSchema,
  tools: ToolRefreshSchema.nullable().describe(
    'its tools as listed; null until it is signed in to (`signIn`)',
  ),
  signIn: z
    .boolean()
    .describe(
      'made for OAuth sign-in (no token in the vault): connect it from its row, then its tools are listed',
    ),
  installed: z.object({ package: z.string(), integrity: z.string(), already: z.boolean() }).nullable(),
  suggestedGrants: z
    .array(z.object({ tool: z.string(), title: z.string().nullable(), description: z.string().nullable() }))
    .describe('read-only tools to offer as starting grants; nothing is granted until a person accepts each'),
  egress: z
    .object({
      allowed: z.array(z.string()).describe('hosts added to the egress allowlist by this step'),
      missing: z
        .array(z.string())
        .describe('hosts the server calls that the egress allowlist still does not admit'),
    })
    .describe('the hosts the server calls'),
});

const asker = (ctx: { actor: PackageAsker['actor']; requestId: string; scope: { orgId: string } }) => ({
  actor: ctx.actor,
  requestId: ctx.requestId,
  orgId: ctx.scope.orgId,
});

const settings = (deps: Deps) => ({
  home: deps.config.home,
  registry: deps.config.npmRegistry,
  allowlist: deps.config.serverPackages,
});

export const serverPackageRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/server-packages',
    summary:
      'The installed MCP server packages, which of this organization’s connections run each, and what may be installed',
    tag: 'server-packages',
    access: { permission: 'connections.read' },
    params: OrgParams,
    response: z.object({
      packages: z.array(ServerPackageSchema),
      allowlist: z
        .array(z.string())
        .describe('names and scopes the operator allows (PADDOCK_SERVER_PACKAGES)'),
      registry: z.string(),
    }),
    handler: async ({ ctx, deps }) => ({
      packages: await listServerPackages(deps.store.db, ctx.scope.orgId),
      allowlist: deps.config.serverPackages,
      registry: deps.config.npmRegistry,
    }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/server-packages',
    summary:
      'Install an MCP server package and its dependencies from the npm registry: allowlisted names only, every tarball checked against its integrity, no install script run (audited)',
    tag: 'server-packages',
    access: { permission: 'connections.manage' },
    params: OrgParams,
    body: ServerPackageInstallBodySchema,
    response: ServerPackageInstalledSchema,
    status: 201,
    handler: async ({ ctx, deps, body }) => {
      const r = await installServerPackage(deps.store.db, settings(deps), asker(ctx), body.package);
      const listed = await listServerPackages(deps.store.db, ctx.scope.orgId);
      return { package: listed.find((p) => p.id === r.installed.id)!, already: r.already };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/orgs/{org}/server-packages',
    summary: 'Remove an installed MCP server package; refused while any connection runs it (audited)',
    tag: 'server-packages',
    access: { permission: 'connections.manage' },
    params: OrgParams,
    query: z.strictObject({ package: z.string().min(1).max(300).describe('`<name>@<version>`') }),
    status: 204,
    handler: async ({ ctx, deps, query }) => {
      await removeServerPackage(deps.store.db, settings(deps), asker(ctx), query.package);
      return undefined;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/catalog',
    summary:
      'The catalog of well-known MCP servers, each with what it needs (credentials, egress) and whether this organization can add it now',
    tag: 'server-packages',
    access: { permission: 'connections.read' },
    params: OrgParams,
    response: CatalogListSchema,
    handler: async ({ ctx, deps }) =>
      catalogFor(deps.store.db, ctx.scope.orgId, {
        home: deps.config.home,
        allowlist: deps.config.serverPackages,
      }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/catalog/{entry}/connections',
    summary:
      'Add a connection from a catalog entry: its package installed (allowlisted only, audited), its credential fields filled from the vault, its tools listed; read-only tools returned as suggested grants, none granted',
    tag: 'server-packages',
    access: { permission: 'connections.manage' },
    params: z.strictObject({ org: OrgParams.shape.org, entry: z.string().min(1).max(40) }),
    body: CatalogAddBodySchema,
    response: CatalogAddedSchema,
    status: 201,
    handler: async ({ ctx, deps, params, body }) =>
      addFromCatalog(deps.opener, settings(deps), ctx, asker(ctx), params.entry, body),
  }),
];
