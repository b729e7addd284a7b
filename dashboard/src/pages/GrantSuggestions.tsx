/**
 * Grants suggested from what the agent did, in its grants editor: the narrowest grants covering
 * its recent calls on record, each to accept (saved as any grant, audited) or reject (dropped from
 * the list). Nothing is granted until a person accepts; an edit is a grant added by hand below.
 */
import { useState } from 'react';
import { type Agent, api, type GrantSuggestion } from '../api/index.ts';
import { useAction } from '../data/index.ts';
import { Alert, DataTable, Notice } from '../ui/index.ts';
import { describe } from './constraint-words.ts';

export function GrantSuggestions({
  slug,
  agent,
  connectionName,
  onAccepted,
}: {
  slug: string;
  agent: Agent;
  connectionName: (id: string) => string;
  onAccepted: () => Promise<unknown>;
}) {
  const [list, setList] = useState<GrantSuggestion[] | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const action = useAction();
  const drop = (s: GrantSuggestion) => setList((l) => (l ?? []).filter((x) => x !== s));
  const suggest = () =>
    action.run(async () => {
      setNotice(null);
      const got = await api.grantSuggestions(slug, agent.id);
      setList(got.suggestions);
      if (got.suggestions.length === 0)
        setNotice(`No calls on record to suggest grants from for ${agent.name}.`);
    });
  const accept = (s: GrantSuggestion) =>
    action.run(async () => {
      await api.createGrant(slug, agent.id, s.grant);
      drop(s);
      setNotice(`Grant of ${s.grant.tool} added.`);
      await onAccepted();
    });

  return (
    <div className="grant-suggestions">
      <h3>Suggested grants</h3>
      <p className="hint">
        The narrowest grants that cover {agent.name}’s recent calls on record: only the tools it used, the
        values it gave. Nothing is granted until you accept one.
      </p>
      <button type="button" className="btn btn-secondary" onClick={suggest} disabled={action.busy}>
        Suggest from recent calls
      </button>
      <Alert message={action.error} />
      <Notice message={notice} />
      {list && list.length > 0 ? (
        <DataTable
          headers={['Connection', 'Tool', 'Conditions', 'Calls', 'Left open']}
          actions
          label="Suggested grants"
        >
          {list.map((s) => (
            <tr
              key={`${s.grant.connectionId}/${s.grant.tool}/${JSON.stringify(s.grant.constraints)}`}
              data-testid="suggestion-row"
            >
              <td className="nowrap">{connectionName(s.grant.connectionId)}</td>
              <td>
                <code>{s.grant.tool}</code>
                {s.grant.requiresApproval ? <div className="sub">with a person’s approval</div> : null}
              </td>
              <td>
                {s.grant.constraints.length === 0 ? (
                  <span className="muted">None</span>
                ) : (
                  <ul className="plain-list">
                    {s.grant.constraints.map((c) => (
                      <li key={JSON.stringify(c)}>{describe(c)}</li>
                    ))}
                  </ul>
                )}
              </td>
              <td>
                {s.calls}
                {s.refused > 0 ? (
                  <div className="muted">
                    Refused by the gate: an agent following injected instructions makes such calls too. Check
                    each value before accepting.
                  </div>
                ) : null}
              </td>
              <td>
                {s.open.length === 0 ? (
                  <span className="muted">Nothing</span>
                ) : (
                  <ul className="plain-list">
                    {s.open.map((o) => (
                      <li key={o.arg}>
                        <code>{o.arg}</code>: {o.why}
                      </li>
                    ))}
                  </ul>
                )}
              </td>
              <td className="col-actions">
                <button
                  type="button"
                  className="btn btn-primary btn-small"
                  onClick={() => accept(s)}
                  disabled={action.busy}
                >
                  Accept
                </button>{' '}
                <button
                  type="button"
                  className="btn btn-secondary btn-small"
                  onClick={() => drop(s)}
                  disabled={action.busy}
                >
                  Reject
                </button>
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
    </div>
  );
}
