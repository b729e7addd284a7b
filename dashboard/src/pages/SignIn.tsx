/** `/signin`: email and password, or single sign-on through an organization's identity provider. */
import { useEffect, useState } from 'react';
import { api } from '../api/index.ts';
import { useAction } from '../data/index.ts';
import { enterApp, oauthReturn } from '../session.ts';
import { Alert, AuthShell, onSubmit, TextField } from '../ui/index.ts';

const SSO_ERRORS: Record<string, string> = {
  sso_failed: 'Single sign-on failed. Try again, or sign in with your password.',
  sso_not_configured: 'That organization has not set up single sign-on.',
  org_not_found: 'No organization with that slug.',
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
