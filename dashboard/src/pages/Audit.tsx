/**
 * `/orgs/{slug}/audit`: the audit explorer. The org's trail is a tamper-evident Merkle log:
 * filter it (by person and agent picked by name; the filters live in the address, so a view can
 * be shared and the back button undoes a filter), follow new entries live, replay a sequence
 * oldest first, open an entry (`?entry=N`) with its arguments, reason, run and inclusion proof
 * against a signed checkpoint, and download exports that verify offline.
 */
import { type MouseEvent, type ReactNode, useCallback, useEffect, useId, useRef, useState } from 'react';
import {
  type Agent,
  type AuditEvent,
  type AuditQuery,
  api,
  type Connection,
  type ExportFormat,
  errorMessage,
  isSessionEnded,
  type Person,
} from '../api/index.ts';
import { markTrailSeen, useLiveReload, useLoad } from '../data/index.ts';
import type { PageProps } from '../page.ts';
import { Link, navigate } from '../router.tsx';
import {
  Alert,
  Breakable,
  CopyButton,
  formatTime,
  Loading,
  onSubmit,
  PageHeader,
  Section,
  SelectField,
  TextField,
  When,
} from '../ui/index.ts';
import { auditPath, runPath } from './paths.ts';

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
  'tool.call.allowed',
  'tool.call.denied',
];

const PAGE = 100;

type Outcome = NonNullable<AuditQuery['outcome']>;
type Order = Exclude<AuditQuery['order'], '' | undefined>;

/** What the filter form holds: times as the `datetime-local` inputs give them (local time). */
interface Filters {
  person: string;
  agent: string;
  action: string;
  outcome: Outcome;
  from: string;
  to: string;
  q: string;
  order: Order;
}

const NO_FILTERS: Filters = {
  person: '',
  agent: '',
  action: '',
  outcome: '',
  from: '',
  to: '',
  q: '',
  order: 'desc',
};

const OUTCOMES: readonly { value: Outcome; label: string }[] = [
  { value: '', label: 'Any outcome' },
  { value: 'success', label: 'Success' },
  { value: 'failure', label: 'Failure' },
  { value: 'denied', label: 'Denied' },
];

const ORDERS: readonly { value: Order; label: string }[] = [
  { value: 'desc', label: 'Newest first' },
  { value: 'asc', label: 'Oldest first' },
];

const DOWNLOADS: readonly { format: ExportFormat; label: string }[] = [
  { format: 'jsonl', label: 'JSONL' },
  { format: 'csv', label: 'CSV' },
  { format: 'ocsf', label: 'OCSF' },
  { format: 'proof', label: 'proof file' },
];

