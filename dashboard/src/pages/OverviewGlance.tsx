/**
 * The Overview's glance at the org, for those who oversee it (owners, admins, auditors): calls
 * waiting for approval and agents stopped (both live: read again when the org's stream says they
 * changed), the cell's health, the latest signed checkpoint, the controls' latest results, and
 * small charts of the activity over time counted from the log.
 */
import { api, type ControlStatus, type OrgWithRole } from '../api/index.ts';
import { stillWaiting, useLive, useLiveReload, useLoad, useNow } from '../data/index.ts';
import { Link } from '../router.tsx';
import { Alert, Section, TimeChart } from '../ui/index.ts';

const CELL_LABEL: Record<string, string> = {
  starting: 'Starting',
  ready: 'Healthy',
  unhealthy: 'Unhealthy',
  backoff: 'Restarting (backoff)',
  stopped: 'Stopped',
};

export function OverviewGlance({ org }: { org: OrgWithRole }) {
  const slug = org.slug;
  const base = `/orgs/${encodeURIComponent(slug)}`;
  const agents = useLoad(() => api.agents(slug), slug);
  const cell = useLoad(() => api.cell(slug), slug);
  const checkpoint = useLoad(() => api.auditCheckpoint(slug), slug);
  const controls = useLoad(() => api.controls(slug), slug);
  const usage = useLoad(() => api.usage(slug), slug);
  const hours = useLoad(() => api.activity(slug, { unit: 'hour', count: 48 }), slug);
  const days = useLoad(() => api.activity(slug, { unit: 'day', count: 14 }), slug);

  const live = useLive();
  const now = useNow();
  const waiting = live.pending === null ? null : stillWaiting(live.pending, now).length;
  useLiveReload(['agents'], agents.reload);
  useLiveReload(['cell'], cell.reload);
  // A busy org's log grows all the time: its counts are read again at most every few seconds.
  useLiveReload(['activity'], () => Promise.all([checkpoint.reload(), hours.reload(), days.reload()]), 5000);

  const stopped = (agents.data ?? []).filter((a) => a.state === 'stopped');
  const states = new Map<ControlStatus, number>();
  for (const c of controls.data ?? [])
    if (c.latest) states.set(c.latest.status, (states.get(c.latest.status) ?? 0) + 1);
  const tested = (controls.data ?? []).filter((c) => c.latest).length;
  const today = days.data?.buckets.at(-1);

  return (
    <Section title="At a glance">
      <Alert message={agents.error ?? checkpoint.error ?? controls.error ?? hours.error} />
      <dl className="stat-tiles">
        <div className="stat-tile" data-testid="tile-approvals">
          <dt>Approvals waiting</dt>
          <dd>
            <Link to={`${base}/approvals`}>{waiting ?? '…'}</Link>
          </dd>
        </div>
        <div className="stat-tile" data-testid="tile-stopped">
          <dt>Agents stopped</dt>
          <dd>
            <span className="stat-value">
              {/* With the org's kill switch on, every agent is stopped, whatever its own state. */}
              {agents.data
                ? `${org.agentsStoppedAt ? agents.data.length : stopped.length} of ${agents.data.length}`
                : '…'}
            </span>
            {org.agentsStoppedAt ? <div className="sub">All agents stopped (kill switch)</div> : null}
          </dd>
        </div>
        <div className="stat-tile" data-testid="tile-calls">
          <dt>Tool calls today</dt>
          <dd>
            <span className="stat-value">{today ? today.toolCalls.toLocaleString() : '…'}</span>
            {today ? <div className="sub">{today.denied.toLocaleString()} denied</div> : null}
          </dd>
        </div>
        <div className="stat-tile" data-testid="tile-usage">
          <dt>Model use this month</dt>
          <dd>
            <span className="stat-value">
              {usage.data ? `$${usage.data.month.spendUsd.toFixed(2)}` : '…'}
            </span>
            {usage.data ? (
              <div className="sub">
                {(usage.data.today.inputTokens + usage.data.today.outputTokens).toLocaleString()} tokens today
                {usage.data.month.unpricedTokens ? ', some models unpriced' : ''}
              </div>
            ) : null}
          </dd>
        </div>
        <div className="stat-tile" data-testid="tile-cell">
          <dt>Cell</dt>
          <dd>
            <Link to={`${base}/cell`}>
              {cell.data
                ? cell.data.cell
                  ? (CELL_LABEL[cell.data.cell.state] ?? cell.data.cell.state)
                  : 'Not started'
                : cell.error
                  ? 'Unavailable'
                  : '…'}
            </Link>
            {cell.data?.cell ? <div className="sub">{cell.data.cell.restarts} restarts</div> : null}
          </dd>
        </div>
        <div className="stat-tile" data-testid="tile-checkpoint">
          <dt>Latest checkpoint</dt>
          <dd>
            <Link to={`${base}/audit`}>
              {checkpoint.data ? checkpoint.data.treeSize.toLocaleString() : '…'}
            </Link>
            <div className="sub">entries, signed</div>
          </dd>
        </div>
        <div className="stat-tile" data-testid="tile-controls">
          <dt>Controls</dt>
          <dd>
            <Link to={`${base}/compliance`}>
              {controls.data ? (tested ? `${states.get('pass') ?? 0} of ${tested} pass` : 'None yet') : '…'}
            </Link>
            {tested ? (
              <div className="sub">
                {states.get('fail') ?? 0} failing, {states.get('warning') ?? 0} warning
              </div>
            ) : controls.data ? (
              <div className="sub">not collected yet</div>
            ) : null}
          </dd>
        </div>
      </dl>
      <div className="charts">
        {hours.data ? (
          <TimeChart
            title="Tool calls per hour, last 48 hours"
            times={hours.data.buckets.map((b) => b.start)}
            series={[
              { label: 'calls', values: hours.data.buckets.map((b) => b.toolCalls), color: '#1f5fa8' },
              { label: 'denied', values: hours.data.buckets.map((b) => b.denied), color: '#b42318' },
            ]}
            bars
          />
        ) : null}
        {days.data ? (
          <TimeChart
            title="Per day, last 14 days"
            times={days.data.buckets.map((b) => b.start)}
            series={[
              { label: 'tool calls', values: days.data.buckets.map((b) => b.toolCalls), color: '#1f5fa8' },
              { label: 'denied', values: days.data.buckets.map((b) => b.denied), color: '#b42318' },
              {
                label: 'approvals asked',
                values: days.data.buckets.map((b) => b.approvalsRequested),
                color: '#b7791f',
              },
              { label: 'model calls', values: days.data.buckets.map((b) => b.modelCalls), color: '#1e7a46' },
              { label: 'stops', values: days.data.buckets.map((b) => b.stops), color: '#5c6b7a' },
            ]}
          />
        ) : null}
      </div>
    </Section>
  );
}
