/** `/setup#<secret>`: first run — create the first organization and its owner. */
import { useEffect, useState } from 'react';
import { api, errorMessage } from '../api/index.ts';
import { useAction } from '../data/index.ts';
import { Link, navigate, useFragmentSecret } from '../router.tsx';
import { Alert, AuthShell, Loading, onSubmit, TextField } from '../ui/index.ts';

export const MIN_PASSWORD = 12;

export function slugify(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
}

export function SetupPage() {
  const secret = useFragmentSecret();
  const [needed, setNeeded] = useState<boolean | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [orgName, setOrgName] = useState('');
  const [slug, setSlug] = useState('');
  const [slugEdited, setSlugEdited] = useState(false);
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, setError, run } = useAction();

  useEffect(() => {
    document.title = 'Set up Paddock';
    api.setupNeeded().then(
      (r) => setNeeded(r.needed),
      (err: unknown) => setLoadError(errorMessage(err)),
    );
  }, []);

  const submit = () => {
    if (password.length < MIN_PASSWORD) {
      setError(`Use a password of at least ${MIN_PASSWORD} characters.`);
      return;
    }
    void run(async () => {
      const r = await api.setup({
        secret,
        org: { slug, name: orgName.trim() },
        owner: { email: email.trim(), name: name.trim(), password },
      });
      navigate(`/orgs/${encodeURIComponent(r.org.slug)}`, { replace: true });
    });
  };

  if (needed === null) {
    return (
      <AuthShell title="Set up Paddock">
        {loadError ? <Alert message={loadError} /> : <Loading what="setup status" />}
      </AuthShell>
    );
  }
  if (!needed) {
    return (
      <AuthShell title="Paddock is set up">
        <p>First-run setup is already done. Sign in with your account.</p>
        <Link to="/signin" className="btn btn-primary">
          Go to sign-in
        </Link>
      </AuthShell>
    );
  }
  if (!secret) {
    return (
      <AuthShell title="Set up Paddock">
        <div className="alert alert-info" role="alert">
          Paddock is not set up yet. Open the setup link that the server printed at start-up (it ends with{' '}
          <code>/setup#…</code>); the link is required to create the first organization.
        </div>
      </AuthShell>
    );
  }
  return (
    <AuthShell title="Set up Paddock">
      <p className="muted">Create your organization and its first owner. You can invite others afterwards.</p>
      <Alert message={error} />
      <form onSubmit={onSubmit(submit)} aria-label="First-run setup">
        <fieldset>
          <legend>Organization</legend>
          <TextField
            label="Organization name"
            value={orgName}
            required
            maxLength={100}
            onChange={(v) => {
              setOrgName(v);
              if (!slugEdited) setSlug(slugify(v));
            }}
          />
          <TextField
            label="Slug"
            value={slug}
            required
            maxLength={40}
            pattern="[a-z0-9]([a-z0-9\-]{0,38}[a-z0-9])?"
            hint={
              <>
                Lowercase letters, digits and dashes; used in addresses like{' '}
                <code>/orgs/{slug || 'acme'}</code>.
              </>
            }
            onChange={(v) => {
              setSlug(v.toLowerCase());
              setSlugEdited(true);
            }}
          />
        </fieldset>
        <fieldset>
          <legend>You, the owner</legend>
          <TextField
            label="Your name"
            value={name}
            required
            maxLength={100}
            onChange={setName}
            autoComplete="name"
          />
          <TextField
            label="Email"
            type="email"
            value={email}
            required
            onChange={setEmail}
            autoComplete="email"
          />
          <TextField
            label="Password"
            type="password"
            value={password}
            required
            onChange={setPassword}
            autoComplete="new-password"
            hint={`At least ${MIN_PASSWORD} characters.`}
          />
        </fieldset>
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy ? 'Creating…' : 'Create organization'}
        </button>
      </form>
    </AuthShell>
  );
}