/** A `datetime-local` value (the browser's time zone) as an ISO time, or undefined if blank. */
function isoTime(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function toQuery(f: Filters): AuditQuery {
  return {
    actor: f.person,
    agent: f.agent.trim(),
    action: f.action.trim(),
    outcome: f.outcome,
    from: isoTime(f.from),
    to: isoTime(f.to),
    q: f.q.trim(),
    order: f.order,
  };
}

const FILTER_KEYS = Object.keys(NO_FILTERS) as (keyof Filters)[];

/** The filters an address carries (`?agent=…&outcome=denied`); anything else there is ignored. */
function filtersFrom(query: URLSearchParams): Filters {
  const f = { ...NO_FILTERS };
  for (const k of FILTER_KEYS) {
    const v = query.get(k);
    if (v !== null) (f as Record<string, string>)[k] = v;
  }
  if (!OUTCOMES.some((o) => o.value === f.outcome)) f.outcome = '';
  if (f.order !== 'asc') f.order = 'desc';
  return f;
}

/** The address of the explorer with these filters (defaults left out). */
function filtersPath(slug: string, f: Filters): string {
  const q = new URLSearchParams();
  for (const k of FILTER_KEYS) if (f[k] !== NO_FILTERS[k]) q.set(k, f[k]);
  return `${auditPath(slug)}${q.size ? `?${q}` : ''}`;
}

function isFiltered(f: Filters): boolean {
  return (Object.keys(NO_FILTERS) as (keyof Filters)[]).some((k) => k !== 'order' && f[k].trim() !== '');
}

/** An entry's actor or target. */
type EntryRef = AuditEvent['actor'];

/** Names an actor or target: a person's email when the org knows them, else `type:id`. */
type Namer = (ref: EntryRef) => string;

export function AuditPage({ org, query }: PageProps) {
  const search = query.toString();
  const applied = filtersFrom(query);
  const appliedKey = JSON.stringify(applied);
  const entryParam = query.get('entry') ?? '';
  const openIndex = /^\d+$/.test(entryParam) ? Number(entryParam) : null;
  // An entry named by id (a test call's decision): its index is looked up, then shown as any.
  const openId = /^evt_([a-z0-9]{16}|[a-z0-9]{26})$/.test(entryParam) ? entryParam : null;
  const [draft, setDraft] = useState<Filters>(applied);
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [cursor, setCursor] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [follow, setFollow] = useState(false);
  const [people, setPeople] = useState<Person[]>([]);
  const agents = useLoad(() => api.agents(org.slug), org.slug);
  const connections = useLoad(() => api.connections(org.slug), org.slug);
  // The newest signed checkpoint: its verifier key, and the tree size downloads are pinned to.
  const key = useLoad(() => api.auditCheckpoint(org.slug), `${org.slug}:${appliedKey}`);
  // Only the newest request may fill the table: a slow earlier page must not land on a new filter.
  const generation = useRef(0);

  const load = useCallback(
    async (q: AuditQuery, after: number | null, quiet = false) => {
      const mine = ++generation.current;
      setBusy(true);
      setError(null);
      if (after === null && !quiet) setEvents(null);
      try {
        const r = await api.audit(org.slug, q, after, PAGE);
        if (mine !== generation.current) return;
        setEvents((prev) => (after !== null && prev ? [...prev, ...r.events] : r.events));
        setCursor(r.nextCursor);
      } catch (err) {
        if (mine !== generation.current) return;
        if (isSessionEnded(err)) navigate('/signin', { replace: true });
        else {
          setError(errorMessage(err));
          setEvents((prev) => prev ?? []);
        }
      } finally {
        if (mine === generation.current) setBusy(false);
      }
    },
    [org.slug],
  );

  // The address is the state: a new filter (applied here, or the back button) loads afresh.
  useEffect(() => {
    const f = JSON.parse(appliedKey) as Filters;
    setDraft(f);
    void load(toQuery(f), null);
  }, [load, appliedKey]);

  useEffect(() => {
    // Emails for the ids in the trail; the ids alone still show if this fails.
    api.people(org.slug).then(setPeople, () => {});
  }, [org.slug]);

  // Following: the newest entries read again as the log grows (newest first only).
  useLiveReload(
    ['activity'],
    () => {
      if (follow && applied.order === 'desc') void load(toQuery(applied), null, true);
    },
    1000,
  );

  const name = entryNamer(people, agents.data, connections.data);

  const apply = (f: Filters) => {
    const from = isoTime(f.from);
    const to = isoTime(f.to);
    if (from && to && from >= to) {
      setError('From must be before To.');
      return;
    }
    navigate(filtersPath(org.slug, f));
  };
  const openEntry = (index: number | null, replace = index === null) => {
    const q = new URLSearchParams(search);
    if (index === null) q.delete('entry');
    else q.set('entry', String(index));
    navigate(`${auditPath(org.slug)}${q.size ? `?${q}` : ''}`, { replace });
  };

  const set =
    <K extends keyof Filters>(k: K) =>
    (v: Filters[K]) =>
      setDraft((d) => ({ ...d, [k]: v }));

  const suggestions = new Set(KNOWN_ACTIONS);
  for (const e of events ?? []) suggestions.add(e.action);
  for (const a of [...suggestions]) suggestions.add(`${a.split('.')[0]}.*`);

  const span = { from: isoTime(applied.from), to: isoTime(applied.to) };
  const filtered = isFiltered(applied);

  return (
    <>
      <PageHeader title="Audit">
        Every change and sign-in in {org.name}, in a tamper-evident log: each entry is a leaf of a signed
        Merkle tree, and its proof shows it has not been changed or removed.
      </PageHeader>

      <Section title="Filters">
        <form
          className="audit-filters"
          aria-label="Filter audit entries"
          onSubmit={onSubmit(() => apply(draft))}
        >
          <SelectField
            label="Person"
            value={draft.person}
            onChange={set('person')}
            options={[
              { value: '', label: 'Anyone' },
              ...[...people]
                .sort((a, b) => a.email.localeCompare(b.email))
                .map((p) => ({ value: p.id, label: p.name ? `${p.name} (${p.email})` : p.email })),
            ]}
            hint="Who acted."
          />
          <SelectField
            label="Agent"
            value={draft.agent}
            onChange={set('agent')}
            options={[
              { value: '', label: 'Any agent' },
              ...[...(agents.data ?? [])]
                .sort((a, b) => a.name.localeCompare(b.name))
                .map((a) => ({ value: a.id, label: a.name })),
              // An agent deleted since (or one the address names) is still a filter.
              ...(draft.agent && !agents.data?.some((a) => a.id === draft.agent)
                ? [{ value: draft.agent, label: draft.agent }]
                : []),
            ]}
            hint="What the agent did, or had done to it."
          />
          <TextField
            label="Action"
            value={draft.action}
            onChange={set('action')}
            list="audit-actions"
            maxLength={100}
            spellCheck={false}
            placeholder="e.g. token.created"
            hint={
              <>
                Exact name, or a prefix ending in <code>*</code>: <code>team.*</code> matches every team
                action.
              </>
            }
          />
          <datalist id="audit-actions">
            {[...suggestions].sort().map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
          <SelectField label="Outcome" value={draft.outcome} onChange={set('outcome')} options={OUTCOMES} />
          <TextField
            label="From"
            type="datetime-local"
            value={draft.from}
            onChange={set('from')}
            hint="Your local time, inclusive."
          />
          <TextField
            label="To"
            type="datetime-local"
            value={draft.to}
            onChange={set('to')}
            hint="Exclusive."
          />
          <TextField
            label="Free text"
            value={draft.q}
            onChange={set('q')}
            maxLength={200}
            placeholder="e.g. a name or an id"
            hint="Anywhere in the entry."
          />
          <OrderToggle value={draft.order} onChange={set('order')} />
          <div className="form-actions audit-filter-actions">
            <button type="submit" className="btn btn-primary" disabled={busy}>
              Apply
            </button>
            <button type="button" className="btn btn-ghost" onClick={() => apply(NO_FILTERS)}>
              Clear
            </button>
          </div>
        </form>
      </Section>

      <Section
        title="Entries"
        actions={
          <span className="audit-entries-actions">
            {applied.order === 'desc' ? (
              <label className="follow-toggle">
                <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />{' '}
                Follow new entries
              </label>
            ) : null}
            {events ? (
              <span className="muted audit-count">
                {events.length}
                {cursor !== null ? '+' : ''} {events.length === 1 ? 'entry' : 'entries'} ·{' '}
                {applied.order === 'asc' ? 'oldest first' : 'newest first'}
              </span>
            ) : null}
          </span>
        }
      >
        <Alert message={error} />
        {openId ? (
          <EntryById slug={org.slug} id={openId} onFound={(index) => openEntry(index, true)} />
        ) : null}
        {openIndex !== null && events && !events.some((e) => e.index === openIndex) ? (
          <EntryByIndex
            slug={org.slug}
            index={openIndex}
            name={name}
            verifierKey={key.data?.verifierKey ?? null}
            onClose={() => openEntry(null)}
          />
        ) : null}
        {!events ? (
          <Loading what="audit entries" />
        ) : events.length === 0 ? (
          <p className="empty">
            {filtered
              ? 'No entries match these filters: widen the time range or clear a filter.'
              : 'No entries yet. Every change, tool call and decision in this organization is recorded here, in a log whose checkpoints prove nothing was altered.'}
          </p>
        ) : (
          <AuditEntries
            slug={org.slug}
            events={events}
            name={name}
            verifierKey={key.data?.verifierKey ?? null}
            busy={busy}
            open={openIndex}
            onOpen={openEntry}
          />
        )}
        {cursor !== null && events ? (
          <div className="load-more">
            <button
              type="button"
              className="btn btn-secondary"
              disabled={busy}
              onClick={() => void load(toQuery(applied), cursor)}
            >
              {busy ? 'Loading…' : 'Load more'}
            </button>
          </div>
        ) : null}
      </Section>

      <Section title="Download">
        <p className="hint">
          {span.from || span.to
            ? `Entries from ${span.from ? formatTime(span.from) : 'the start'} up to ${
                span.to ? formatTime(span.to) : 'now'
              } (the applied From and To).`
            : 'Every entry in the log. Set From and To, then Apply, to export a window.'}{' '}
          Exports are a contiguous run of the log, so the other filters do not apply.
        </p>
        <div className="download-links">
          {DOWNLOADS.map((d) => (
            <a
              key={d.format}
              className="btn btn-secondary"
              href={api.auditExportUrl(org.slug, d.format, span, key.data?.treeSize)}
            >
              Download {d.label}
            </a>
          ))}
        </div>
        <p className="hint">
          The JSONL file and its proof file verify offline, without trusting this server (CSV and OCSF are for
          spreadsheets and SIEMs). Both links are pinned to the log as signed at {key.data?.treeSize ?? '…'}{' '}
          entries, so the pair matches even if entries arrive in between.
        </p>
        <pre className="code-block">
          {`paddock audit verify --export ${exportFile(org.slug, Boolean(span.from || span.to), key.data?.treeSize)} --key '${key.data?.verifierKey ?? '<verifier key>'}'`}
        </pre>
      </Section>
    </>
  );
}

/** Names an actor or target: a person's email, an agent's or connection's name when given, else `type:id`. */
export function entryNamer(
  people: Person[],
  agents: readonly Agent[] = [],
  connections: readonly Connection[] = [],
): Namer {
  const byId = new Map(people.map((p) => [p.id, p]));
  const agentById = new Map(agents.map((a) => [a.id, a]));
  const connectionById = new Map(connections.map((c) => [c.id, c]));
  return (ref) => {
    if (ref.type === 'person') {
      const p = byId.get(ref.id);
      if (p) return p.name ? `${p.name} (${p.email})` : p.email;
    }
    if (ref.type === 'agent') {
      const a = agentById.get(ref.id);
      if (a) return a.name;
    }
    if (ref.type === 'connection') {
      const c = connectionById.get(ref.id);
      if (c) return c.name;
    }
    if (ref.type === 'tool') {
      // `connectionId/tool`: the connection by its name.
      const cut = ref.id.indexOf('/');
      const c = cut > 0 ? connectionById.get(ref.id.slice(0, cut)) : undefined;
      if (c) return `${c.name} · ${ref.id.slice(cut + 1)}`;
    }
    return `${ref.type}:${ref.id}`;
  };
}

/**
 * Audit entries as a table (time, actor, action, target, outcome); a row, or its Proof button,
 * opens the entry with its inclusion proof in a side panel. The explorer and a run's page show it.
 */
export function AuditEntries({
  slug,
  events,
  name,
  verifierKey,
  busy = false,
  label = 'Audit entries',
  open: openIndex,
  onOpen,
}: {
  slug: string;
  events: AuditEvent[];
  name: Namer;
  verifierKey: string | null;
  busy?: boolean;
  label?: string;
  /** The entry open, when the page keeps it (in its address); else the table keeps it. */
  open?: number | null;
  onOpen?: (index: number | null) => void;
}) {
  const [own, setOwn] = useState<number | null>(null);
  const openAt = onOpen ? (openIndex ?? null) : own;
  const setOpen = onOpen ?? setOwn;
  const open = events.find((e) => e.index === openAt) ?? null;
  return (
    <>
      <div className="table-wrap">
        <table className="table-compact audit-table" aria-label={label} aria-busy={busy}>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Time</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Outcome</th>
              <th scope="col" className="col-actions">
                <span className="sr-only">Proof</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <EntryRow
                key={e.index}
                event={e}
                name={name}
                selected={open?.index === e.index}
                onOpen={() => setOpen(e.index)}
              />
            ))}
          </tbody>
        </table>
      </div>
      {open ? (
        <EntryPanel
          key={open.index}
          slug={slug}
          event={open}
          name={name}
          verifierKey={verifierKey}
          onClose={() => setOpen(null)}
        />
      ) : null}
    </>
  );
}

