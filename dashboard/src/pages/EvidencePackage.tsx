/**
 * The evidence package for a period: a download link (the server streams the ZIP), and the
 * org's verifier key with the command that checks the package without trusting Paddock. The key
 * is shown here, apart from the package, because a package that vouches for itself with a key it
 * carries proves nothing.
 */
import { useState } from 'react';
import { api } from '../api/index.ts';
import { useLoad } from '../data/index.ts';
import { Alert, CopyButton, Section, TextField } from '../ui/index.ts';

const day = (d: Date) => d.toISOString().slice(0, 10);

export function EvidencePackage({ slug }: { slug: string }) {
  const key = useLoad(() => api.verifierKey(slug), slug);
  const today = new Date();
  const [from, setFrom] = useState(day(new Date(today.getTime() - 90 * 86_400_000)));
  const [to, setTo] = useState(day(new Date(today.getTime() + 86_400_000)));
  const file = `paddock-evidence-${slug}-${from}-${to}.zip`;
  const command = key.data ? `paddock evidence verify ${file} --key '${key.data.verifierKey}'` : null;
  return (
    <Section title="Evidence package">
      <p>
        A ZIP for the auditor: the report (HTML and PDF), evidence records and populations (CSV, JSON), OCSF
        findings, OSCAL assessment results, and the audit entries behind every figure with their proofs, under
        a manifest signed with the organization’s log key.
      </p>
      <form className="form-inline" aria-label="Evidence package period" onSubmit={(e) => e.preventDefault()}>
        <TextField label="From" type="date" value={from} onChange={setFrom} required />
        <TextField label="To (excluded)" type="date" value={to} onChange={setTo} required />
        <div className="form-actions">
          <a className="btn btn-primary" href={api.evidencePackageUrl(slug, from, to)} download={file}>
            Download the package
          </a>
        </div>
      </form>
      <Alert message={key.error} />
      {command ? (
        <>
          <p>
            Check it anywhere, with no database and no trust in this server, using the organization’s verifier
            key:
          </p>
          <div className="command">
            <code data-testid="verify-command">{command}</code>{' '}
            <CopyButton text={command} what="the command" />
          </div>
          <p className="muted">
            Verifier key <code data-testid="verifier-key">{key.data?.verifierKey}</code> (log{' '}
            {key.data?.origin}). Publish it where your auditor can find it independently of the package.
          </p>
        </>
      ) : null}
    </Section>
  );
}
