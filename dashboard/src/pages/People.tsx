/**
 * `/orgs/{slug}/people`: who is in the organization; owners and admins change roles, invite, and
 * remove (after a confirm step that shows what the removal ends).
 */
import { useState } from 'react';
import { api, assignableRoles, canManage, type Invitation, type Person, type Role } from '../api/index.ts';
import { useAction, useLoad } from '../data/index.ts';
import type { PageProps } from '../page.ts';
import {
  Alert,
  ConfirmButton,
  CopyButton,
  DataTable,
  formatDate,
  Loading,
  Notice,
  onSubmit,
  PageHeader,
  ROLE_LABELS,
  RoleBadge,
  roleOptions,
  Section,
  SelectField,
  TextField,
} from '../ui/index.ts';
import { PersonRemoval, removalSummary } from './PersonRemoval.tsx';

export function PeoplePage({ org, me, refreshOrgs }: PageProps) {
  const manage = canManage(org.role);
  const seeInvitations = manage || org.role === 'auditor';
  const people = useLoad(() => api.people(org.slug), org.slug);
  const invitations = useLoad<Invitation[]>(
    () => (seeInvitations ? api.invitations(org.slug) : Promise.resolve([])),
    `${org.slug}:${seeInvitations}`,
  );
  const action = useAction();
  const [removing, setRemoving] = useState<Person | null>(null);
  const [removed, setRemoved] = useState<string | null>(null);

  const changeRole = (p: Person, role: Role) =>
    action.run(async () => {
      await api.changeRole(org.slug, p.id, role);
      await people.reload();
      if (p.id === me.id) await refreshOrgs();
    });

  return (
    <>
      <PageHeader title="People">Everyone who belongs to {org.name}, and their role.</PageHeader>
      <Alert message={action.error ?? people.error} />
      <Notice message={removed} />
      {removing ? (
        <PersonRemoval
          key={removing.id}
          slug={org.slug}
          person={removing}
          onCancel={() => setRemoving(null)}
          onRemoved={async (preview) => {
            setRemoving(null);
            setRemoved(removalSummary(preview));
            await Promise.all([people.reload(), invitations.reload()]);
          }}
        />
      ) : null}
      <Section title="Members">
        {!people.data ? (
          <Loading what="people" />
        ) : (
          <DataTable headers={['Name', 'Email', 'Role', 'Joined']} actions={manage}>
            {people.data.map((p) => (
              <tr key={p.id} data-item-id={p.id}>
                <td>
                  {p.name || '—'}
                  {p.id === me.id ? <span className="tag">you</span> : null}
                </td>
                <td id={`email-${p.id}`}>{p.email}</td>
                <td>
                  {manage && assignableRoles(org.role).includes(p.role) ? (
                    <select
                      aria-labelledby={`email-${p.id}`}
                      value={p.role}
                      disabled={action.busy}
                      onChange={(e) => void changeRole(p, e.target.value as Role)}
                    >
                      {roleOptions(assignableRoles(org.role)).map((o) => (
                        <option key={o.value} value={o.value}>
                          {o.label}
                        </option>
                      ))}
                    </select>
                  ) : (
                    <RoleBadge role={p.role} />
                  )}
                </td>
                <td className="nowrap">{formatDate(p.joinedAt)}</td>
                {manage ? (
                  <td className="col-actions">
                    {assignableRoles(org.role).includes(p.role) ? (
                      <button
                        type="button"
                        className="btn btn-danger-ghost btn-small"
                        aria-label={`Remove ${p.name || p.email}${p.id === me.id ? ' (you)' : ''}`}
                        disabled={removing?.id === p.id}
                        onClick={() => {
                          setRemoved(null);
                          setRemoving(p);
                        }}
                      >
                        Remove
                      </button>
                    ) : null}
                  </td>
                ) : null}
              </tr>
            ))}
          </DataTable>
        )}
      </Section>
      {manage ? <InviteForm slug={org.slug} actor={org.role} onInvited={invitations.reload} /> : null}
      {seeInvitations ? (
        <Section title="Open invitations">
          <Alert message={invitations.error} />
          {!invitations.data ? (
            <Loading what="invitations" />
          ) : invitations.data.length === 0 ? (
            <p className="empty">No open invitations.</p>
          ) : (
            <DataTable headers={['Email', 'Role', 'Invited', 'Expires']} actions={manage}>
              {invitations.data.map((i) => (
                <tr key={i.id}>
                  <td>{i.email}</td>
                  <td>
                    <RoleBadge role={i.role} />
                  </td>
                  <td className="nowrap">{formatDate(i.createdAt)}</td>
                  <td className="nowrap">{formatDate(i.expiresAt)}</td>
                  {manage ? (
                    <td className="col-actions">
                      <ConfirmButton
                        label="Withdraw"
                        confirmLabel="Yes, withdraw"
                        question="Withdraw?"
                        onConfirm={async () => {
                          await action.run(async () => {
                            await api.withdrawInvitation(org.slug, i.id);
                            await invitations.reload();
                          });
                        }}
                      />
                    </td>
                  ) : null}
                </tr>
              ))}
            </DataTable>
          )}
        </Section>
      ) : null}
    </>
  );
}

function InviteForm({
  slug,
  actor,
  onInvited,
}: {
  slug: string;
  actor: Role;
  onInvited: () => Promise<void>;
}) {
  const roles = assignableRoles(actor);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [created, setCreated] = useState<{ url: string; email: string; role: Role } | null>(null);
  const { busy, error, run } = useAction();

  return (
    <Section title="Invite a person">
      <Alert message={error} />
      {created ? (
        <div className="secret-box">
          <p>
            Invitation for <strong>{created.email}</strong> as {ROLE_LABELS[created.role]}. Send them this
            link:
          </p>
          <div className="secret-row">
            <code className="secret" data-testid="invitation-url">
              {created.url}
            </code>
            <CopyButton text={created.url} />
          </div>
          <p className="hint">
            This link is shown only once and works once. If it is lost, withdraw the invitation and invite
            again.
          </p>
          <button type="button" className="btn btn-secondary btn-small" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      ) : null}
      <form
        className="form-inline"
        aria-label="Invite a person"
        onSubmit={onSubmit(() => {
          void run(async () => {
            const r = await api.invite(slug, email.trim(), role);
            setCreated({ url: r.url, email: r.invitation.email, role: r.invitation.role });
            setEmail('');
            await onInvited();
          });
        })}
      >
        <TextField label="Email" type="email" value={email} required onChange={setEmail} autoComplete="off" />
        <SelectField label="Role" value={role} onChange={setRole} options={roleOptions(roles)} />
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Inviting…' : 'Create invitation'}
          </button>
        </div>
      </form>
    </Section>
  );
}
