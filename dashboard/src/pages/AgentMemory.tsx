/**
 * An agent's memory, on its page: what it keeps across runs through the built-in memory tool,
 * pinned entries first (every run is given them), with a search. Those who may change the agent
 * edit an entry's text, pin or unpin it, delete it, or delete all of the agent's memory on request
 * (an audited deletion with counts). Entries are shown as text: whatever an agent wrote is never
 * markup here.
 */
import { useState } from 'react';
import { type Agent, api, type MemoryEntry, type OrgWithRole } from '../api/index.ts';
import { useAction, useLoad, usePeopleNames } from '../data/index.ts';
import {
  Alert,
  ConfirmButton,
  formatTime,
  Loading,
  Notice,
  onSubmit,
  Section,
  TextAreaField,
  TextField,
} from '../ui/index.ts';

/** Characters of an entry's text (the server's limit). */
const TEXT_CHARS = 2000;

/** `write`: whether the viewer may change the agent (its owner, owners and admins). */
export function AgentMemory({
  org,
  agent,
  meId,
  write,
}: {
  org: OrgWithRole;
  agent: Agent;
  meId: string;
  write: boolean;
}) {
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const list = useLoad(
    () => api.memory(org.slug, agent.id, query ? { q: query } : {}),
    `${org.slug}/${agent.id}/memory/${query}`,
  );
  const people = usePeopleNames(org.slug, meId);
  const wipe = useAction();
  const entries = list.data;
  return (
    <Section
      title="Memory"
      actions={
        write && entries && entries.length > 0 ? (
          <ConfirmButton
            label="Delete all memory"
            confirmLabel="Delete all"
            question={`Delete everything ${agent.name} remembers, and erase its memory calls from the audit trail?`}
            onConfirm={async () => {
              await wipe.run(async () => {
                const done = await api.deleteAgentMemory(org.slug, agent.id);
                setNotice(
                  `Deleted ${done.entries} entr${done.entries === 1 ? 'y' : 'ies'}; ${done.auditPayloads} audit payload${done.auditPayloads === 1 ? '' : 's'} erased.`,
                );
                await list.reload();
              });
            }}
          />
        ) : null
      }
    >
      <p className="hint">
        What {agent.name} keeps across runs through the built-in memory connection (granted like any tool).
        Pinned entries are given to every run; the others it finds with recall.
      </p>
      <Notice message={notice} />
      <Alert message={list.error ?? wipe.error ?? people.error} />
      {/* A search landmark, not a form: reading memory changes nothing (read-only viewers have no forms). */}
      <search className="form-inline" aria-label="Search memory">
        <TextField
          label="Search memory"
          type="search"
          value={search}
          maxLength={500}
          onChange={setSearch}
          onKeyDown={(ev) => {
            if (ev.key === 'Enter') setQuery(search.trim());
          }}
        />
        <div className="form-actions">
          <button
            type="button"
            className="btn btn-secondary btn-small"
            onClick={() => setQuery(search.trim())}
          >
            Search
          </button>
        </div>
      </search>
      {!entries ? (
        <Loading what="memory" />
      ) : entries.length === 0 ? (
        <p className="empty">{query ? 'No entry matches.' : `${agent.name} remembers nothing yet.`}</p>
      ) : (
        <ul className="memory-list">
          {entries.map((e) => (
            <MemoryItem
              key={e.id}
              slug={org.slug}
              agent={agent}
              entry={e}
              write={write}
              about={people.name}
              onChanged={async (message) => {
                setNotice(message);
                await list.reload();
              }}
            />
          ))}
        </ul>
      )}
    </Section>
  );
}

function MemoryItem({
  slug,
  agent,
  entry: e,
  write,
  about,
  onChanged,
}: {
  slug: string;
  agent: Agent;
  entry: MemoryEntry;
  write: boolean;
  about: (id: string | null) => string;
  onChanged: (message: string | null) => Promise<void>;
}) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(e.text);
  const save = useAction();
  const pin = useAction();
  return (
    <li className="memory-item" data-testid="memory-entry">
      <p className="feedback-line">
        {e.pinned ? <span className="tag">Pinned</span> : null} <span className="muted">Updated</span>{' '}
        {formatTime(e.updatedAt)}
        {e.personId ? (
          <>
            {' '}
            · <span className="muted">about</span> {about(e.personId)}
          </>
        ) : null}
      </p>
      {editing ? (
        <form
          aria-label={`Edit memory entry ${e.id}`}
          onSubmit={onSubmit(() => {
            void save.run(async () => {
              await api.updateMemory(slug, agent.id, e.id, { text });
              setEditing(false);
              await onChanged('Memory entry saved.');
            });
          })}
        >
          <Alert message={save.error} />
          <TextAreaField
            label="Text"
            value={text}
            required
            maxLength={TEXT_CHARS}
            rows={4}
            onChange={setText}
          />
          <div className="form-actions">
            <button type="submit" className="btn btn-primary btn-small" disabled={save.busy}>
              {save.busy ? 'Saving…' : 'Save'}
            </button>
            <button
              type="button"
              className="btn btn-secondary btn-small"
              onClick={() => {
                setText(e.text);
                setEditing(false);
              }}
            >
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <p className="memory-text" data-testid="memory-text">
          {e.text}
        </p>
      )}
      <Alert message={pin.error} />
      {write && !editing ? (
        <div className="form-actions">
          <button
            type="button"
            className="btn btn-secondary btn-small"
            disabled={pin.busy}
            onClick={() =>
              void pin.run(async () => {
                await api.updateMemory(slug, agent.id, e.id, { pinned: !e.pinned });
                await onChanged(e.pinned ? 'Unpinned.' : 'Pinned: every run is given it.');
              })
            }
          >
            {e.pinned ? 'Unpin' : 'Pin'}
          </button>
          <button type="button" className="btn btn-secondary btn-small" onClick={() => setEditing(true)}>
            Edit
          </button>
          <ConfirmButton
            label="Delete"
            confirmLabel="Delete entry"
            question="Delete this memory entry?"
            onConfirm={async () => {
              await api.deleteMemory(slug, agent.id, e.id);
              await onChanged('Memory entry deleted.');
            }}
          />
        </div>
      ) : null}
    </li>
  );
}
