/**
 * The registers: vendors (generated from what the org configures and uses, with its review),
 * incidents (severity, status, timeline), and exercises — tabletops and kill-switch drills, a
 * drill stopping a running agent through the real kill switch and timing the halt from the log.
 * Owners and admins record; auditors read.
 */
import { useState } from 'react';
import { api, type Vendor } from '../api/index.ts';
import { useAction, useLoad } from '../data/index.ts';
import {
  Alert,
  DataTable,
  formatDate,
  formatTime,
  Loading,
  Notice,
  onSubmit,
  Section,
  SelectField,
  TextField,
} from '../ui/index.ts';

const VENDOR_STATUS: Record<Vendor['status'], string> = {
  reviewed: 'Reviewed',
  review_due: 'Review due',
  unreviewed: 'Never reviewed',
  not_in_use: 'Not in use',
};

export function VendorRegister({ slug, manage }: { slug: string; manage: boolean }) {
  const vendors = useLoad(() => api.vendors(slug), slug);
  const { busy, error, run } = useAction();
  const [notice, setNotice] = useState<string | null>(null);
  const markReviewed = (v: Vendor) =>
    run(async () => {
      const today = new Date().toISOString().slice(0, 10);
      await api.assessVendor(slug, {
        kind: v.kind,
        name: v.name,
        dataHandling: v.assessment?.dataHandling ?? '',
        soc2ReportDate: v.assessment?.soc2ReportDate ?? null,
        reviewedAt: today,
        notes: v.assessment?.notes ?? '',
      });
      setNotice(`${v.name} marked reviewed today.`);
      await vendors.reload();
    });
  return (
    <Section title="Vendors">
      <Alert message={error ?? vendors.error} />
      <Notice message={notice} />
      <p className="muted" data-testid="vendor-calls-as-of">
        {vendors.data?.callsAsOf
          ? `Model calls as counted by the latest collection (${formatTime(vendors.data.callsAsOf.collectedAt)}, log size ${vendors.data.callsAsOf.treeSize.toLocaleString()}).`
          : 'Model calls are counted at the first collection.'}
      </p>
      {!vendors.data ? (
        <Loading what="the vendor register" />
      ) : vendors.data.vendors.length === 0 ? (
        <p className="empty">No vendors in use.</p>
      ) : (
        <DataTable
          headers={['Vendor', 'Kind', 'Found in', 'Model calls', 'Reviewed', 'Status']}
          actions={manage}
          label="Vendor register"
        >
          {vendors.data.vendors.map((v) => (
            <tr key={`${v.kind}/${v.name}`} data-testid="vendor-row">
              <td>
                <code>{v.name}</code>
              </td>
              <td>{v.kind.replace('_', ' ')}</td>
              <td className="sub">{v.sources.join(', ') || '—'}</td>
              <td>{v.calls ? v.calls.total.toLocaleString() : '—'}</td>
              <td className="nowrap">{formatDate(v.assessment?.reviewedAt)}</td>
              <td>
                <span className={`status vendor-${v.status}`}>{VENDOR_STATUS[v.status]}</span>
              </td>
              {manage ? (
                <td className="col-actions">
                  {v.inUse ? (
                    <button
                      type="button"
                      className="btn btn-secondary btn-small"
                      disabled={busy}
                      onClick={() => markReviewed(v)}
                    >
                      Mark reviewed
                    </button>
                  ) : null}
                </td>
              ) : null}
            </tr>
          ))}
        </DataTable>
      )}
    </Section>
  );
}

const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;

