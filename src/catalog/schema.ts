/**
 * The catalog's shape, checked when it is loaded: the file is ours, but a bad entry must fail CI
 * (src/catalog/catalog.test.ts), not reach a person as a card that cannot work.
 */
import npa from 'npm-package-arg';
import { z } from 'zod';
import { secretNameFits } from '../connections/index.ts';

const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !/\p{Cc}/u.test(s), 'no control characters');

/** `<name>@<exact version>` from the registry: what the catalog pins, and what gets installed. */
const exactPackage = z.string().refine((s) => {
  try {
    const p = npa(s);
    return p.type === 'version' && !!p.name && s === `${p.name}@${p.fetchSpec}`;
  } catch {
    return false;
  }
}, 'a registry package pinned to one exact version, e.g. @scope/name@1.2.3');

const httpsUrl = z
  .string()
  .max(300)
  .refine((s) => {
    if (!URL.canParse(s)) return false;
    const u = new URL(s);
    return u.protocol === 'https:' && !u.username && !u.password && !u.hash;
  }, 'an https URL without credentials or fragment');

const host = z
  .string()
  .max(253)
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'a lower-case DNS host name');

export const CatalogCredential = z
  .strictObject({
    /** The environment variable or header the secret is given as. */
    field: z.string().min(1).max(64),
    as: z.enum(['env', 'header']),
    label: text(80),
    /** The vault secret's name that fills the field when none is chosen. */
    secretName: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes'),
    help: text(300),
  })
  .refine((c) => secretNameFits(c.field, c.as), {
    message: 'not a name a secret may be given as (a reserved or malformed environment variable or header)',
    path: ['field'],
  });

export const CatalogEntry = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,39}$/, 'lower-case letters, digits and dashes'),
    name: text(80),
    vendor: text(80),
    description: text(300),
    homepage: httpsUrl,
    source: z.discriminatedUnion('kind', [
      z.strictObject({
        kind: z.literal('npm'),
        package: exactPackage,
        bin: z.string().min(1).max(100).optional(),
        args: z.array(text(200)).max(20),
      }),
      z.strictObject({
        kind: z.literal('remote'),
        url: httpsUrl,
        /** The vendor's way in is OAuth sign-in (which needs Paddock's OAuth client for remote servers). */
        oauth: z.boolean(),
      }),
    ]),
    credentials: z.array(CatalogCredential).max(10),
    /** Hosts the server calls (the org's egress rules must allow them). */
    egress: z.array(host).max(20),
    /** Tools to offer as starting grants: read-only ones, by their annotations. */
    suggestedGrants: z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/)).max(50),
  })
  .superRefine((e, ctx) => {
    const fields = e.credentials.map((c) => `${c.as}:${c.field.toLowerCase()}`);
    if (new Set(fields).size !== fields.length)
      ctx.addIssue({ code: 'custom', message: 'a field is named twice', path: ['credentials'] });
    if (e.source.kind === 'npm' && e.credentials.some((c) => c.as === 'header'))
      ctx.addIssue({
        code: 'custom',
        message: 'a local server takes environment variables, not headers',
        path: ['credentials'],
      });
    if (e.source.kind === 'remote') {
      if (e.credentials.some((c) => c.as === 'env'))
        ctx.addIssue({
          code: 'custom',
          message: 'a remote server takes headers, not environment variables',
          path: ['credentials'],
        });
      if (!e.source.oauth && e.credentials.length === 0)
        ctx.addIssue({
          code: 'custom',
          message: 'a remote server needs OAuth sign-in or a credential',
          path: ['source'],
        });
      const urlHost = new URL(e.source.url).hostname;
      if (!e.egress.includes(urlHost))
        ctx.addIssue({
          code: 'custom',
          message: `egress must include the server's host ${urlHost}`,
          path: ['egress'],
        });
    }
  });

export const CatalogFile = z
  .strictObject({
    /** The catalog's version: the date it was last revised. */
    version: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    entries: z.array(CatalogEntry).min(1).max(500),
  })
  .superRefine((c, ctx) => {
    const ids = c.entries.map((e) => e.id);
    const twice = ids.find((id, i) => ids.indexOf(id) !== i);
    if (twice)
      ctx.addIssue({ code: 'custom', message: `entry "${twice}" is listed twice`, path: ['entries'] });
  });

export type CatalogEntry = z.infer<typeof CatalogEntry>;
export type Catalog = z.infer<typeof CatalogFile>;

/** Checks a catalog; the error names every problem by its place (`entries.3.source.package: …`). */
export function parseCatalog(data: unknown): Catalog {
  const r = CatalogFile.safeParse(data);
  if (r.success) return r.data;
  throw new Error(
    `The MCP server catalog is not valid: ${r.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ')}`,
  );
}
