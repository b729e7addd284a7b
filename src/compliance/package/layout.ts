/**
 * Where each part sits in the package: one place for every path, so the writer, the report's
 * links and the verifier agree. Names are derived from ids and index ranges only (no random or
 * time-based names), so the same data gives the same files.
 */

export const FORMAT = 'paddock.evidence@v1';
export const MANIFEST_KIND = 'paddock.evidence.manifest@v1';
export const MANIFEST = 'manifest.json';
export const SIGNATURE = 'manifest.sig';

/** Only letters, digits, dot, dash and underscore reach a file name. */
export function safeName(id: string): string {
  const s = id.replace(/[^A-Za-z0-9._-]/g, '_');
  return s === '' || s.startsWith('.') ? `_${s}` : s;
}

export const PATHS = {
  reportHtml: 'report/report.html',
  reportPdf: 'report/report.pdf',
  pdfSkipped: 'report/report.pdf-skipped.txt',
  dataFlow: 'report/data-flow.svg',
  controls: 'evidence/controls.json',
  records: 'evidence/records.json',
  recordsCsv: 'evidence/records.csv',
  results: 'evidence/results.json',
  resultsCsv: 'evidence/results.csv',
  populationJson: (recordId: string) => `evidence/populations/${safeName(recordId)}.json`,
  populationCsv: (recordId: string) => `evidence/populations/${safeName(recordId)}.csv`,
  findings: (controlId: string) => `findings/${safeName(controlId)}.ocsf.json`,
  oscal: 'oscal/assessment-results.json',
  checkpoint: (size: number) => `log/checkpoints/${size}.txt`,
  entries: (a: number, b: number) => `log/entries/${a}-${b}.jsonl`,
  proofs: 'log/proofs.json',
} as const;
