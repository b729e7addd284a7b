/** `/signin/link#<secret>`: a one-time sign-in link; then set a password if there is none. */
import { useEffect, useRef, useState } from 'react';
import { api, errorMessage } from '../api/index.ts';
import { useAction } from '../data/index.ts';
import { Link, useFragmentSecret } from '../router.tsx';
import { enterApp } from '../session.ts';
import { Alert, AuthShell, Loading, onSubmit, TextField } from '../ui/index.ts';
import { MIN_PASSWORD } from './Setup.tsx';

export function SigninLinkPage() {
  const secret = useFragmentSecret();
  const [stage, setStage] = useState<'signing-in' | 'set-password' | 'failed'>('signing-in');
  const [failure, setFailure] = useState<string | null>(null);
  const [password, setPassword] = useState('');
  const { busy, error, setError, run } = useAction();
  const started = useRef('');

  useEffect(() => {
    document.title = 'Sign in · Paddock';
    // The link works once: make sure a double-mounted effect does not spend it twice.
    if (started.current === secret && secret) return;
    started.current = secret;
    setStage('signing-in');
    if (!secret) {
      setFailure('This sign-in link is incomplete. Open the whole link you were given.');
      setStage('failed');
      return;
    }
    (async () => {
      try {
        await api.signInWithLink(secret);
        const s = await api.session();
        if (s.person && !s.person.hasPassword) setStage('set-password');
        else await enterApp();
      } catch (err) {
        setFailure(errorMessage(err));
        setStage('failed');
      }
    })();
  }, [secret]);

  if (stage === 'signing-in') {
    return (
      <AuthShell title="Signing you in">
        <Loading what="your account" />
      </AuthShell>
    );
  }
  if (stage === 'failed') {
    return (
      <AuthShell title="Sign-in link">
        <Alert message={failure} />
        <Link to="/signin" className="btn btn-secondary">
          Go to sign-in
        </Link>
      </AuthShell>
    );
  }
  return (
    <AuthShell title="Choose a password">
      <p className="muted">You are signed in. Set a password so you can sign in again without a link.</p>
      <Alert message={error} />
      <form
        onSubmit={onSubmit(() => {
          if (password.length < MIN_PASSWORD) {
            setError(`Use a password of at least ${MIN_PASSWORD} characters.`);
            return;
          }
          void run(async () => {
            await api.setPassword(password);
            await enterApp();
          });
        })}
      >
        <TextField
          label="New password"
          type="password"
          value={password}
          required
          onChange={setPassword}
          autoComplete="new-password"
          hint={`At least ${MIN_PASSWORD} characters.`}
        />
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy ? 'Saving…' : 'Set password and continue'}
        </button>
      </form>
    </AuthShell>
  );
}
