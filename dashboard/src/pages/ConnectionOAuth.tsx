/**
 * A remote connection's OAuth sign-in, in its row on the Connections page: whether it (or, for a
 * per-person connection, your own account) is connected, and Connect — the browser goes to the
 * server's authorization server and comes back to Paddock. Owners and admins set a connection up
 * (for the org, or per person); on a per-person connection anyone connects their own account.
 * No token is ever shown: the API never answers one.
 */
import { useState } from 'react';
import { api, type Connection } from '../api/index.ts';
import { useAction, useLoad } from '../data/index.ts';
import { TextField } from '../ui/index.ts';

const oauthErrors: Record<string, string> = {
  oauth_state_invalid: 'That connect request was unknown, used, expired or started elsewhere. Connect again.',
  oauth_issuer_mismatch: 'The answer came from another authorization server. Connect again.',
  oauth_denied: 'The authorization server did not authorize Paddock.',
  oauth_exchange_failed: 'The authorization server refused the code. Connect again.',
};

/** What the page says after the browser came back (`?connected=` or `?oauthError=`). */
export function oauthOutcome(
  q: URLSearchParams,
  name: (id: string) => string | undefined,
): { ok?: string; error?: string } {
  const connected = q.get('connected');
  if (connected)
    return { ok: `Connected ${name(connected) ?? 'the server'}. List its tools to grant them to agents.` };
  const code = q.get('oauthError');
  if (code) return { error: oauthErrors[code] ?? `Connecting failed (${code}).` };
  return {};
}

export function ConnectionOAuth({
  slug,
  connection,
  manage,
  own,
}: {
  slug: string;
  connection: Connection;
  manage: boolean;
  /** Whether the viewer connects accounts at all (auditors only read). */
  own: boolean;
}) {
  const status = useLoad(() => api.connectionOAuth(slug, connection.id), `${slug}/${connection.id}`);
  const act = useAction();
  const s = status.data;
  /** A client registered by hand at the provider (when it offers no dynamic registration). */
  const [byHand, setByHand] = useState(false);
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const go = (perPerson?: boolean) =>
    act.run(async () => {
      const { authorizationUrl } = await api.startConnectionOAuth(slug, connection.id, {
        ...(perPerson === undefined ? {} : { perPerson }),
        ...(byHand && clientId.trim() ? { clientId: clientId.trim() } : {}),
        ...(byHand && clientSecret ? { clientSecret } : {}),
      });
      window.location.assign(authorizationUrl);
    });
  const label = <span className="sr-only"> {connection.name}</span>;
  if (!s) return null;
  return (
    <span className="oauth-connect" data-testid="connection-oauth">
      {s.oauth ? (
        <span className="tag" data-testid="connection-oauth-state">
          {s.connected ? (s.perPerson ? 'Your account connected' : 'Connected') : 'Not connected'}
          {s.perPerson ? ` · per person (${s.people ?? 0})` : ''}
        </span>
      ) : null}{' '}
      {s.oauth && s.connected && ((s.perPerson && own) || manage) ? (
        <button
          type="button"
          className="btn btn-secondary btn-small"
          disabled={act.busy}
          onClick={() =>
            void act.run(async () => {
              await api.disconnectConnectionOAuth(slug, connection.id);
              await status.reload();
            })
          }
        >
          Disconnect{label}
        </button>
      ) : s.oauth && ((s.perPerson && own) || manage) ? (
        <button
          type="button"
          className="btn btn-primary btn-small"
          disabled={act.busy}
          onClick={() => void go()}
        >
          {s.perPerson ? 'Connect my account' : 'Connect'}
          {label}
        </button>
      ) : !s.oauth && manage ? (
        <>
          <button
            type="button"
            className="btn btn-primary btn-small"
            disabled={act.busy}
            onClick={() => void go(false)}
          >
            Connect{label}
          </button>{' '}
          <button
            type="button"
            className="btn btn-secondary btn-small"
            disabled={act.busy}
            title="Each person connects their own account; an agent acts as the person its run or token is for"
            onClick={() => void go(true)}
          >
            Connect per person{label}
          </button>{' '}
          <button
            type="button"
            className="btn btn-link btn-small"
            aria-expanded={byHand}
            onClick={() => setByHand(!byHand)}
          >
            Client registered by hand{label}
          </button>
          {byHand ? (
            <span className="oauth-client">
              <TextField
                label="Client id"
                value={clientId}
                onChange={setClientId}
                hint="From the provider, when it offers no dynamic registration."
              />
              <TextField
                label="Client secret"
                type="password"
                autoComplete="off"
                value={clientSecret}
                onChange={setClientSecret}
                hint="Sealed in the vault; never shown again. Leave empty for a public client."
              />
            </span>
          ) : null}
        </>
      ) : null}
      {act.error ? (
        <span className="field-error" role="alert">
          {act.error}
        </span>
      ) : null}
    </span>
  );
}
