/**
 * A request from Slack, checked before anything is read from it: its timestamp within five
 * minutes, its `v0` signature (HMAC-SHA256 of `v0:{timestamp}:{body}` with the app's signing
 * secret, verified by Bolt's own `isValidSlackRequest`), then its body parsed — JSON for the
 * Events API, `payload=` form fields for interactivity.
 * https://api.slack.com/authentication/verifying-requests-from-slack
 */
/** Bolt, loaded the first time Slack is used (it is large; the CLI and most servers never need it). */
export const bolt = () => import('@slack/bolt');
/** Slack's Socket Mode client (Bolt's own), loaded only when an org uses Socket Mode. */
export const socketMode = () => import('@slack/socket-mode');

/** Slack's own window: a request older (or newer) than this is refused as a possible replay. */
export const TOLERANCE_SECONDS = 300;

export type Problem = 'headers_invalid' | 'timestamp_too_old' | 'timestamp_too_new' | 'signature_invalid';

export interface Signed {
  timestamp: number;
  signature: string;
}

export function readHeaders(header: (name: string) => string | undefined): Signed | null {
  const ts = header('x-slack-request-timestamp');
  const signature = header('x-slack-signature');
  if (!ts || !/^\d{1,12}$/.test(ts) || !signature || !/^v0=[a-f0-9]{64}$/.test(signature)) return null;
  return { timestamp: Number(ts), signature };
}

export function timestampProblem(timestamp: number, nowSeconds: number): Problem | null {
  if (timestamp < nowSeconds - TOLERANCE_SECONDS) return 'timestamp_too_old';
  if (timestamp > nowSeconds + TOLERANCE_SECONDS) return 'timestamp_too_new';
  return null;
}

export async function signatureValid(
  signingSecret: string,
  signed: Signed,
  body: string,
  nowSeconds: number,
): Promise<boolean> {
  const { isValidSlackRequest } = await bolt();
  return isValidSlackRequest({
    signingSecret,
    body,
    headers: { 'x-slack-signature': signed.signature, 'x-slack-request-timestamp': signed.timestamp },
    nowMilliseconds: nowSeconds * 1000,
  });
}

/** The body as Slack sent it: an Events API JSON object, or an interactivity payload; null when neither. */
export function parseBody(contentType: string | undefined, body: string): Record<string, unknown> | null {
  try {
    const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
    let value: unknown;
    if (type === 'application/json') value = JSON.parse(body);
    else if (type === 'application/x-www-form-urlencoded') {
      const payload = new URLSearchParams(body).get('payload');
      if (payload === null) return null;
      value = JSON.parse(payload);
    } else return null;
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** The workspace a body comes from, wherever its type puts it. */
export function teamOf(body: Record<string, unknown>): string | undefined {
  if (typeof body.team_id === 'string') return body.team_id;
  const team = body.team as { id?: unknown } | undefined;
  return team && typeof team.id === 'string' ? team.id : undefined;
}
