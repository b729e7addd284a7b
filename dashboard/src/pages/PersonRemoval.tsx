/**
 * The confirm step of removing a person (People page): before anything happens, it shows what the
 * removal ends at once, asks what becomes of their private agents and connections (handed to an
 * owner or admin, or deleted), and lists the tokens that outlive them unless revoked here.
 */
import { useEffect, useId, useRef, useState } from 'react';
import { api, type Person, type RemovalPreview } from '../api/index.ts';
import { useAction, useLoad } from '../data/index.ts';
import { Alert, CheckboxField, Loading, ROLE_LABELS, SelectField } from '../ui/index.ts';

const plural = (n: number, one: string, many = `${one}s`) => `${n || 'no'} ${n === 1 ? one : many}`;
/** The same, opening a sentence. */
const pluralFirst = (n: number, one: string) => plural(n, one).replace(/^no/, 'No');
const nameOf = (p: Pick<Person, 'name' | 'email'>) => p.name || p.email;

/** What the notice says once a removal is done. */
export function removalSummary(p: RemovalPreview): string {
  return (
    `${nameOf(p.person)} was removed: ${plural(p.sessions, 'session')}, ` +
    `${plural(p.apiTokens.length, 'API token')} and ${plural(p.agentTokens.length, 'agent token')} ended.`
  );
}