/**
 * The downloaded file's name as the server gives it (`paddock-audit-<org>-<first>-<end>.jsonl`):
 * the whole log's is known here; a window's range the server finds, so a shell pattern stands in.
 */
function exportFile(slug: string, windowed: boolean, treeSize: number | undefined) {
  return windowed || treeSize === undefined
    ? `paddock-audit-${slug}-*.jsonl`
    : `paddock-audit-${slug}-0-${treeSize}.jsonl`;
}

function OrderToggle({ value, onChange }: { value: Order; onChange: (v: Order) => void }) {
  const id = useId();
  return (
    <fieldset className="field order-toggle" aria-describedby={`${id}-hint`}>
      <legend>Order</legend>
      <div className="segmented">
        {ORDERS.map((o) => (
          <span key={o.value}>
            <input
              type="radio"
              id={`${id}-${o.value}`}
              name={`${id}-order`}
              value={o.value}
              checked={value === o.value}
              onChange={() => onChange(o.value)}
            />
            <label htmlFor={`${id}-${o.value}`}>{o.label}</label>
          </span>
        ))}
      </div>
      <p className="hint" id={`${id}-hint`}>
        Oldest first replays the exact sequence, e.g. one agent's actions in a window.
      </p>
    </fieldset>
  );
}

function OutcomeBadge({ outcome }: { outcome: string }) {
  const known = outcome === 'success' || outcome === 'failure' || outcome === 'denied';
  return <span className={`status outcome-${known ? outcome : 'other'}`}>{outcome}</span>;
}

