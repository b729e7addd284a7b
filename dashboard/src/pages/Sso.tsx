/** `/orgs/{slug}/sso`: OpenID Connect single sign-on. The client secret is never shown. */
import { useState } from 'react';
import { api, assignableRoles, canManage, type Role, type SsoSettings } from '../api/index.ts';
import { useAction, useLoad } from '../data/index.ts';
import type { PageProps } from '../page.ts';
import {
  Alert,
  ConfirmButton,
  CopyButton,
  formatTime,
  Loading,
  Notice,
  onSubmit,
  PageHeader,
  ROLE_LABELS,
  Section,
  SelectField,
  TextField,
} from '../ui/index.ts';

type Provision = Role | 'none';

export function SsoPage({ org }: PageProps) {
  const manage = canManage(org.role);
  const sso = useLoad(() => api.sso(org.slug), org.slug);
  const current = sso.data?.sso ?? null;
  const [saved, setSaved] = useState<string | null>(null);

  return (
    <>
      <PageHeader title="Single sign-on">
        Let people of {org.name} sign in through your identity provider (OpenID Connect).
      </PageHeader>
      <Alert message={sso.error} />
      <Notice message={saved} />
      {!sso.data ? (
        <Loading what="single sign-on settings" />
      ) : (
        <>
          <Section title="Status">
            <dl className="facts">
              <dt>Single sign-on</dt>
              <dd>
                {current ? (
                  <span className="status status-active">On</span>
                ) : (
                  <span className="status status-revoked">Not configured</span>
                )}
              </dd>
              {current ? (
                <>
                  <dt>Issuer</dt>
                  <dd>
                    <code>{current.issuer}</code>
                  </dd>
                  <dt>Client ID</dt>
                  <dd>
                    <code>{current.clientId}</code>
                  </dd>
                  <dt>Client secret</dt>
                  <dd>{current.hasClientSecret ? 'Stored (hidden)' : 'None (public client)'}</dd>
                  <dt>New people</dt>
                  <dd>
                    {current.autoProvisionRole
                      ? `Join automatically as ${ROLE_LABELS[current.autoProvisionRole]}`
                      : 'Only people already in the organization can sign in'}
                  </dd>
                  <dt>Last changed</dt>
                  <dd>{formatTime(current.updatedAt)}</dd>
                </>
              ) : null}
              <dt>Redirect URI</dt>
              <dd className="secret-row">
                <code data-testid="sso-redirect-uri">{sso.data.redirectUri}</code>
                <CopyButton text={sso.data.redirectUri} />
              </dd>
            </dl>
            <p className="hint">
              Register the redirect URI with your identity provider. People sign in from the sign-in page with
              the organization slug <code>{org.slug}</code>.
            </p>
          </Section>
          {manage ? (
            <SsoForm
              key={current ? 'edit' : 'new'}
              slug={org.slug}
              actor={org.role}
              current={current}
              onSaved={async (message) => {
                await sso.reload();
                setSaved(message);
              }}
            />
          ) : null}
        </>
      )}
    </>
  );
}

function SsoForm({
  slug,
  actor,
  current,
  onSaved,
}: {
  slug: string;
  actor: Role;
  current: SsoSettings | null;
  onSaved: (message: string) => Promise<void>;
}) {
  const [issuer, setIssuer] = useState(current?.issuer ?? '');
  const [clientId, setClientId] = useState(current?.clientId ?? '');
  const [clientSecret, setClientSecret] = useState('');
  const [provision, setProvision] = useState<Provision>(current?.autoProvisionRole ?? 'none');
  const { busy, error, run } = useAction();

  const roles = assignableRoles(actor).filter((r) => r !== 'owner');
  const options: { value: Provision; label: string }[] = [
    { value: 'none', label: 'None — only existing members' },
    ...roles.map((r) => ({ value: r as Provision, label: ROLE_LABELS[r] })),
  ];
  if (provision !== 'none' && !options.some((o) => o.value === provision)) {
    options.push({ value: provision, label: ROLE_LABELS[provision] });
  }

  return (
    <Section title={current ? 'Change settings' : 'Set up single sign-on'}>
      <Alert message={error} />
      <form
        className="form-grid"
        aria-label="Single sign-on settings"
        onSubmit={onSubmit(() => {
          void run(async () => {
            await api.setSso(slug, {
              issuer: issuer.trim(),
              clientId: clientId.trim(),
              ...(clientSecret ? { clientSecret } : {}),
              autoProvisionRole: provision === 'none' ? null : provision,
            });
            setClientSecret('');
            await onSaved('Single sign-on settings saved.');
          });
        })}
      >
        <TextField
          label="Issuer URL"
          type="url"
          value={issuer}
          required
          maxLength={500}
          onChange={setIssuer}
          placeholder="https://login.example.com"
        />
        <TextField label="Client ID" value={clientId} required maxLength={200} onChange={setClientId} />
        <TextField
          label="Client secret"
          type="password"
          value={clientSecret}
          maxLength={500}
          onChange={setClientSecret}
          autoComplete="new-password"
          hint={
            current?.hasClientSecret
              ? 'A secret is stored. Leave blank to keep it.'
              : 'Leave blank for a public client.'
          }
        />
        <SelectField
          label="Auto-provision role"
          value={provision}
          onChange={setProvision}
          options={options}
          hint="People who sign in through SSO but are not yet in the organization join with this role."
        />
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save'}
          </button>
          {current ? (
            <ConfirmButton
              label="Remove single sign-on"
              confirmLabel="Yes, remove"
              question="Turn single sign-on off?"
              className="btn btn-danger-ghost"
              onConfirm={async () => {
                await run(async () => {
                  await api.removeSso(slug);
                  await onSaved('Single sign-on is off.');
                });
              }}
            />
          ) : null}
        </div>
      </form>
    </Section>
  );
}
