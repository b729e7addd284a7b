/**
 * OAuth's own error answers (RFC 6749 §5.2, RFC 7591 §3.2.2): `{"error","error_description"}`,
 * which OAuth clients read, instead of Paddock's `{"error":{"code","message"}}`.
 */
import { PaddockError } from '../errors/index.ts';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'temporarily_unavailable';

/** An OAuth refusal: a PaddockError whose code is the OAuth error code. */
export class OAuthError extends PaddockError {
  constructor(code: OAuthErrorCode, description: string, status = 400) {
    super(status, code, description);
  }
}

const CODES = new Set<string>([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'unsupported_response_type',
  'invalid_scope',
  'invalid_target',
  'access_denied',
  'invalid_redirect_uri',
  'invalid_client_metadata',
  'temporarily_unavailable',
]);

/** An error as OAuth names it: its own code when it has one, else the nearest OAuth code. */
export function asOAuth(err: PaddockError): { status: number; error: string } {
  if (err.status === 429) return { status: 429, error: 'temporarily_unavailable' };
  if (err.status >= 500 && err.code !== 'temporarily_unavailable')
    return { status: 500, error: 'server_error' };
  if (!CODES.has(err.code)) return { status: 400, error: 'invalid_request' };
  if (err.code === 'invalid_client') return { status: 401, error: err.code };
  return { status: err.status >= 500 ? err.status : 400, error: err.code };
}

/** The answer an OAuth endpoint gives for an error (RFC 6749 §5.2); never cached. */
export function oauthErrorResponse(err: PaddockError, requestId: string): Response {
  const { status, error } = asOAuth(err);
  return Response.json(
    { error, error_description: err.message },
    {
      status,
      headers: { 'cache-control': 'no-store', pragma: 'no-cache', 'x-request-id': requestId },
    },
  );
}