function EntryRow({
  event: e,
  name,
  selected,
  onOpen,
}: {
  event: AuditEvent;
  name: Namer;
  selected: boolean;
  onOpen: () => void;
}) {
  // The row opens the entry on a click (not when selecting text); the Proof button is the
  // keyboard and screen-reader way to the same panel.
  const click = (ev: MouseEvent) => {
    if ((ev.target as Element).closest('button, a')) return;
    if (window.getSelection()?.toString()) return;
    onOpen();
  };
  const rowClass = [
    'audit-row',
    e.outcome === 'failure' || e.outcome === 'denied' ? `audit-row-${e.outcome}` : '',
    selected ? 'row-selected' : '',
  ]
    .filter(Boolean)
    .join(' ');
  return (
    <tr className={rowClass} onClick={click}>
      <td className="nowrap muted">{e.index}</td>
      <td>
        <When iso={e.time} wrap />
      </td>
      <td>
        <Ref value={e.actor} name={name} />
      </td>
      <td>
        <code data-testid="audit-action">
          <Breakable text={e.action} after="." />
        </code>
        {e.erased ? <span className="tag">details erased</span> : null}
        {toolOf(e) ? (
          <div className="sub">
            <Breakable text={toolOf(e)!} after="/" />
          </div>
        ) : null}
      </td>
      <td>{e.target ? <Ref value={e.target} name={name} /> : <span className="muted">—</span>}</td>
      <td>
        <OutcomeBadge outcome={e.outcome} />
      </td>
      <td className="col-actions">
        <button
          type="button"
          className="btn btn-ghost btn-small"
          aria-label={`Proof of entry #${e.index}`}
          aria-haspopup="dialog"
          onClick={onOpen}
        >
          Proof
        </button>
      </td>
    </tr>
  );
}

