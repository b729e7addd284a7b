/** Builds the OpenAPI 3.1 document from the route declarations (served at /api/v1/openapi.json). */
import { z } from 'zod';
import type { RouteDef } from './route.ts';
import { ErrorSchema } from './schemas.ts';

type Json = Record<string, unknown>;

function schemaOf(s: z.ZodType, io: 'input' | 'output'): Json {
  return z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
}

// Named shapes (`.meta({ id })`) become shared components instead of per-operation copies.
const components: Record<string, Json> = {};

function strip(s: Json): Json {
  const { $schema: _, $defs, ...rest } = s as Json & { $defs?: Record<string, Json> };
  for (const [name, def] of Object.entries($defs ?? {})) components[name] = def;
  return JSON.parse(JSON.stringify(rest).replaceAll('"#/$defs/', '"#/components/schemas/')) as Json;
}

function parameters(s: z.ZodType | undefined, where: 'path' | 'query'): Json[] {
  if (!s) return [];
  const js = schemaOf(s, 'input') as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, schema]) => ({
    name,
    in: where,
    required: where === 'path' || (js.required ?? []).includes(name),
    schema,
  }));
}

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: strip(schemaOf(ErrorSchema, 'output')) } },
});

export function buildOpenApi(routes: RouteDef[], version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    const status = String(r.status ?? 200);
    const responses: Record<string, Json> = {};
    const json = r.response && { 'application/json': { schema: strip(schemaOf(r.response, 'output')) } };
    if (r.raw) {
      // One status, two forms (a stream or JSON, by Accept): both contents under it.
      const content = {
        ...(String(r.raw.status) === status ? json : {}),
        ...Object.fromEntries((r.raw.contentTypes ?? []).map((t) => [t, {}])),
      };
      responses[String(r.raw.status)] = {
        description: r.raw.description,
        ...(Object.keys(content).length ? { content } : {}),
      };
    }
    if (String(r.raw?.status) !== status) {
      if (json && status !== '204') responses[status] = { description: 'Success', content: json };
      else if (!r.raw) responses[status] = { description: 'Done' };
    }
    responses['400'] = errorResponse('Bad input: malformed JSON, unknown field, wrong type or value');
    if (r.access !== 'public') {
      responses['401'] = errorResponse('No valid credential');
      responses['403'] = errorResponse('Role does not allow this');
    }
    if (typeof r.access === 'object' || r.access === 'agent')
      responses['404'] = errorResponse('No such organization or object for you');
    const op: Json = {
      operationId: `${r.method}${r.path.replace(/[{}]/g, '').replace(/[^a-zA-Z0-9]+(.)?/g, (_m, ch: string) => (ch ?? '').toUpperCase())}`,
      summary: r.summary,
      tags: [r.tag],
      'x-paddock-access': typeof r.access === 'object' ? r.access.permission : r.access,
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')].map(strip),
      responses,
    };
    if (r.access === 'agent') op.security = [{ agentToken: [] }];
    else if (r.access === 'scrape') op.security = [{ scrapeToken: [] }];
    else if (r.access !== 'public') op.security = [{ bearer: [] }, { session: [] }];
    if (r.body) {
      op.requestBody = {
        // A body with defaults for everything (a removal's choices) may be left out.
        required: !r.body.safeParse(undefined).success,
        content: { 'application/json': { schema: strip(schemaOf(r.body, 'input')) } },
      };
    }
    if (r.rawBody) {
      op.requestBody = { required: false, description: r.rawBody.description, content: { '*/*': {} } };
    }
    paths[r.path] ??= {};
    paths[r.path]![r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Paddock API',
      version,
      description: 'Run AI agents under security controls. Errors are {"error":{"code","message"}}.',
    },
    paths,
    components: {
      schemas: JSON.parse(JSON.stringify(components).replaceAll('"#/$defs/', '"#/components/schemas/')),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API token (pdk_…)' },
        session: { type: 'apiKey', in: 'cookie', name: 'paddock_session' },
        agentToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'An agent token (pda_…), on /mcp/{org} only',
        },
        scrapeToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'The metrics scrape token (PADDOCK_METRICS_TOKEN), on /metrics only',
        },
      },
    },
  };
}
