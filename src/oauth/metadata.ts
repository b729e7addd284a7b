/**
 * What Paddock publishes for OAuth discovery: each org's `/mcp/{org}` as a protected resource
 * (RFC 9728) whose authorization server is Paddock itself (RFC 8414), and the mapping between an
 * org and its resource identifier (RFC 8707), which binds every token to one org's endpoint.
 */
import { SLUG_PATTERN } from '../identity/index.ts';

/** Where everything lives, under the public URL (no trailing slash). */
export const OAUTH_PATHS = {
  authorize: '/oauth/authorize',
  token: '/oauth/token',
  register: '/oauth/register',
  serverMetadata: '/.well-known/oauth-authorization-server',
  resourceMetadata: '/.well-known/oauth-protected-resource',
} as const;

const base = (publicUrl: string) => publicUrl.replace(/\/+$/, '');

/** The resource identifier of an org's MCP endpoint: the URL clients connect to. */
export function resourceOf(publicUrl: string, slug: string): string {
  return `${base(publicUrl)}/mcp/${slug}`;
}

/** Where an org's protected-resource metadata is (RFC 9728 §3.1: the resource's path after the well-known name). */
export function resourceMetadataUrl(publicUrl: string, slug: string): string {
  return `${base(publicUrl)}${OAUTH_PATHS.resourceMetadata}/mcp/${slug}`;
}

/** The org slug a resource identifier names, or null if it is not one of this server's MCP endpoints. */
export function slugOfResource(publicUrl: string, resource: string): string | null {
  const prefix = `${base(publicUrl)}/mcp/`;
  if (!resource.startsWith(prefix)) return null;
  const slug = resource.slice(prefix.length);
  return SLUG_PATTERN.test(slug) ? slug : null;
}

/** RFC 9728 §2: the org's endpoint, its authorization server, and how a token is sent. */
export function protectedResourceMetadata(publicUrl: string, slug: string) {
  return {
    resource: resourceOf(publicUrl, slug),
    authorization_servers: [base(publicUrl)],
    bearer_methods_supported: ['header'],
    resource_name: `Paddock MCP endpoint of ${slug}`,
  };
}

/** RFC 8414 §2: public clients only, the code flow with S256 PKCE, refresh tokens, registration. */
export function authorizationServerMetadata(publicUrl: string) {
  const b = base(publicUrl);
  return {
    issuer: b,
    authorization_endpoint: `${b}${OAUTH_PATHS.authorize}`,
    token_endpoint: `${b}${OAUTH_PATHS.token}`,
    registration_endpoint: `${b}${OAUTH_PATHS.register}`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['none'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
  };
}