function Ref({ value, name }: { value: EntryRef; name: Namer }) {
  const shown = name(value);
  const raw = `${value.type}:${value.id}`;
  if (shown === raw)
    return (
      <code className="ref">
        {value.type}:<wbr />
        {value.id}
      </code>
    );
  return (
    <>
      {shown}
      <div className="sub">
        <code className="ref">{value.id}</code>
      </div>
    </>
  );
}

/** The tool a call entry is about, as the agent called it when that differs from its name. */
function toolOf(e: AuditEvent): string | null {
  const d = e.details ?? {};
  const tool = typeof d.tool === 'string' ? d.tool : null;
  const calledAs = typeof d.calledAs === 'string' ? d.calledAs : null;
  if (calledAs && tool && !tool.endsWith(`/${calledAs}`)) return `${calledAs} (${tool})`;
  return calledAs ?? tool;
}

/** An entry named in the address but not among those listed (older, or filtered out): read alone. */
function EntryByIndex({
  slug,
  index,
  name,
  verifierKey,
  onClose,
}: {
  slug: string;
  index: number;
  name: Namer;
  verifierKey: string | null;
  onClose: () => void;
}) {
  const entry = useLoad(() => api.auditEntry(slug, index), `${slug}/${index}`);
  if (entry.error) return <Alert message={entry.error} />;
  if (!entry.data) return <Loading what={`entry #${index}`} />;
  return (
    <EntryPanel
      slug={slug}
      event={entry.data.event}
      name={name}
      verifierKey={verifierKey}
      onClose={onClose}
    />
  );
}

