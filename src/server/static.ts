/**
 * Serves the built dashboard (dashboard/dist); any other page path gets index.html (client
 * routing). Paths that machines ask for are never pages: an MCP client or OAuth discovery that
 * got the dashboard's HTML with a 200 would report a parse error instead of the real answer.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/dist', import.meta.url));

/** The API, MCP endpoints and RFC 8615 well-known URIs: these answer JSON, a 404 included. */
const MACHINE_PATHS = /^\/(api|mcp|\.well-known)(\/|$)/;

/** Whether an unmatched GET is a dashboard page (client routing) rather than a missing resource. */
export function isPagePath(pathname: string): boolean {
  return !MACHINE_PATHS.test(pathname);
}

export function dashboardBuilt(dir = DASHBOARD_DIR): boolean {
  return existsSync(join(dir, 'index.html'));
}

export function serveDashboard(pathname: string, dir = DASHBOARD_DIR): Response {
  if (!dashboardBuilt(dir)) {
    return new Response('The dashboard is not built. Run `npm run build:dashboard` (npm install does it).', {
      status: 503,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  }
  let rel: string;
  try {
    rel = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '');
  } catch {
    rel = '';
  }
  const file = join(dir, rel);
  const inside = file.startsWith(dir + sep);
  if (inside && rel && existsSync(file) && statSync(file).isFile()) {
    const immutable = rel.startsWith(`assets${sep}`);
    return new Response(readFileSync(file), {
      headers: {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      },
    });
  }
  return new Response(readFileSync(join(dir, 'index.html')), {
    headers: { 'content-type': TYPES['.html']!, 'cache-control': 'no-cache' },
  });
}
