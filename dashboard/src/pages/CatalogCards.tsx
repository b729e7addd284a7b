/**
 * "Add connection" cards from the catalog of well-known MCP servers (the Connections page): each
 * says where the server comes from, which vault secrets fill its fields, which hosts it calls, and
 * whether it can be added here now (or why not). An owner or admin picks the vault secret for each
 * credential field (by name; values never show) and may allow the hosts it calls for the org's
 * egress in the same step (an explicit checkbox; an audited egress change). Adding installs its
 * package, creates the connection and lists its tools; its read-only tools are then offered as
 * starting grants for an agent — nothing is granted until a person accepts one.
 */
import { useState } from 'react';
import {
  type Agent,
  ApiError,
  api,
  type CatalogAdd,
  type CatalogAdded,
  type CatalogList,
  type Secret,
} from '../api/index.ts';
import { useAction, useLoad } from '../data/index.ts';
import { Alert, CheckboxField, Loading, Notice, Section, SelectField } from '../ui/index.ts';

type Card = CatalogList['entries'][number];

/** The secrets a server may be given (not model keys), by name: what the pickers offer. */
function useServerSecrets(slug: string, manage: boolean) {
  return useLoad(async (): Promise<Secret[]> => {
    if (!manage) return [];
    try {
      return (await api.secrets(slug)).filter((s) => s.kind !== 'model_key');
    } catch (err) {
      // A role that may add connections but not list secrets: the cards fall back to names in the vault.
      if (err instanceof ApiError && err.status === 403) return [];
      throw err;
    }
  }, `${slug}/${manage}`);
}

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
  const secrets = useServerSecrets(slug, manage);
  const add = useAction();
  const [adding, setAdding] = useState<string | null>(null);
  const [added, setAdded] = useState<CatalogAdded | null>(null);

  const addFrom = (card: Card, input: CatalogAdd) => {
    setAdding(card.id);
    setAdded(null);
    void add.run(async () => {
      const r = await api.addFromCatalog(slug, card.id, input);
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
      <Alert message={list.error ?? secrets.error} />
      {added ? (
        <SuggestedGrants slug={slug} added={added} agents={agents.data ?? []} onDone={() => setAdded(null)} />
      ) : null}
      {!list.data ? (
        <Loading what="the catalog" />
      ) : (
        <ul className="catalog-cards" aria-label="Catalog of MCP servers">
          {list.data.entries.map((card) => (
            <CatalogCardItem
              key={card.id}
              card={card}
              manage={manage}
              secrets={secrets.data ?? []}
              busy={add.busy}
              adding={adding === card.id}
              error={adding === card.id ? add.error : null}
              onAdd={(input) => addFrom(card, input)}
            />
          ))}
        </ul>
      )}
    </Section>
  );
}

/**
 * One entry's card. For an owner or admin: a secret picker per credential field (the secret of the
 * entry's name by default, when stored) and, when the org's egress does not admit every host the
 * server calls, a checkbox to allow them in the same step — never checked for them.
 */
function CatalogCardItem({
  card,
  manage,
  secrets,
  busy,
  adding,
  error,
  onAdd,
}: {
  card: Card;
  manage: boolean;
  secrets: Secret[];
  busy: boolean;
  adding: boolean;
  error: string | null;
  onAdd: (input: CatalogAdd) => void;
}) {
  const [chosen, setChosen] = useState<Record<string, string>>({});
  const [allowEgress, setAllowEgress] = useState(false);
  const oauth = card.source.kind === 'remote' && card.source.oauth;
  const missingHosts = card.status.egress.filter((e) => !e.allowed).map((e) => e.host);
  const stored = (field: string) => card.status.credentials.find((s) => s.field === field)?.secretId ?? null;
  const filled = card.credentials.every((c) => chosen[c.field] || stored(c.field));
  // What the server would refuse, foreseen: the allowlist, and a credential with no secret (unless signed in to).
  const addable = card.status.allowed !== false && (filled || oauth);
  const picked = Object.fromEntries(Object.entries(chosen).filter(([, id]) => id));
  return (
    <li className="catalog-card" data-testid="catalog-card" aria-labelledby={`cat-${card.id}`}>
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
          {card.status.needsOAuth ? <span>OAuth sign-in{card.credentials.length ? ', or ' : ''}</span> : null}
          {card.credentials.length === 0 && !card.status.needsOAuth ? 'Nothing' : null}
          {card.credentials.map((c) => (
            <span key={c.field}>
              {c.label} from the vault as <code>{c.secretName}</code>{' '}
              {stored(c.field) ? '(stored)' : '(not stored yet)'}
            </span>
          ))}
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
      {manage && card.status.allowed !== false && card.credentials.length ? (
        <div className="catalog-choices">
          {card.credentials.map((c) => (
            <SelectField
              key={c.field}
              label={`${c.label} (${c.field})`}
              value={chosen[c.field] ?? ''}
              onChange={(v) => setChosen((m) => ({ ...m, [c.field]: v }))}
              options={[
                {
                  value: '',
                  label: stored(c.field)
                    ? `${c.secretName} (its usual name)`
                    : oauth
                      ? 'None: OAuth sign-in'
                      : 'Choose a secret',
                },
                ...secrets
                  .filter((s) => s.id !== stored(c.field))
                  .map((s) => ({ value: s.id, label: s.name })),
              ]}
              hint={c.help}
            />
          ))}
        </div>
      ) : null}
      {manage && card.status.allowed !== false && missingHosts.length ? (
        <CheckboxField
          label={`Also allow ${missingHosts.join(', ')} for the organization’s egress`}
          checked={allowEgress}
          onChange={setAllowEgress}
          hint="The server calls it; without it the egress proxy refuses. Recorded in the audit trail as an egress change; the Cell page lists and removes it."
        />
      ) : null}
      {card.status.blocked && !addable ? <p className="hint catalog-text">{card.status.blocked}</p> : null}
      {adding ? <Alert message={error} /> : null}
      {manage ? (
        <button
          type="button"
          onClick={() =>
            onAdd({
              ...(Object.keys(picked).length ? { secrets: picked } : {}),
              ...(allowEgress && missingHosts.length ? { allowEgress: true } : {}),
            })
          }
          disabled={!addable || busy}
          className="btn btn-primary btn-small catalog-button"
          aria-label={`Add connection: ${card.name}`}
        >
          {busy && adding ? 'Adding…' : 'Add connection'}
        </button>
      ) : null}
    </li>
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
        <EgressOutcome egress={added.egress} />
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
      <EgressOutcome egress={added.egress} />
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

/** Which hosts the server calls were allowed by adding it, and which the egress proxy still refuses. */
function EgressOutcome({ egress }: { egress: CatalogAdded['egress'] }) {
  return (
    <>
      {egress.allowed.length ? (
        <p data-testid="catalog-egress-allowed">
          Egress allowed for the organization: {egress.allowed.join(', ')} (recorded in the audit trail).
        </p>
      ) : null}
      {egress.missing.length ? (
        <p className="hint" data-testid="catalog-egress-missing">
          Not allowed yet: {egress.missing.join(', ')}. The server cannot reach them until they are added to
          the egress allowlist on the Cell page.
        </p>
      ) : null}
    </>
  );
}