export function IncidentRegister({ slug, manage }: { slug: string; manage: boolean }) {
  const incidents = useLoad(() => api.incidents(slug), slug);
  const { busy, error, run } = useAction();
  const [title, setTitle] = useState('');
  const [severity, setSeverity] = useState<(typeof SEVERITIES)[number]>('medium');
  return (
    <Section title="Incidents">
      <Alert message={error ?? incidents.error} />
      {!incidents.data ? (
        <Loading what="the incident register" />
      ) : incidents.data.length === 0 ? (
        <p className="empty">No incidents recorded.</p>
      ) : (
        <DataTable
          headers={['Incident', 'Severity', 'Status', 'Detected', 'Resolved', 'Timeline']}
          label="Incidents"
        >
          {incidents.data.map((i) => (
            <tr key={i.id} data-testid="incident-row">
              <td>
                {i.title}
                {i.summary ? <div className="sub">{i.summary}</div> : null}
              </td>
              <td>{i.severity}</td>
              <td>{i.status}</td>
              <td className="nowrap">{formatTime(i.detectedAt)}</td>
              <td className="nowrap">{formatTime(i.resolvedAt)}</td>
              <td>{i.timeline.length} entries</td>
            </tr>
          ))}
        </DataTable>
      )}
      {manage ? (
        <form
          className="form-inline"
          aria-label="Open an incident"
          onSubmit={onSubmit(() =>
            run(async () => {
              await api.openIncident(slug, { title: title.trim(), severity });
              setTitle('');
              await incidents.reload();
            }),
          )}
        >
          <TextField label="Incident title" value={title} onChange={setTitle} required maxLength={200} />
          <SelectField
            label="Severity"
            value={severity}
            onChange={setSeverity}
            options={SEVERITIES.map((s) => ({ value: s, label: s }))}
          />
          <div className="form-actions">
            <button type="submit" className="btn btn-secondary btn-small" disabled={busy}>
              Open incident
            </button>
          </div>
        </form>
      ) : null}
    </Section>
  );
}

export function Exercises({ slug, manage }: { slug: string; manage: boolean }) {
  const exercises = useLoad(() => api.exercises(slug), slug);
  const agents = useLoad(() => (manage ? api.agents(slug) : Promise.resolve([])), slug);
  const { busy, error, run } = useAction();
  const [agent, setAgent] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const running = (agents.data ?? []).filter((a) => a.state === 'active');
  const chosen = agent || running[0]?.id || '';
  return (
    <Section title="Exercises and drills">
      <Alert message={error ?? exercises.error} />
      <Notice message={notice} />
      {!exercises.data ? (
        <Loading what="exercises" />
      ) : exercises.data.length === 0 ? (
        <p className="empty">No tabletop exercises or kill-switch drills yet.</p>
      ) : (
        <DataTable headers={['Exercise', 'Kind', 'Held', 'Outcome', 'Measured']} label="Exercises and drills">
          {exercises.data.map((x) => (
            <tr key={x.id} data-testid="exercise-row">
              <td>{x.title}</td>
              <td>{x.kind === 'tabletop' ? 'Tabletop' : 'Kill-switch drill'}</td>
              <td className="nowrap">{formatTime(x.heldAt)}</td>
              <td>{x.outcome}</td>
              <td className="sub">
                {typeof x.facts.msToHalt === 'number' ? `halted in ${x.facts.msToHalt} ms` : '—'}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {manage ? (
        running.length === 0 ? (
          <p className="muted">A kill-switch drill needs a running agent.</p>
        ) : (
          <form
            className="form-inline"
            aria-label="Run a kill-switch drill"
            onSubmit={onSubmit(() =>
              run(async () => {
                const x = await api.runDrill(slug, { agentId: chosen });
                setNotice(`Drill recorded: ${x.outcome}.`);
                await exercises.reload();
              }),
            )}
          >
            <SelectField
              label="Agent to stop"
              value={chosen}
              onChange={setAgent}
              options={running.map((a) => ({ value: a.id, label: a.name }))}
            />
            <div className="form-actions">
              <button type="submit" className="btn btn-secondary btn-small" disabled={busy}>
                {busy ? 'Running the drill…' : 'Run a kill-switch drill'}
              </button>
            </div>
          </form>
        )
      ) : null}
    </Section>
  );
}
