/**
 * The command palette (⌘K / Ctrl-K): one box to jump to any page, agent, connection or person of
 * the org. A WAI-ARIA combobox in a modal dialog: typing filters (fuzzy), the arrow keys move
 * through the listbox, Enter opens, Escape closes and gives focus back.
 */
import { type KeyboardEvent, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../api/index.ts';
import { navigate } from '../router.tsx';
import { useModal } from './dialog.ts';
import { fuzzyFilter } from './fuzzy.ts';
import { setOverlay, useOverlay } from './overlay.ts';

export interface PaletteItem {
  id: string;
  kind: 'Page' | 'Agent' | 'Connection' | 'Person';
  label: string;
  /** Shown after the label, dimmed (a person's email). */
  detail?: string;
  path: string;
}

/** At most this many options are listed (typing narrows the rest). */
const SHOWN = 50;

/** The agents, connections and people of the org, as palette items (each list the role may read). */
async function orgItems(slug: string): Promise<PaletteItem[]> {
  const base = `/orgs/${encodeURIComponent(slug)}`;
  const [agents, connections, people] = await Promise.allSettled([
    api.agents(slug),
    api.connections(slug),
    api.people(slug),
  ]);
  const items: PaletteItem[] = [];
  if (agents.status === 'fulfilled')
    for (const a of agents.value)
      items.push({
        id: `agent-${a.id}`,
        kind: 'Agent',
        label: a.name,
        path: `${base}/agents/${encodeURIComponent(a.id)}`,
      });
  if (connections.status === 'fulfilled')
    for (const c of connections.value)
      items.push({
        id: `connection-${c.id}`,
        kind: 'Connection',
        label: c.name,
        path: `${base}/connections?show=${encodeURIComponent(c.id)}`,
      });
  if (people.status === 'fulfilled')
    for (const p of people.value)
      items.push({
        id: `person-${p.id}`,
        kind: 'Person',
        label: p.name || p.email,
        detail: p.name ? p.email : undefined,
        path: `${base}/people?show=${encodeURIComponent(p.id)}`,
      });
  return items;
}

export function CommandPalette({ slug, pages }: { slug: string; pages: readonly PaletteItem[] }) {
  const open = useOverlay() === 'palette';
  const dialog = useRef<HTMLDialogElement>(null);
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const [found, setFound] = useState<PaletteItem[] | null>(null);
  // A jump starts the keyboard on the page it led to, as following a link does.
  const jumped = useRef(false);
  useModal(
    dialog,
    open,
    () => setOverlay(null),
    () => {
      const j = jumped.current;
      jumped.current = false;
      return j;
    },
  );

  useEffect(() => {
    if (!open) return;
    setQuery('');
    setActive(0);
    let live = true;
    void orgItems(slug).then((items) => {
      if (live) setFound(items);
    });
    return () => {
      live = false;
    };
  }, [open, slug]);

  const all = useMemo(() => [...pages, ...(found ?? [])], [pages, found]);
  const shown = useMemo(
    () => fuzzyFilter(query, all, (i) => `${i.label} ${i.detail ?? ''} ${i.kind}`).slice(0, SHOWN),
    [query, all],
  );
  const current = shown[Math.min(active, shown.length - 1)];

  const go = (item: PaletteItem | undefined) => {
    if (!item) return;
    jumped.current = true;
    setOverlay(null);
    navigate(item.path);
  };

  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    const move = (to: number) => {
      e.preventDefault();
      setActive(Math.max(0, Math.min(shown.length - 1, to)));
    };
    if (e.key === 'ArrowDown') move(active + 1);
    else if (e.key === 'ArrowUp') move(active - 1);
    else if (e.key === 'Home' && e.ctrlKey) move(0);
    else if (e.key === 'End' && e.ctrlKey) move(shown.length - 1);
    else if (e.key === 'Enter') {
      e.preventDefault();
      go(current);
    }
  };

  // Keeps the active option in view as the arrows move past the list's edge.
  useEffect(() => {
    if (current) document.getElementById(`palette-${current.id}`)?.scrollIntoView({ block: 'nearest' });
  }, [current]);

  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: the keyboard closes it with Escape (the dialog's own); this is the backdrop's click.
    <dialog
      ref={dialog}
      className="palette"
      aria-label="Go to"
      onClick={(e) => {
        if (e.target === dialog.current) setOverlay(null);
      }}
    >
      {open ? (
        <div className="palette-box">
          <input
            type="text"
            role="combobox"
            aria-label="Go to a page, agent, connection or person"
            aria-expanded="true"
            aria-controls="palette-list"
            aria-autocomplete="list"
            aria-activedescendant={current ? `palette-${current.id}` : undefined}
            placeholder="Go to a page, agent, connection or person…"
            value={query}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => {
              setQuery(e.target.value);
              setActive(0);
            }}
            onKeyDown={onKey}
          />
          <div id="palette-list" role="listbox" aria-label="Places" className="palette-list">
            {shown.map((item) => (
              // biome-ignore lint/a11y/useKeyWithClickEvents: the combobox's arrows and Enter choose an option (aria-activedescendant); focus stays in the input.
              <div
                key={item.id}
                id={`palette-${item.id}`}
                role="option"
                tabIndex={-1}
                aria-selected={item === current}
                className={item === current ? 'palette-option active' : 'palette-option'}
                // Keeps focus in the box: the click chooses, the input keeps the keyboard.
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => go(item)}
              >
                <span className="palette-label">
                  {item.label}
                  {item.detail ? <span className="muted"> {item.detail}</span> : null}
                </span>
                <span className="palette-kind">{item.kind}</span>
              </div>
            ))}
          </div>
          <p className="palette-status" role="status">
            {shown.length === 0
              ? found === null
                ? 'Loading agents, connections and people…'
                : `Nothing matches “${query}”.`
              : `${shown.length} ${shown.length === 1 ? 'place' : 'places'}. ↑ ↓ to move, Enter to open, Esc to close.`}
          </p>
        </div>
      ) : null}
    </dialog>
  );
}
