/**
 * `/orgs/{slug}/cell`: the organization's cell, the sandboxed process its agents run in. Its
 * state (refreshed every 2 s), its health history, start / stop / restart for owners and admins,
 * and the egress allowlist: the only host:port pairs the cell may reach.
 */
import { useEffect, useState } from 'react';
import {
  api,
  CELL_STATES,
  type Cell,
  type CellEvent,
  type CellState,
  type CellStatus,
  canManage,
  type EgressRule,
} from '../api/index.ts';
import { useAction, useLoad } from '../data/index.ts';
import type { PageProps } from '../page.ts';
import {
  Alert,
  CheckboxField,
  ConfirmButton,
  Loading,
  Notice,
  onSubmit,
  PageHeader,
  Section,
  TextField,
} from '../ui/index.ts';

const REFRESH_MS = 2000;
const HISTORY_LIMIT = 50;

const STATE_LABEL: Record<CellState, string> = {
  starting: 'Starting',
  ready: 'Ready',
  unhealthy: 'Unhealthy',
  backoff: 'Waiting to restart',
  stopped: 'Stopped',
};

function isState(s: string): s is CellState {
  return (CELL_STATES as readonly string[]).includes(s);
}

/** States in which a process runs (or is about to). */
const RUNNING: ReadonlySet<CellState> = new Set(['starting', 'ready', 'unhealthy', 'backoff']);

