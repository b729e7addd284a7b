/** `/orgs/{slug}/audit`: the organization's audit trail, newest first. */
import { useCallback, useEffect, useState } from 'react';
import { type AuditEvent, api, errorMessage, isSessionEnded, type Person } from '../api.ts';
import { Alert, formatTime, Loading, onSubmit, PageHeader, Section, TextField } from '../components.tsx';
import type { PageProps } from '../Layout.tsx';
import { navigate } from '../router.tsx';

const KNOWN_ACTIONS = [
  'invitation.created',
  'invitation.revoked',
  'org.created',
  'org.updated',
  'person.added',
  'person.password.changed',
  'person.removed',
  'person.role.changed',
  'person.signed_in',
  'signin_link.created',
  'sso.removed',
  'sso.updated',
  'team.created',
  'team.deleted',
  'team.member.added',
  'team.member.removed',
  'team.renamed',
  'token.created',
  'token.revoked',
];

const PAGE = 100;

export function AuditPage({ org }: PageProps) {
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [cursor, setCursor] = useState<number | null>(null);
  const [filter, setFilter] = useState('');
  const [applied, setApplied] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [people, setPeople] = useState<Map<string, Person>>(new Map());

  const load = useCallback(
    async (action: string, after: number | null) => {
      setBusy(true);
      setError(null);
      try {
        const r = await api.audit(org.slug, { action, cursor: after, limit: PAGE });
        setEvents((prev) => (after && prev ? [...prev, ...r.events] : r.events));
        setCursor(r.nextCursor);
      } catch (err) {
        if (isSessionEnded(err)) navigate('/signin', { replace: true });
        else setError(errorMessage(err));
      } finally {
        setBusy(false);
      }
    },
    [org.slug],
  );

  useEffect(() => {
    void load('', null);
    // Names for the ids in the trail; the ids alone still show if this fails.
    api.people(org.slug).then(
      (list) => setPeople(new Map(list.map((p) => [p.id, p]))),
      () => {},
    );
  }, [load, org.slug]);

  const who = (ref: { type: string; id: string }) => {
    const p = ref.type === 'person' ? people.get(ref.id) : undefined;
    return (
      <>
        <span className="muted">{ref.type}</span> <code>{ref.id}</code>
        {p ? <div className="sub">{p.email}</div> : null}
      </>
    );
  };

  const seen = new Set([...KNOWN_ACTIONS, ...(events ?? []).map((e) => e.action)]);

  return (
    <>
      <PageHeader title="Audit">Every change and sign-in in {org.name}, newest first.</PageHeader>
      <Section title="Events">
        <form
          className="form-inline"
          aria-label="Filter audit events"
          onSubmit={onSubmit(() => {
            const a = filter.trim();
            setApplied(a);
            setEvents(null);
            void load(a, null);
          })}
        >
          <TextField
            label="Action"
            value={filter}
            onChange={setFilter}
            list="audit-actions"
            placeholder="e.g. token.created"
            hint="Exact action name; blank for all."
          />
          <datalist id="audit-actions">
            {[...seen].sort().map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
          <div className="form-actions">
            <button type="submit" className="btn btn-secondary" disabled={busy}>
              Filter
            </button>
            {applied ? (
              <button
                type="button"
                className="btn btn-ghost"
                onClick={() => {
                  setFilter('');
                  setApplied('');
                  setEvents(null);
                  void load('', null);
                }}
              >
                Clear
              </button>
            ) : null}
          </div>
        </form>
        <Alert message={error} />
        {!events ? (
          <Loading what="audit events" />
        ) : events.length === 0 ? (
          <p className="empty">{applied ? `No "${applied}" events.` : 'No events yet.'}</p>
        ) : (
          <div className="table-wrap">
            <table className="table-compact">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {events.map((e) => (
                  <tr key={e.id}>
                    <td className="nowrap">{formatTime(e.time)}</td>
                    <td>{who(e.actor)}</td>
                    <td>
                      <code>{e.action}</code>
                    </td>
                    <td>{e.target ? who(e.target) : '—'}</td>
                    <td>
                      <span
                        className={`status ${e.outcome === 'success' ? 'status-active' : 'status-revoked'}`}
                      >
                        {e.outcome}
                      </span>
                    </td>
                    <td>
                      {Object.keys(e.details ?? {}).length > 0 || e.requestId ? (
                        <details>
                          <summary>View</summary>
                          <pre>{JSON.stringify({ requestId: e.requestId, ...e.details }, null, 2)}</pre>
                        </details>
                      ) : (
                        '—'
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {cursor && events ? (
          <div className="load-more">
            <button
              type="button"
              className="btn btn-secondary"
              disabled={busy}
              onClick={() => void load(applied, cursor)}
            >
              {busy ? 'Loading…' : 'Load more'}
            </button>
          </div>
        ) : null}
      </Section>
    </>
  );
}
