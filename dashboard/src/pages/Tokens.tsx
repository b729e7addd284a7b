/** `/orgs/{slug}/tokens`: API tokens — shown once at creation, listed afterwards, revocable. */
import { useState } from 'react';
import { api, assignableRoles, canManage, type Role, type Token } from '../api/index.ts';
import { useAction, useLoad } from '../data/index.ts';
import type { PageProps } from '../page.ts';
import {
  Alert,
  CheckboxField,
  ConfirmButton,
  CopyButton,
  DataTable,
  formatDate,
  formatTime,
  Loading,
  NameField,
  onSubmit,
  PageHeader,
  RoleBadge,
  roleOptions,
  Section,
  SelectField,
  TextField,
  TokenStateBadge,
  tokenState,
} from '../ui/index.ts';

export function TokensPage({ org, me }: PageProps) {
  const write = org.role !== 'auditor';
  const tokens = useLoad(() => api.tokens(org.slug), org.slug);
  const people = useLoad(() => api.people(org.slug), org.slug);
  const action = useAction();
  const now = Date.now();
  const byId = new Map((people.data ?? []).map((p) => [p.id, p]));

  const holder = (t: Token) => {
    if (t.personId === null) return <span className="tag tag-service">Service</span>;
    if (t.personId === me.id) return 'You';
    const p = byId.get(t.personId);
    return p ? p.name || p.email : t.personId;
  };

  return (
    <>
      <PageHeader title="API tokens">
        {org.role === 'member'
          ? 'Your API tokens for this organization. A token never has more rights than you do.'
          : `API tokens for ${org.name}. A person's token never has more rights than its person.`}
      </PageHeader>
      {write ? (
        <CreateToken
          slug={org.slug}
          role={org.role}
          maxDays={org.settings.maxTokenDays}
          onCreated={tokens.reload}
        />
      ) : null}
      <Section title="Tokens">
        <Alert message={action.error ?? tokens.error} />
        {!tokens.data ? (
          <Loading what="tokens" />
        ) : tokens.data.length === 0 ? (
          <p className="empty">
            No tokens yet. An API token lets a script or a CI job use Paddock’s API with a role you choose; it
            is shown once, when it is made.{write ? ' Create one above.' : ''}
          </p>
        ) : (
          <DataTable headers={['Name', 'Role', 'Acts for', 'Expires', 'Last used', 'Status']} actions={write}>
            {tokens.data.map((t) => {
              const s = tokenState(t, now);
              return (
                <tr key={t.id} className={s === 'active' ? undefined : 'row-inactive'}>
                  <td>
                    <strong>{t.name}</strong>
                  </td>
                  <td>
                    <RoleBadge role={t.role} />
                  </td>
                  <td>{holder(t)}</td>
                  <td className="nowrap">{formatDate(t.expiresAt, 'Never')}</td>
                  <td className="nowrap">{formatTime(t.lastUsedAt, 'Never')}</td>
                  <td>
                    <TokenStateBadge token={t} now={now} />
                  </td>
                  {write ? (
                    <td className="col-actions">
                      {s === 'active' ? (
                        <ConfirmButton
                          label="Revoke"
                          confirmLabel="Yes, revoke"
                          question="Revoke?"
                          onConfirm={async () => {
                            await action.run(async () => {
                              await api.revokeToken(org.slug, t.id);
                              await tokens.reload();
                            });
                          }}
                        />
                      ) : null}
                    </td>
                  ) : null}
                </tr>
              );
            })}
          </DataTable>
        )}
      </Section>
    </>
  );
}

function CreateToken({
  slug,
  role: actor,
  maxDays,
  onCreated,
}: {
  slug: string;
  role: Role;
  maxDays: number | null;
  onCreated: () => Promise<void>;
}) {
  const roles = assignableRoles(actor);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>(roles.includes('member') ? 'member' : (roles[0] ?? 'member'));
  const [days, setDays] = useState(String(maxDays === null ? 90 : Math.min(90, maxDays)));
  const [service, setService] = useState(false);
  const [created, setCreated] = useState<{ token: string; name: string } | null>(null);
  const { busy, error, setError, run } = useAction();

  return (
    <Section title="Create a token">
      <Alert message={error} />
      {created ? (
        <div className="secret-box">
          <p>
            Token <strong>{created.name}</strong> created. Copy it now, it will not be shown again.
          </p>
          <div className="secret-row">
            <code className="secret" data-testid="new-token">
              {created.token}
            </code>
            <CopyButton text={created.token} />
          </div>
          <p className="hint">
            Send it as <code>Authorization: Bearer &lt;token&gt;</code>. Paddock stores only a hash of it.
          </p>
          <button type="button" className="btn btn-secondary btn-small" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      ) : null}
      <form
        className="form-inline"
        aria-label="Create a token"
        onSubmit={onSubmit(() => {
          const n = Number(days);
          const limit = maxDays ?? 3650;
          if (!Number.isInteger(n) || n < 1 || n > limit) {
            setError(`Expiry is a whole number of days from 1 to ${limit}.`);
            return;
          }
          void run(async () => {
            const r = await api.createToken(slug, { name: name.trim(), role, expiresInDays: n, service });
            setCreated({ token: r.token, name: r.info.name });
            setName('');
            await onCreated();
          });
        })}
      >
        <NameField value={name} onChange={setName} placeholder="e.g. ci-deploy" />
        <SelectField label="Role" value={role} onChange={setRole} options={roleOptions(roles)} />
        <TextField
          label="Expires in (days)"
          type="number"
          min={1}
          max={maxDays ?? 3650}
          value={days}
          required
          onChange={setDays}
          narrow
        />
        {canManage(actor) ? (
          <CheckboxField
            label="Service token"
            checked={service}
            onChange={setService}
            hint="Acts for nobody."
          />
        ) : null}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create token'}
          </button>
        </div>
      </form>
    </Section>
  );
}
