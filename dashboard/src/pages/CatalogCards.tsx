/**
 * "Add connection" cards from the catalog of well-known MCP servers (the Connections page): each
 * says where the server comes from, which vault secrets fill its fields, which hosts it calls, and
 * whether it can be added here now (or why not). Adding installs its package, creates the
 * connection and lists its tools; its read-only tools are then offered as starting grants for an
 * agent — nothing is granted until a person accepts one.
 */
import { useState } from 'react';
import { type Agent, api, type CatalogAdded, type CatalogList } from '../api/index.ts';
import { useAction, useLoad } from '../data/index.ts';
import { Alert, Loading, Notice, Section, SelectField } from '../ui/index.ts';

type Card = CatalogList['entries'][number];

export function CatalogCards({
  slug,
  manage,
  onAdded,
}: {
  slug: string;
  manage: boolean;
  onAdded: () => Promise<unknown>;
}) {
  const list = useLoad(() => api.catalog(slug), slug);
  const agents = useLoad(() => (manage ? api.agents(slug) : Promise.resolve([] as Agent[])), slug);
  const add = useAction();
  const [adding, setAdding] = useState<string | null>(null);
  const [added, setAdded] = useState<CatalogAdded | null>(null);

  const addFrom = (card: Card) => {
    setAdding(card.id);
    setAdded(null);
    void add.run(async () => {
      const r = await api.addFromCatalog(slug, card.id, {});
      setAdded(r);
      await Promise.all([onAdded(), list.reload()]);
    });
  };

  return (
    <Section title="Add a connection from the catalog">
      <p className="muted">
        Well-known MCP servers, pinned and checked with this version of Paddock
        {list.data ? ` (catalog ${list.data.version})` : ''}. A package is installed only if the operator
        allows it; its secrets come from the vault under the names shown.
      </p>
      <Alert message={list.error} />
      {added ? (
        <SuggestedGrants slug={slug} added={added} agents={agents.data ?? []} onDone={() => setAdded(null)} />
      ) : null}
      {!list.data ? (
        <Loading what="the catalog" />
      ) : (
        <ul className="catalog-cards" aria-label="Catalog of MCP servers">
          {list.data.entries.map((card) => (
            <li
              key={card.id}
              className="catalog-card"
              data-testid="catalog-card"
              aria-labelledby={`cat-${card.id}`}
            >
              <h3 id={`cat-${card.id}`} className="catalog-title">
                {card.name}
              </h3>
              <p className="sub catalog-text">{card.vendor}</p>
              <p className="catalog-text">{card.description}</p>
              <dl className="facts catalog-facts">
                <dt>{card.source.kind === 'npm' ? 'Package' : 'Remote server'}</dt>
                <dd>
                  <code>{card.source.kind === 'npm' ? card.source.package : card.source.url}</code>
                  {card.status.installed ? ' (installed)' : ''}
                </dd>
                <dt>Needs</dt>
                <dd>
                  {card.status.needsOAuth ? (
                    <span>OAuth sign-in{card.credentials.length ? ', or ' : ''}</span>
                  ) : null}
                  {card.credentials.length === 0 && !card.status.needsOAuth ? 'Nothing' : null}
                  {card.credentials.map((c) => {
                    const filled = card.status.credentials.find((s) => s.field === c.field)?.secretId;
                    return (
                      <span key={c.field}>
                        {c.label} from the vault as <code>{c.secretName}</code>{' '}
                        {filled ? '(stored)' : '(not stored yet)'}
                      </span>
                    );
                  })}
                </dd>
                <dt>Calls</dt>
                <dd>
                  {card.status.egress.length === 0
                    ? 'Nothing outside the sandbox'
                    : card.status.egress.map((e, i) => (
                        <span key={e.host}>
                          {i ? ', ' : ''}
                          <code>{e.host}</code> {e.allowed ? '(allowed)' : '(not in egress rules yet)'}
                        </span>
                      ))}
                </dd>
              </dl>
              {card.status.connections.length ? (
                <p className="sub catalog-text">
                  Connected as {card.status.connections.map((c) => c.name).join(', ')}.
                </p>
              ) : null}
              {card.status.blocked ? <p className="hint catalog-text">{card.status.blocked}</p> : null}
              {adding === card.id ? <Alert message={add.error} /> : null}
              {manage ? (
                <button
                  type="button"
                  onClick={() => addFrom(card)}
                  disabled={!card.status.addable || add.busy}
                  className="btn btn-primary btn-small catalog-button"
                  aria-label={`Add connection: ${card.name}`}
                >
                  {add.busy && adding === card.id ? 'Adding…' : 'Add connection'}
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

/** The read-only tools of a connection just added, each to grant to an agent on acceptance. */
function SuggestedGrants({
  slug,
  added,
  agents,
  onDone,
}: {
  slug: string;
  added: CatalogAdded;
  agents: Agent[];
  onDone: () => void;
}) {
  const [agent, setAgent] = useState(agents[0]?.id ?? '');
  const [accepted, setAccepted] = useState<string[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const action = useAction();
  const chosen = agent || agents[0]?.id || '';
  const accept = (tool: string) =>
    action.run(async () => {
      await api.createGrant(slug, chosen, { connectionId: added.connection.id, tool });
      setAccepted((a) => [...a, tool]);
      setNotice(`Granted ${tool} to ${agents.find((a) => a.id === chosen)?.name ?? 'the agent'}.`);
    });
  if (added.signIn)
    return (
      <section className="grant-suggestions" aria-label="Sign in to the new connection">
        <h3>Added {added.connection.name}</h3>
        <p>
          It signs in with OAuth: press <strong>Connect</strong> on its row below (or{' '}
          <strong>Connect per person</strong>, so each person's calls use their own account). Its tools are
          listed once it is connected; nothing is granted until you grant it.
        </p>
        <button type="button" className="btn btn-secondary btn-small" onClick={onDone}>
          Done
        </button>
      </section>
    );
  return (
    <section className="grant-suggestions" aria-label="Suggested starting grants">
      <h3>Added {added.connection.name}</h3>
      <p>
        {added.installed
          ? `${added.installed.package} ${added.installed.already ? 'was installed already' : 'installed, every tarball verified'}; `
          : ''}
        {added.tools?.tools.length ?? 0} tools listed. Suggested starting grants are its read-only tools.
        Nothing is granted until you accept one.
      </p>
      {added.suggestedGrants.length === 0 ? (
        <p className="muted">No read-only tools to suggest: grant tools from an agent’s grants page.</p>
      ) : agents.length === 0 ? (
        <p className="muted">Create an agent first, then grant it these tools from its grants page.</p>
      ) : (
        <>
          <SelectField
            label="Grant to agent"
            value={chosen}
            onChange={setAgent}
            options={agents.map((a) => ({ value: a.id, label: a.name }))}
          />
          <ul className="plain-list">
            {added.suggestedGrants.map((s) => (
              <li key={s.tool} data-testid="catalog-suggestion">
                <code>{s.tool}</code> {s.title ? <span className="muted">{s.title}</span> : null}{' '}
                <button
                  type="button"
                  className="btn btn-secondary btn-small"
                  onClick={() => void accept(s.tool)}
                  disabled={action.busy || accepted.includes(s.tool)}
                  aria-label={`Accept ${s.tool}`}
                >
                  {accepted.includes(s.tool) ? 'Granted' : 'Accept'}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      <Alert message={action.error} />
      <Notice message={notice} />
      <button type="button" className="btn btn-secondary btn-small" onClick={onDone}>
        Done
      </button>
    </section>
  );
}
