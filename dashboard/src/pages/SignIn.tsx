/** `/signin`: email and password, or single sign-on through an organization's identity provider. */
import { useEffect, useState } from 'react';
import { api } from '../api/index.ts';
import { useAction } from '../data/index.ts';
import { enterApp, oauthReturn } from '../session.ts';
import { Alert, AuthShell, onSubmit, TextField } from '../ui/index.ts';

/** What the single sign-on round trip's error codes (`/signin?error=…`) mean to the person. */
const SSO_ERRORS: Record<string, string> = {
  sso_failed: 'Single sign-on failed. Try again, or sign in with your password.',
  sso_not_configured:
    'No single sign-on is set up for that organization slug. Check the slug, or sign in with your password.',
  sso_unreachable:
    "The organization's identity provider could not be reached. Try again later, or ask your administrator.",
  sso_refused: 'The identity provider did not sign you in.',
  sso_no_email: 'The identity provider sent no email address. Ask your administrator.',
  sso_email_unverified: 'The identity provider says your email is not verified.',
  sso_state_missing: 'The sign-in response was incomplete. Start again.',
  sso_state_invalid: 'That sign-in attempt is unknown or expired. Start again.',
  sso_other_browser: 'That sign-in was started in another browser or tab. Start again here.',
  sso_start_here: 'A single sign-on was started from another site. If you meant to sign in, start here.',
  not_a_member: 'You are not a member of that organization. Ask an admin for an invitation.',
  removed_from_org: 'You were removed from that organization. An admin must invite you again.',
  invitation_needed:
    'Your email already has a Paddock account with a password. Ask an admin of that organization for an invitation.',
};

function describeError(code: string): string {
  return SSO_ERRORS[code] ?? `Sign-in failed (${code}). Try again or ask your administrator.`;
}

export function SignInPage({ search }: { search: string }) {
  const queryError = new URLSearchParams(search).get('error');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [slug, setSlug] = useState('');
  const { busy, error, run } = useAction();

  useEffect(() => {
    document.title = 'Sign in · Paddock';
  }, []);

  return (
    <AuthShell title="Sign in to Paddock">
      <Alert message={error ?? (queryError ? describeError(queryError) : null)} />
      <form
        onSubmit={onSubmit(() => {
          void run(async () => {
            await api.signIn(email.trim(), password);
            const back = oauthReturn(search);
            if (back) window.location.assign(back);
            else await enterApp();
          });
        })}
      >
        <TextField
          label="Email"
          type="email"
          value={email}
          required
          onChange={setEmail}
          autoComplete="username"
        />
        <TextField
          label="Password"
          type="password"
          value={password}
          required
          onChange={setPassword}
          autoComplete="current-password"
        />
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <div className="divider">
        <span>or</span>
      </div>
      <h2 className="subheading" id="sso-heading">
        Sign in with SSO
      </h2>
      <form
        aria-labelledby="sso-heading"
        onSubmit={onSubmit(() => {
          const s = slug.trim().toLowerCase();
          if (s) window.location.assign(`/api/v1/auth/sso/${encodeURIComponent(s)}/start`);
        })}
      >
        <TextField
          label="Organization slug"
          value={slug}
          required
          onChange={setSlug}
          hint="Your organization's short name, as in /orgs/<slug>."
        />
        <button type="submit" className="btn btn-secondary btn-block">
          Continue with SSO
        </button>
      </form>
    </AuthShell>
  );
}
