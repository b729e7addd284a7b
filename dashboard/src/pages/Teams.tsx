/** `/orgs/{slug}/teams`: named groups of people; owners and admins create, rename and fill them. */
import { useState } from 'react';
import { api, canManage, type Person, type Team } from '../api/index.ts';
import { useAction, useLoad } from '../data/index.ts';
import type { PageProps } from '../page.ts';
import { Alert, ConfirmButton, Loading, onSubmit, PageHeader, Section, TextField } from '../ui/index.ts';

export function TeamsPage({ org }: PageProps) {
  const manage = canManage(org.role);
  const teams = useLoad(() => api.teams(org.slug), org.slug);
  const people = useLoad(() => api.people(org.slug), org.slug);
  const [name, setName] = useState('');
  const create = useAction();

  return (
    <>
      <PageHeader title="Teams">Named groups of people in {org.name}.</PageHeader>
      <Alert message={teams.error ?? people.error} />
      {manage ? (
        <Section title="New team">
          <Alert message={create.error} />
          <form
            className="form-inline"
            aria-label="Create a team"
            onSubmit={onSubmit(() => {
              void create.run(async () => {
                await api.createTeam(org.slug, name.trim());
                setName('');
                await teams.reload();
              });
            })}
          >
            <TextField label="Team name" value={name} required maxLength={80} onChange={setName} />
            <div className="form-actions">
              <button type="submit" className="btn btn-primary" disabled={create.busy}>
                Create team
              </button>
            </div>
          </form>
        </Section>
      ) : null}
      {!teams.data || !people.data ? (
        <Loading what="teams" />
      ) : teams.data.length === 0 ? (
        <Section title="Teams">
          <p className="empty">
            No teams yet. A team is a group of people: an agent shared with a team is seen and used by its
            members only. {manage ? 'Create one above.' : 'An owner or admin creates them.'}
          </p>
        </Section>
      ) : (
        teams.data.map((t) => (
          <TeamCard
            key={t.id}
            slug={org.slug}
            team={t}
            people={people.data ?? []}
            manage={manage}
            onChange={teams.reload}
          />
        ))
      )}
    </>
  );
}

function TeamCard({
  slug,
  team,
  people,
  manage,
  onChange,
}: {
  slug: string;
  team: Team;
  people: Person[];
  manage: boolean;
  onChange: () => Promise<void>;
}) {
  const [renaming, setRenaming] = useState(false);
  const [newName, setNewName] = useState(team.name);
  const [pick, setPick] = useState('');
  const { busy, error, run } = useAction();
  const byId = new Map(people.map((p) => [p.id, p]));
  const outside = people.filter((p) => !team.members.includes(p.id));

  return (
    <section className="card" aria-label={`Team ${team.name}`}>
      <div className="card-header">
        {renaming ? (
          <form
            className="form-inline"
            onSubmit={onSubmit(() => {
              void run(async () => {
                await api.renameTeam(slug, team.id, newName.trim());
                setRenaming(false);
                await onChange();
              });
            })}
          >
            <TextField label="New name" value={newName} required maxLength={80} onChange={setNewName} />
            <div className="form-actions">
              <button type="submit" className="btn btn-primary btn-small" disabled={busy}>
                Save
              </button>
              <button type="button" className="btn btn-ghost btn-small" onClick={() => setRenaming(false)}>
                Cancel
              </button>
            </div>
          </form>
        ) : (
          <h2>{team.name}</h2>
        )}
        {manage && !renaming ? (
          <div className="card-actions">
            <button
              type="button"
              className="btn btn-ghost btn-small"
              onClick={() => {
                setNewName(team.name);
                setRenaming(true);
              }}
            >
              Rename
            </button>
            <ConfirmButton
              label="Delete"
              confirmLabel="Yes, delete"
              question={`Delete ${team.name}?`}
              onConfirm={async () => {
                await run(async () => {
                  await api.deleteTeam(slug, team.id);
                  await onChange();
                });
              }}
            />
          </div>
        ) : null}
      </div>
      <Alert message={error} />
      {team.members.length === 0 ? (
        <p className="empty">No members yet.</p>
      ) : (
        <ul className="member-list">
          {team.members.map((id) => {
            const p = byId.get(id);
            return (
              <li key={id}>
                <span>
                  <strong>{p?.name || p?.email || id}</strong>
                  {p?.name ? <span className="muted"> {p.email}</span> : null}
                </span>
                {manage ? (
                  <button
                    type="button"
                    className="btn btn-ghost btn-small"
                    disabled={busy}
                    aria-label={`Remove ${p?.email ?? id} from ${team.name}`}
                    onClick={() =>
                      void run(async () => {
                        await api.removeTeamMember(slug, team.id, id);
                        await onChange();
                      })
                    }
                  >
                    Remove
                  </button>
                ) : null}
              </li>
            );
          })}
        </ul>
      )}
      {manage && outside.length > 0 ? (
        <form
          className="form-inline"
          onSubmit={onSubmit(() => {
            if (!pick) return;
            void run(async () => {
              await api.addTeamMember(slug, team.id, pick);
              setPick('');
              await onChange();
            });
          })}
        >
          <div className="field">
            <label htmlFor={`add-${team.id}`}>Add a member</label>
            <select id={`add-${team.id}`} value={pick} onChange={(e) => setPick(e.target.value)} required>
              <option value="">Choose a person…</option>
              {outside.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name ? `${p.name} (${p.email})` : p.email}
                </option>
              ))}
            </select>
          </div>
          <div className="form-actions">
            <button type="submit" className="btn btn-secondary" disabled={busy || !pick}>
              Add
            </button>
          </div>
        </form>
      ) : null}
    </section>
  );
}