/** Finds an entry named by id and hands its index on (the address then names it by index). */
function EntryById({ slug, id, onFound }: { slug: string; id: string; onFound: (index: number) => void }) {
  const entry = useLoad(() => api.auditEntry(slug, id), `${slug}/${id}`);
  const index = entry.data?.event.index;
  useEffect(() => {
    if (index !== undefined) onFound(index);
  }, [index, onFound]);
  if (entry.error) return <Alert message={entry.error} />;
  return <Loading what={`entry ${id}`} />;
}

/** The entry, its details and its inclusion proof, in a modal side panel. */
function EntryPanel({
  slug,
  event,
  name,
  verifierKey,
  onClose,
}: {
  slug: string;
  event: AuditEvent;
  name: Namer;
  verifierKey: string | null;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const entry = useLoad(() => api.auditEntry(slug, event.index), `${slug}/${event.index}`);
  const e = entry.data?.event ?? event;
  const proof = entry.data?.proof;

  useEffect(() => {
    // No close on cleanup: the element leaving the page ends the modal state, and a close here
    // would fire `close` (and so onClose) when StrictMode re-runs the effect.
    const d = ref.current;
    if (d && !d.open) d.showModal();
    markTrailSeen(slug);
  }, [slug]);

  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: a backdrop click is a mouse extra; Escape and Close are the keyboard way.
    <dialog
      ref={ref}
      className="drawer"
      aria-labelledby={titleId}
      onClose={onClose}
      onClick={(ev) => {
        // A click on the dialog box itself (not its content) is a click on the backdrop.
        if (ev.target === ev.currentTarget) ref.current?.close();
      }}
    >
      <div className="drawer-body">
        <div className="drawer-header">
          <h2 id={titleId}>Entry #{e.index}</h2>
          <button type="button" className="btn btn-ghost btn-small" onClick={() => ref.current?.close()}>
            Close
          </button>
        </div>

        <dl className="facts facts-tight">
          <dt>Index</dt>
          <dd>{e.index}</dd>
          <dt>Entry id</dt>
          <dd>
            <code>{e.id}</code>
          </dd>
          <dt>Time</dt>
          <dd>
            <When iso={e.time} /> <span className="sub">{e.time}</span>
          </dd>
          <dt>Actor</dt>
          <dd>
            <FullRef value={e.actor} name={name} />
          </dd>
          <dt>Action</dt>
          <dd>
            <code>{e.action}</code>
          </dd>
          <dt>Target</dt>
          <dd>{e.target ? <FullRef value={e.target} name={name} /> : '—'}</dd>
          <dt>Outcome</dt>
          <dd>
            <OutcomeBadge outcome={e.outcome} />
          </dd>
          <dt>Request id</dt>
          <dd>{e.requestId ? <code>{e.requestId}</code> : '—'}</dd>
          {toolOf(e) ? (
            <>
              <dt>Tool</dt>
              <dd>
                <code>{toolOf(e)}</code>
              </dd>
            </>
          ) : null}
          {reasonOf(e) ? (
            <>
              <dt>Reason</dt>
              <dd data-testid="entry-reason">{reasonOf(e)}</dd>
            </>
          ) : null}
          <dt>Run</dt>
          <dd>
            {e.runId ? (
              <Link to={runPath(slug, e.runId)}>
                <code>{e.runId}</code>
              </Link>
            ) : (
              '—'
            )}
          </dd>
          <dt>Leaf hash</dt>
          <dd>
            <code data-testid="leaf-hash">{e.leafHash}</code>
          </dd>
        </dl>

        {argsOf(e) !== undefined ? (
          <PanelPart title="Arguments" level={3}>
            <pre className="code-block" data-testid="entry-args">
              {JSON.stringify(argsOf(e), null, 2)}
            </pre>
          </PanelPart>
        ) : null}

        <PanelPart title="Details" level={3}>
          {e.erased ? (
            <p className="muted">
              <span className="tag tag-flush">details erased</span> The details were erased on record (a
              retention run or a deletion request
              {e.erasedBy ? (
                <>
                  : <code>{e.erasedBy}</code>
                </>
              ) : null}
              ); the header above is still proven by the leaf hash.
            </p>
          ) : (
            <pre className="code-block">{JSON.stringify(e.details ?? {}, null, 2)}</pre>
          )}
        </PanelPart>

        <PanelPart title="Inclusion proof" level={3}>
          <Alert message={entry.error} />
          {!proof ? (
            entry.error ? null : (
              <Loading what="the proof" />
            )
          ) : (
            <>
              <p className="hint">
                Proves that entry #{e.index} is in the log's first {proof.treeSize} entries, as committed to
                by the signed checkpoint.
              </p>
              <dl className="facts facts-tight">
                <dt>Tree size</dt>
                <dd data-testid="tree-size">{proof.treeSize}</dd>
              </dl>
              <PanelPart title="Proof hashes">
                {proof.hashes.length === 0 ? (
                  <p className="muted">None: this entry is the whole tree.</p>
                ) : (
                  <ol className="hash-list">
                    {proof.hashes.map((h, i) => (
                      // The same hash can appear twice; its position is what matters.
                      // biome-ignore lint/suspicious/noArrayIndexKey: a proof is an ordered list.
                      <li key={i}>
                        <code>{h}</code>
                      </li>
                    ))}
                  </ol>
                )}
              </PanelPart>
              <PanelPart title="Signed checkpoint">
                <pre className="code-block">{proof.checkpoint}</pre>
              </PanelPart>
              <PanelPart
                title="C2SP tlog-proof"
                action={<CopyButton text={proof.tlogProof} what="tlog-proof" />}
              >
                <pre className="code-block">{proof.tlogProof}</pre>
                <p className="hint">
                  Verify it offline, without trusting this server: check it against the verifier key below
                  with any RFC 6962 / C2SP tlog-proof verifier, or download the JSONL export and its proof
                  file and run <code>paddock audit verify --export FILE.jsonl --key KEY</code>.
                </p>
              </PanelPart>
            </>
          )}
          <PanelPart
            title="Verifier key"
            action={verifierKey ? <CopyButton text={verifierKey} what="verifier key" /> : null}
          >
            {verifierKey ? <code className="block-code">{verifierKey}</code> : <Loading what="the key" />}
          </PanelPart>
        </PanelPart>
      </div>
    </dialog>
  );
}

/** Why the entry's outcome was what it was, in words, when it says. */
function reasonOf(e: AuditEvent): string | null {
  const d = e.details ?? {};
  for (const k of ['reason', 'why', 'error', 'message'] as const)
    if (typeof d[k] === 'string') return d[k] as string;
  return null;
}

/** A call's arguments, as recorded (secrets redacted), when the entry has them. */
function argsOf(e: AuditEvent): unknown {
  const d = e.details ?? {};
  return d.args ?? d.arguments;
}

function FullRef({ value, name }: { value: EntryRef; name: Namer }) {
  const shown = name(value);
  const raw = `${value.type}:${value.id}`;
  return (
    <>
      {shown === raw ? null : <span>{shown} </span>}
      <code>{raw}</code>
    </>
  );
}

function PanelPart({
  title,
  level = 4,
  action,
  children,
}: {
  title: string;
  level?: 3 | 4;
  action?: ReactNode;
  children: ReactNode;
}) {
  const id = useId();
  const H = level === 3 ? 'h3' : 'h4';
  return (
    <section className={`drawer-part drawer-part-${level}`} aria-labelledby={id}>
      <div className="drawer-part-header">
        <H id={id}>{title}</H>
        {action}
      </div>
      {children}
    </section>
  );
}
