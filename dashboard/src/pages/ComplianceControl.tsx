/**
 * One control: what it is, its latest result with the evidence records it was drawn from (each
 * with its hash and the log checkpoint it was computed at), and its results over time.
 */
import { api, type ControlStatus } from '../api/index.ts';
import { useLoad } from '../data/index.ts';
import { Alert, DataTable, Digest, formatTime, Loading, TimeChart } from '../ui/index.ts';
import { StateBadge } from './ComplianceStates.tsx';

/** A result as a level for the history chart: pass 2, warning 1, fail 0. */
const LEVEL: Record<ControlStatus, number> = { pass: 2, warning: 1, fail: 0, not_applicable: 2 };

export function ControlDetailPanel({ slug, controlId }: { slug: string; controlId: string }) {
  const detail = useLoad(() => api.control(slug, controlId), `${slug}/${controlId}`);
  if (detail.error) return <Alert message={detail.error} />;
  if (!detail.data) return <Loading what={`control ${controlId}`} />;
  const { control, evidence, history } = detail.data;
  const oldestFirst = [...history].reverse();
  return (
    <section className="control-panel" data-testid="control-panel" aria-label={`Control ${control.id}`}>
      <h4>
        {control.id} · {control.title} <StateBadge state={control.latest?.status ?? null} />
      </h4>
      <p>{control.description}</p>
      <p className="muted">Supports {control.criteria.join(', ')}.</p>
      {control.latest ? (
        <p className="control-reason" data-testid="control-reason">
          {control.latest.reason}
        </p>
      ) : (
        <p className="empty">Not collected yet.</p>
      )}
      {evidence.length > 0 ? (
        <>
          <h5>Evidence of the latest result</h5>
          <DataTable
            headers={['Kind', 'Collected', 'Log', 'Hash', 'Data']}
            label={`Evidence of ${control.id}`}
          >
            {evidence.map((e) => (
              <tr key={e.id}>
                <td>
                  <code>{e.kind}</code>
                  {e.figure ? <div className="sub">{e.figure.name}</div> : null}
                </td>
                <td className="nowrap">{formatTime(e.collectedAt)}</td>
                <td className="nowrap">
                  {e.log ? `entries ${e.log.range[0]}–${e.log.range[1]} of ${e.log.treeSize}` : '—'}
                </td>
                <td>
                  <Digest value={e.hash} />
                </td>
                <td>
                  <details>
                    <summary>Show</summary>
                    <pre className="evidence-data">{JSON.stringify(e.data, null, 2)}</pre>
                  </details>
                </td>
              </tr>
            ))}
          </DataTable>
        </>
      ) : null}
      {history.length > 1 ? (
        <TimeChart
          title={`${control.id} over time (2 pass, 1 warning, 0 fail)`}
          times={oldestFirst.map((r) => r.evaluatedAt)}
          series={[{ label: 'result', values: oldestFirst.map((r) => LEVEL[r.status]), color: '#1f5fa8' }]}
          height={120}
        />
      ) : null}
      {history.length > 0 ? (
        <>
          <h5>History</h5>
          <DataTable headers={['Evaluated', 'Result', 'Reason']} label={`History of ${control.id}`}>
            {history.map((r) => (
              <tr key={r.id}>
                <td className="nowrap">{formatTime(r.evaluatedAt)}</td>
                <td>
                  <StateBadge state={r.status} />
                </td>
                <td>{r.reason}</td>
              </tr>
            ))}
          </DataTable>
        </>
      ) : null}
    </section>
  );
}