function StateBadge({ state, testId }: { state: string; testId?: string }) {
  return (
    <span className={`status cell-state cell-${isState(state) ? state : 'other'}`} data-testid={testId}>
      {isState(state) ? STATE_LABEL[state] : state}
    </span>
  );
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "45 s", "3 min 12 s", "2 h 5 min", "3 d 4 h". */
function formatDuration(ms: number): string {
  const t = Math.max(0, ms);
  if (t < MINUTE) return `${Math.floor(t / SECOND)} s`;
  if (t < HOUR) return `${Math.floor(t / MINUTE)} min ${Math.floor((t % MINUTE) / SECOND)} s`;
  if (t < DAY) return `${Math.floor(t / HOUR)} h ${Math.floor((t % HOUR) / MINUTE)} min`;
  return `${Math.floor(t / DAY)} d ${Math.floor((t % DAY) / HOUR)} h`;
}

function formatMegabytes(bytes: number | null): string {
  if (bytes === null) return '—';
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const TIME_SECONDS = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

function formatSeconds(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : TIME_SECONDS.format(d);
}

/** One line for a history entry's details: `pid 123 · sandbox bubblewrap`. */
function summarizeDetail(state: string, detail: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(detail)) {
    if (value === null || value === undefined || value === '') continue;
    const v = typeof value === 'object' ? JSON.stringify(value) : String(value);
    switch (key) {
      case 'reason':
        parts.push(v);
        break;
      case 'pid':
        // A ready cell reports its own pid: inside a sandbox's pid namespace, not the host's.
        parts.push(state === 'ready' ? `pid ${v} as the cell sees it` : `pid ${v}`);
        break;
      case 'sandbox':
        parts.push(`sandbox ${v}`);
        break;
      case 'ms':
        parts.push(`ready in ${v} ms`);
        break;
      case 'delayMs':
        parts.push(`next try in ${v} ms`);
        break;
      case 'restarts':
        parts.push(`restart #${v}`);
        break;
      case 'exit':
        parts.push(`exit code ${v}`);
        break;
      case 'signal':
        parts.push(`signal ${v}`);
        break;
      default:
        parts.push(`${key}: ${v}`);
    }
  }
  return parts.join(' · ');
}

type CellAction = 'start' | 'stop' | 'restart';
const PENDING_LABEL: Record<CellAction, string> = {
  start: 'Starting…',
  stop: 'Stopping…',
  restart: 'Restarting…',
};

export function CellPage({ org, refreshOrgs }: PageProps) {
  const manage = canManage(org.role);
  const status = useLoad(() => api.cell(org.slug), org.slug);
  const history = useLoad(() => api.cellHistory(org.slug, HISTORY_LIMIT), org.slug);
  const action = useAction();
  const [pending, setPending] = useState<CellAction | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const reloadStatus = status.reload;
  const reloadHistory = history.reload;

  // Auto-refresh while the page is open (skipped while the tab is hidden).
  useEffect(() => {
    const timer = setInterval(() => {
      setNow(Date.now());
      if (document.hidden) return;
      void reloadStatus();
      void reloadHistory();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reloadStatus, reloadHistory]);

  const act = async (what: CellAction) => {
    setPending(what);
    await action.run(async () => {
      try {
        await api.cellAction(org.slug, what);
      } finally {
        await Promise.all([reloadStatus(), reloadHistory()]);
      }
    });
    setPending(null);
    setNow(Date.now());
  };

  const data = status.data;
  const cell = data?.cell ?? null;
  const available = data ? data.sandbox !== null : false;
  const running = cell ? RUNNING.has(cell.state) : false;

  return (
    <>
      <PageHeader title="Cell">
        The isolated process that runs {org.name}’s agents. It holds the organization’s data key, has no
        network of its own, and reaches only the hosts on its egress allowlist.
      </PageHeader>
      <Alert message={status.error} />
      {data ? <Availability status={data} /> : null}
      <Section
        title="Status"
        actions={
          manage && data ? (
            <div className="card-actions">
              {pending ? (
                <span className="muted cell-pending" aria-live="polite">
                  {PENDING_LABEL[pending]}
                </span>
              ) : null}
              <button
                type="button"
                className="btn btn-primary btn-small"
                disabled={!available || running || pending !== null}
                onClick={() => void act('start')}
              >
                Start
              </button>
              <ConfirmButton
                label="Restart"
                confirmLabel="Yes, restart"
                question="Restart the cell?"
                className="btn btn-secondary btn-small"
                disabled={!available || !running || pending !== null}
                onConfirm={() => act('restart')}
              />
              <ConfirmButton
                label="Stop"
                confirmLabel="Yes, stop"
                question="Stop the cell?"
                disabled={!available || !running || pending !== null}
                onConfirm={() => act('stop')}
              />
            </div>
          ) : null
        }
      >
        <Alert message={action.error} />
        {!data ? <Loading what="the cell" /> : <CellFacts status={data} cell={cell} now={now} />}
      </Section>
      <Section title="Health history">
        <p className="hint">
          Starts, exits, restarts and health changes, newest first (the last {HISTORY_LIMIT}).
        </p>
        <Alert message={history.error} />
        {!history.data ? (
          <Loading what="the health history" />
        ) : history.data.length === 0 ? (
          <p className="empty">Nothing yet: the cell has not run.</p>
        ) : (
          <HistoryTable events={history.data} />
        )}
      </Section>
      <EgressAllowlist
        slug={org.slug}
        rules={org.settings.egressAllowlist}
        manage={manage}
        refreshOrgs={refreshOrgs}
      />
    </>
  );
}

function Availability({ status }: { status: CellStatus }) {
  if (status.sandbox === null) {
    return (
      <div className="alert alert-error cell-problem" role="alert">
        <strong>Org cells are unavailable on this server.</strong>
        <p>{status.problem ?? 'No sandbox could be set up.'}</p>
      </div>
    );
  }
  if (status.sandbox === 'none') {
    return (
      <div className="alert alert-warning cell-problem" role="alert">
        <strong>No isolation.</strong>
        <p>
          This server runs org cells without a sandbox (<code>--unsafe-no-sandbox</code>): fine for
          development, never for production.
        </p>
      </div>
    );
  }
  return status.problem ? <Alert message={status.problem} /> : null;
}

function CellFacts({ status, cell, now }: { status: CellStatus; cell: Cell | null; now: number }) {
  const up = cell?.readyAt && (cell.state === 'ready' || cell.state === 'unhealthy');
  return (
    <dl className="facts">
      <dt>State</dt>
      <dd>
        {cell ? (
          <StateBadge state={cell.state} testId="cell-state" />
        ) : (
          <>
            <span className="status cell-state cell-stopped" data-testid="cell-state">
              Not started
            </span>
            <span className="sub cell-note">The cell has not run since the server started.</span>
          </>
        )}
      </dd>
      <dt>Sandbox</dt>
      <dd>
        {(cell?.sandbox ?? status.sandbox) ? (
          <code data-testid="cell-sandbox">{cell?.sandbox ?? status.sandbox}</code>
        ) : (
          <span className="muted" data-testid="cell-sandbox">
            None available
          </span>
        )}
        {status.guarantees.length > 0 && (
          <ul className="sub cell-guarantees" data-testid="cell-guarantees">
            {status.guarantees.map((g) => (
              <li key={g}>{g}</li>
            ))}
          </ul>
        )}
      </dd>
      <dt>Process ID</dt>
      <dd data-testid="cell-pid">{cell?.pid ?? '—'}</dd>
      <dt>Uptime</dt>
      <dd data-testid="cell-uptime">
        {up ? (
          <>
            {formatDuration(now - Date.parse(cell.readyAt!))}{' '}
            <span className="sub">since {formatSeconds(cell.readyAt!)}</span>
          </>
        ) : (
          '—'
        )}
      </dd>
      <dt>Restarts</dt>
      <dd>
        <span data-testid="cell-restarts">{cell?.restarts ?? 0}</span>{' '}
        <span className="sub">automatic, after a crash or missed heartbeats</span>
      </dd>
      <dt>Memory</dt>
      <dd data-testid="cell-memory">{formatMegabytes(cell?.rssBytes ?? null)}</dd>
      <dt>Last heartbeat</dt>
      <dd data-testid="cell-heartbeat">
        {cell?.lastHeartbeatAt ? (
          <time dateTime={cell.lastHeartbeatAt} title={formatSeconds(cell.lastHeartbeatAt)}>
            {formatDuration(now - Date.parse(cell.lastHeartbeatAt))} ago
          </time>
        ) : (
          '—'
        )}
      </dd>
    </dl>
  );
}

function HistoryTable({ events }: { events: CellEvent[] }) {
  return (
    <div className="table-wrap">
      <table className="table-compact" aria-label="Cell health history">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">State</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e, i) => (
            // Entries have no id; newest first, so an index plus the time is stable enough.
            // biome-ignore lint/suspicious/noArrayIndexKey: entries carry no id of their own.
            <tr key={`${e.time}-${i}`}>
              <td className="nowrap">
                <time dateTime={e.time}>{formatSeconds(e.time)}</time>
              </td>
              <td>
                <StateBadge state={e.state} />
              </td>
              <td className="cell-detail">{summarizeDetail(e.state, e.detail) || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const HOST = /^[A-Za-z0-9.:[\]-]+$/;

/** `host:port`, `[v6]:port` or a host alone; IPv6 brackets are dropped (the proxy compares bare). */
function parseHostPort(input: string, portText: string): EgressRule | string {
  let host = input.trim();
  let port = portText.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  const named = /^([^:]+):(\d+)$/.exec(host);
  if (bracketed) {
    host = bracketed[1]!;
    if (bracketed[2]) port = bracketed[2];
  } else if (named) {
    host = named[1]!;
    port = named[2]!;
  }
  host = host.toLowerCase();
  if (!host) return 'Enter a host name or IP address.';
  if (host.length > 253 || !HOST.test(host)) return `“${host}” is not a host name or IP address.`;
  const n = Number(port);
  if (!/^\d+$/.test(port) || n < 1 || n > 65535) return 'The port is a whole number from 1 to 65535.';
  return { host, port: n };
}

function ruleKey(r: EgressRule): string {
  return `${r.host}:${r.port}`;
}

function showHost(r: EgressRule): string {
  return r.host.includes(':') ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`;
}

function sameRules(a: readonly EgressRule[], b: readonly EgressRule[]): boolean {
  return (
    a.length === b.length &&
    a.every((r, i) => ruleKey(r) === ruleKey(b[i]!) && !!r.allowPrivate === !!b[i]!.allowPrivate)
  );
}

const PRIVATE_HINT =
  'Allow private addresses lets an entry reach loopback, private-network or link-local addresses, for a model ' +
  'server on this machine or your network (a local Ollama on localhost:11434, say). Leave it off for public ' +
  'APIs: the proxy then refuses a name that resolves to an internal address.';

function EgressAllowlist({
  slug,
  rules,
  manage,
  refreshOrgs,
}: {
  slug: string;
  rules: readonly EgressRule[];
  manage: boolean;
  refreshOrgs: () => Promise<void>;
}) {
  const [draft, setDraft] = useState<EgressRule[]>(() => rules.map((r) => ({ ...r })));
  const [host, setHost] = useState('');
  const [port, setPort] = useState('443');
  const [allowPrivate, setAllowPrivate] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const { busy, error, setError, run } = useAction();
  const dirty = !sameRules(draft, rules);

  const add = () => {
    setSaved(null);
    const parsed = parseHostPort(host, port);
    if (typeof parsed === 'string') {
      setError(parsed);
      return;
    }
    if (draft.some((r) => ruleKey(r) === ruleKey(parsed))) {
      setError(`${showHost(parsed)} is already on the list.`);
      return;
    }
    if (draft.length >= 200) {
      setError('The allowlist holds at most 200 entries.');
      return;
    }
    setError(null);
    setDraft([...draft, allowPrivate ? { ...parsed, allowPrivate: true } : parsed]);
    setHost('');
    setPort('443');
    setAllowPrivate(false);
  };

  const save = () => {
    setSaved(null);
    void run(async () => {
      const egressAllowlist = draft.map((r) => (r.allowPrivate ? r : { host: r.host, port: r.port }));
      const org = await api.updateOrg(slug, { settings: { egressAllowlist } });
      setDraft(org.settings.egressAllowlist.map((r) => ({ ...r })));
      await refreshOrgs();
      setSaved('Egress allowlist saved. The cell’s proxy applies it to new connections at once.');
    });
  };

  const list = manage ? draft : rules;

  return (
    <Section title="Egress allowlist">
      <p className="hint">
        The cell has no network of its own: its one way out is an egress proxy that connects only to these
        host:port pairs, the hosts of the organization’s remote connections and the APIs of the model
        providers it holds keys for (never to a private address unless an entry here allows it). Everything
        else is refused and recorded in the audit trail.
      </p>
      <Alert message={error} />
      <Notice message={saved} />
      {list.length === 0 ? (
        <p className="empty">No entries: the cell cannot reach any host.</p>
      ) : (
        <div className="table-wrap">
          <table aria-label="Egress allowlist">
            <thead>
              <tr>
                <th scope="col">Host and port</th>
                <th scope="col">Private addresses</th>
                {manage ? (
                  <th scope="col" className="col-actions">
                    <span className="sr-only">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {list.map((r) => (
                <tr key={ruleKey(r)}>
                  <td>
                    <code>{showHost(r)}</code>
                  </td>
                  <td>
                    {manage ? (
                      <label className="inline-check">
                        <input
                          type="checkbox"
                          checked={!!r.allowPrivate}
                          onChange={(e) => {
                            setSaved(null);
                            const on = e.target.checked;
                            setDraft(
                              draft.map((x) =>
                                ruleKey(x) === ruleKey(r)
                                  ? on
                                    ? { ...x, allowPrivate: true }
                                    : { host: x.host, port: x.port }
                                  : x,
                              ),
                            );
                          }}
                        />
                        Allow private addresses<span className="sr-only"> for {showHost(r)}</span>
                      </label>
                    ) : r.allowPrivate ? (
                      'Allowed'
                    ) : (
                      <span className="muted">Public only</span>
                    )}
                  </td>
                  {manage ? (
                    <td className="col-actions">
                      <button
                        type="button"
                        className="btn btn-danger-ghost btn-small"
                        onClick={() => {
                          setSaved(null);
                          setDraft(draft.filter((x) => ruleKey(x) !== ruleKey(r)));
                        }}
                      >
                        Remove<span className="sr-only"> {showHost(r)}</span>
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {manage ? (
        <>
          <form className="form-inline" aria-label="Add an egress entry" onSubmit={onSubmit(add)}>
            <TextField
              label="Host"
              value={host}
              onChange={setHost}
              maxLength={260}
              placeholder="api.openai.com"
              autoComplete="off"
              spellCheck={false}
            />
            <TextField
              label="Port"
              type="number"
              min={1}
              max={65535}
              value={port}
              onChange={setPort}
              narrow
            />
            <CheckboxField
              label="Allow private addresses"
              checked={allowPrivate}
              onChange={setAllowPrivate}
            />
            <div className="form-actions">
              <button type="submit" className="btn btn-secondary">
                Add entry
              </button>
            </div>
          </form>
          <p className="hint egress-private-hint">{PRIVATE_HINT}</p>
          <div className="form-actions egress-save">
            <button type="button" className="btn btn-primary" disabled={busy || !dirty} onClick={save}>
              {busy ? 'Saving…' : 'Save allowlist'}
            </button>
            {dirty ? (
              <>
                <span className="muted">Unsaved changes.</span>
                <button
                  type="button"
                  className="btn btn-ghost btn-small"
                  disabled={busy}
                  onClick={() => {
                    setError(null);
                    setDraft(rules.map((r) => ({ ...r })));
                  }}
                >
                  Discard
                </button>
              </>
            ) : null}
          </div>
        </>
      ) : (
        <p className="hint egress-private-hint">{PRIVATE_HINT}</p>
      )}
    </Section>
  );
}