export function PersonRemoval({
  slug,
  person,
  onRemoved,
  onCancel,
}: {
  slug: string;
  person: Person;
  onRemoved: (preview: RemovalPreview) => Promise<void>;
  onCancel: () => void;
}) {
  const preview = useLoad(() => api.removalPreview(slug, person.id), `${slug}:${person.id}`);
  const { busy, error, run } = useAction();
  const [privateResources, setPrivateResources] = useState<'transfer' | 'delete'>('transfer');
  const [transferTo, setTransferTo] = useState('');
  const [revoke, setRevoke] = useState<ReadonlySet<string>>(new Set());
  const headingId = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const p = preview.data;

  useEffect(() => {
    heading.current?.scrollIntoView({ block: 'nearest' });
    heading.current?.focus();
  }, []);
  useEffect(() => {
    if (p) setTransferTo(p.defaultTransferTo ?? p.transferTargets[0]?.id ?? '');
  }, [p]);

  const owned = p ? p.privateAgents.length + p.privateConnections.length : 0;
  const reviewed = p ? p.review.serviceTokens.length + p.review.agentTokens.length : 0;
  const toggle = (id: string, on: boolean) =>
    setRevoke((s) => {
      const next = new Set(s);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const remove = () =>
    run(async () => {
      if (!p) return;
      await api.removePerson(slug, person.id, {
        privateResources,
        ...(privateResources === 'transfer' && owned > 0 ? { transferTo } : {}),
        revokeTokens: [...revoke],
      });
      await onRemoved(p);
    });

  return (
    <section className="card removal" aria-labelledby={headingId} data-testid="removal">
      <div className="card-header">
        <h2 id={headingId} ref={heading} tabIndex={-1}>
          Remove {nameOf(person)}?
        </h2>
      </div>
      <p className="removal-who">
        {person.email} · {ROLE_LABELS[person.role]}. Their access ends at once; nothing happens until you
        confirm.
      </p>
      <Alert message={preview.error ?? error} />
      {!p ? (
        preview.error ? null : (
          <Loading what="what the removal ends" />
        )
      ) : (
        <>
          <h3>Ends at once</h3>
          <ul className="removal-list" data-testid="removal-ends">
            <li>{pluralFirst(p.sessions, 'dashboard session')}: signed out everywhere.</li>
            <li>
              {pluralFirst(p.apiTokens.length, 'API token')}
              {p.apiTokens.length ? `: ${p.apiTokens.map((t) => t.name).join(', ')}` : ''}.
            </li>
            <li>
              {pluralFirst(p.agentTokens.length, 'agent token')} they issued
              {p.agentTokens.length
                ? `: ${p.agentTokens.map((t) => `${t.name} (agent ${t.agentName})`).join(', ')}`
                : ''}
              . Calls in progress on them end.
            </li>
            {p.invitations.length ? (
              <li>
                {pluralFirst(p.invitations.length, 'open invitation')} they sent:{' '}
                {p.invitations.map((i) => `${i.email} (${ROLE_LABELS[i.role]})`).join(', ')}.
              </li>
            ) : null}
            {p.signinLinks ? <li>{pluralFirst(p.signinLinks, 'unused sign-in link')} for them.</li> : null}
          </ul>
          <p className="hint">
            Single sign-on will not add {nameOf(person)} back. To let them in again, invite them.
          </p>

          {owned > 0 ? (
            <>
              <h3>Their private agents and connections</h3>
              <ul className="removal-list" data-testid="removal-owned">
                {p.privateAgents.map((a) => (
                  <li key={a.id}>Agent {a.name}</li>
                ))}
                {p.privateConnections.map((c) => (
                  <li key={c.id}>Connection {c.name}</li>
                ))}
              </ul>
              <OwnedChoice value={privateResources} onChange={setPrivateResources} />
              {privateResources === 'transfer' ? (
                <div className="removal-receiver">
                  <SelectField
                    label="Hand them to"
                    value={transferTo}
                    onChange={setTransferTo}
                    options={p.transferTargets.map((t) => ({
                      value: t.id,
                      label: `${nameOf(t)} (${ROLE_LABELS[t.role]})`,
                    }))}
                  />
                </div>
              ) : null}
            </>
          ) : null}

          {reviewed > 0 ? (
            <>
              <h3>Tokens to review</h3>
              <p className="hint">
                {nameOf(person)} made these. They act for nobody, so removal keeps them; revoke any they may
                still hold a copy of.
              </p>
              <div data-testid="removal-review">
                {p.review.serviceTokens.map((t) => (
                  <CheckboxField
                    key={t.id}
                    label={`Revoke service token ${t.name} (${ROLE_LABELS[t.role]})`}
                    checked={revoke.has(t.id)}
                    onChange={(on) => toggle(t.id, on)}
                  />
                ))}
                {p.review.agentTokens.map((t) => (
                  <CheckboxField
                    key={t.id}
                    label={`Revoke agent token ${t.name} (agent ${t.agentName})`}
                    checked={revoke.has(t.id)}
                    onChange={(on) => toggle(t.id, on)}
                  />
                ))}
              </div>
            </>
          ) : null}
        </>
      )}
      <div className="form-actions removal-actions">
        <button type="button" className="btn btn-danger" disabled={!p || busy} onClick={() => void remove()}>
          {busy ? 'Removing…' : `Remove ${nameOf(person)}`}
        </button>
        <button type="button" className="btn btn-ghost" disabled={busy} onClick={onCancel}>
          Cancel
        </button>
      </div>
    </section>
  );
}

/** Hand over or delete: the remover's choice for what the person owned. */
function OwnedChoice({
  value,
  onChange,
}: {
  value: 'transfer' | 'delete';
  onChange: (v: 'transfer' | 'delete') => void;
}) {
  const id = useId();
  const labels = { transfer: 'Hand over, stopped', delete: 'Delete' } as const;
  return (
    <fieldset className="field owned-choice" aria-describedby={`${id}-hint`}>
      <legend>What becomes of them</legend>
      <div className="segmented">
        {(['transfer', 'delete'] as const).map((v) => (
          <span key={v}>
            <input
              type="radio"
              id={`${id}-${v}`}
              name={`${id}-owned`}
              value={v}
              checked={value === v}
              onChange={() => onChange(v)}
            />
            <label htmlFor={`${id}-${v}`}>{labels[v]}</label>
          </span>
        ))}
      </div>
      <p className="hint" id={`${id}-hint`}>
        {value === 'transfer'
          ? 'Their agents are stopped and their servers ended; the new owner resumes what should run.'
          : 'Deleted with their grants. This cannot be undone.'}
      </p>
    </fieldset>
  );
}
