/** A token's state, worked out from its times, and the badge that shows it. */
import { formatDate } from './format.ts';

type TokenState = 'active' | 'revoked' | 'expired';
const TOKEN_STATE_LABEL: Record<TokenState, string> = {
  active: 'Active',
  revoked: 'Revoked',
  expired: 'Expired',
};

/** A token's state now (person and agent tokens alike). */
export function tokenState(
  t: { revokedAt: string | null; expiresAt: string | null },
  now: number,
): TokenState {
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt && Date.parse(t.expiresAt) <= now) return 'expired';
  return 'active';
}

/** The state badge of a token row, with the revocation date (one look for every token table). */
export function TokenStateBadge({
  token,
  now,
}: {
  token: { revokedAt: string | null; expiresAt: string | null };
  now: number;
}) {
  const s = tokenState(token, now);
  return (
    <span className={`status status-${s}`}>
      {TOKEN_STATE_LABEL[s]}
      {s === 'revoked' ? ` ${formatDate(token.revokedAt)}` : ''}
    </span>
  );
}
