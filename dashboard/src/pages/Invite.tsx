/** `/invite#<secret>`: see what an invitation is for, then accept it with a name and password. */
import { useEffect, useState } from 'react';
import { api, errorMessage, type InvitationPeek } from '../api/index.ts';
import { useAction } from '../data/index.ts';
import { Link, useFragmentSecret } from '../router.tsx';
import { enterApp } from '../session.ts';
import { Alert, AuthShell, Loading, onSubmit, ROLE_LABELS, TextField } from '../ui/index.ts';
import { MIN_PASSWORD } from './Setup.tsx';

export function InvitePage() {
  const secret = useFragmentSecret();
  const [peek, setPeek] = useState<InvitationPeek | null>(null);

  const [failure, setFailure] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, setError, run } = useAction();

  useEffect(() => {
    document.title = 'Invitation · Paddock';
    setFailure(null);
    setPeek(null);
    if (!secret) {
      setFailure('This invitation link is incomplete. Open the whole link you were sent.');
      return;
    }
    api.peekInvitation(secret).then(
      async (p) => {
        // Signed in here as the invited account: its session's CSRF token comes with the accept.
        if (p.signedIn) await api.session().catch(() => undefined);
        setPeek(p);
      },
      (err: unknown) => setFailure(errorMessage(err)),
    );
  }, [secret]);

  if (failure) {
    return (
      <AuthShell title="Invitation">
        <Alert message={failure} />
        <Link to="/signin" className="btn btn-secondary">
          Go to sign-in
        </Link>
      </AuthShell>
    );
  }
  if (!peek) {
    return (
      <AuthShell title="Invitation">
        <Loading what="the invitation" />
      </AuthShell>
    );
  }
  // Signed in here as the invited account: it joins with the session it has, nothing to type.
  const here = peek.signedIn;
  const existing = peek.existingAccount && !here;
  // An account without a password joins as it is: the session opens this organization only.
  const passwordless = peek.passwordlessAccount || here;
  return (
    <AuthShell title={`Join ${peek.orgName}`}>
      <dl className="facts">
        <dt>Organization</dt>
        <dd data-testid="invite-org">{peek.orgName}</dd>
        <dt>Email</dt>
        <dd data-testid="invite-email">{peek.email}</dd>
        <dt>Role</dt>
        <dd data-testid="invite-role">{ROLE_LABELS[peek.role]}</dd>
      </dl>
      {here ? (
        <p className="muted" data-testid="invite-signed-in">
          You are signed in as {peek.email}. Accept to join {peek.orgName}.
        </p>
      ) : passwordless ? (
        <p className="muted" data-testid="invite-passwordless">
          You already have a Paddock account for this email, which signs in without a password. Accept to join{' '}
          {peek.orgName}; this sign-in opens {peek.orgName} only.
        </p>
      ) : existing ? (
        <p className="muted">
          You already have a Paddock account for this email. Enter its password to accept.
        </p>
      ) : (
        <p className="muted">Create your account to accept the invitation.</p>
      )}
      <Alert message={error} />
      <form
        aria-label="Accept invitation"
        onSubmit={onSubmit(() => {
          if (!existing && !passwordless && password.length < MIN_PASSWORD) {
            setError(`Use a password of at least ${MIN_PASSWORD} characters.`);
            return;
          }
          void run(async () => {
            await api.acceptInvitation({
              secret,
              ...(passwordless ? {} : { password }),
              ...(existing || passwordless || !name.trim() ? {} : { name: name.trim() }),
            });
            await enterApp();
          });
        })}
      >
        {existing || passwordless ? null : (
          <TextField
            label="Your name"
            value={name}
            required
            maxLength={100}
            onChange={setName}
            autoComplete="name"
          />
        )}
        {passwordless ? null : (
          <TextField
            label="Password"
            type="password"
            value={password}
            required
            onChange={setPassword}
            autoComplete={existing ? 'current-password' : 'new-password'}
            hint={existing ? undefined : `At least ${MIN_PASSWORD} characters.`}
          />
        )}
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy ? 'Joining…' : 'Accept invitation'}
        </button>
      </form>
    </AuthShell>
  );
}
