/**
 * One criterion opened from the grid: the controls that support it with their latest results,
 * each opening its evidence and history; or, for a criterion left to the customer, their own
 * documents (download, and upload for owners and admins, streamed, up to 50 MB).
 */
import { useRef, useState } from 'react';
import { api, type CriterionRow } from '../api/index.ts';
import { useAction } from '../data/index.ts';
import { Alert, DataTable, Digest, formatTime, Notice } from '../ui/index.ts';
import { ControlDetailPanel } from './ComplianceControl.tsx';
import { StateBadge } from './ComplianceStates.tsx';

export function CriterionPanel({
  slug,
  criterion,
  manage,
  onChange,
}: {
  slug: string;
  criterion: CriterionRow;
  manage: boolean;
  onChange: () => Promise<void>;
}) {
  const [control, setControl] = useState<string | null>(criterion.controls[0]?.id ?? null);
  return (
    <div className="criterion-panel" data-testid="criterion-panel">
      <h3>
        {criterion.id} · {criterion.title} <StateBadge state={criterion.state} />
      </h3>
      {criterion.responsibility === 'customer' ? (
        <CustomerDocuments slug={slug} criterion={criterion} manage={manage} onChange={onChange} />
      ) : (
        <>
          <DataTable headers={['Control', 'Latest result', 'Reason']} label={`Controls of ${criterion.id}`}>
            {criterion.controls.map((k) => (
              <tr key={k.id} className={control === k.id ? 'row-editing' : undefined}>
                <td>
                  <button type="button" className="btn btn-ghost btn-small" onClick={() => setControl(k.id)}>
                    {k.id}
                  </button>{' '}
                  {k.title}
                </td>
                <td>
                  <StateBadge state={k.status} />
                </td>
                <td>{k.reason ?? 'Not collected yet.'}</td>
              </tr>
            ))}
          </DataTable>
          {control ? <ControlDetailPanel key={control} slug={slug} controlId={control} /> : null}
        </>
      )}
    </div>
  );
}

function CustomerDocuments({
  slug,
  criterion,
  manage,
  onChange,
}: {
  slug: string;
  criterion: CriterionRow;
  manage: boolean;
  onChange: () => Promise<void>;
}) {
  const file = useRef<HTMLInputElement>(null);
  const { busy, error, run } = useAction();
  const [notice, setNotice] = useState<string | null>(null);
  const upload = () =>
    run(async () => {
      const f = file.current?.files?.[0];
      if (!f) throw new Error('Choose a file first.');
      const doc = await api.uploadDocument(slug, criterion.id, f);
      setNotice(`${doc.name} attached (SHA-256 ${doc.sha256.slice(0, 12)}…).`);
      if (file.current) file.current.value = '';
      await onChange();
    });
  return (
    <>
      <p>
        Paddock has no control for this criterion: it is the organization’s responsibility. Attach your own
        documents (policies, board minutes, HR records); each is stored with its SHA-256 and goes into the
        evidence package.
      </p>
      <Alert message={error} />
      <Notice message={notice} />
      {criterion.documents.length === 0 ? (
        <p className="empty">No documents attached yet.</p>
      ) : (
        <DataTable
          headers={['Document', 'Size', 'SHA-256', 'Uploaded']}
          label={`Documents for ${criterion.id}`}
        >
          {criterion.documents.map((d) => (
            <tr key={d.id}>
              <td>
                <a href={api.documentUrl(slug, d.id)} download={d.name}>
                  {d.name}
                </a>
              </td>
              <td className="nowrap">{(d.size / 1024).toFixed(1)} KiB</td>
              <td>
                <Digest value={d.sha256} />
              </td>
              <td className="nowrap">{formatTime(d.uploadedAt)}</td>
            </tr>
          ))}
        </DataTable>
      )}
      {manage ? (
        <form
          className="form-inline"
          aria-label={`Attach a document to ${criterion.id}`}
          onSubmit={(e) => {
            e.preventDefault();
            void upload();
          }}
        >
          <div className="field">
            <label htmlFor="compliance-document">Document (up to 50 MB)</label>
            <input id="compliance-document" ref={file} type="file" required />
          </div>
          <div className="form-actions">
            <button type="submit" className="btn btn-primary btn-small" disabled={busy}>
              {busy ? 'Uploading…' : 'Attach'}
            </button>
          </div>
        </form>
      ) : null}
    </>
  );
}
