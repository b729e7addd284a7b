/**
 * The human report: one HTML document, a cover page (period, counts, the log it was proven
 * against, how to verify), the data-flow diagram, then one page per criterion — the controls
 * that support it, their test results over the period and links to the evidence files in the
 * package; a criterion no control covers is the customer's responsibility. Printed pages break
 * per criterion, so the PDF is the same document. No generation time: the same data gives the
 * same bytes.
 */

import { escapeHtml } from '../../html/index.ts';
import { type Criterion, GROUPS } from '../catalog.ts';
import type { ControlResult, EvidenceRecord } from '../types.ts';
import { recordLink } from './evidence-files.ts';
import { PATHS } from './layout.ts';
import type { ControlInfo, Period } from './source.ts';

/** A link from report/ to a file of the package. */
const fromReport = (path: string) => `../${path}`;

const CSS = `
body{font-family:Helvetica,Arial,sans-serif;color:#1f2328;margin:2rem;font-size:12px;line-height:1.45}
h1{font-size:22px}h2{font-size:17px;margin-top:0}h3{font-size:13px;margin-bottom:.2rem}
section{break-before:page;page-break-before:always}section.cover{break-before:auto;page-break-before:auto}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa}.pass{color:#1a7f37;font-weight:bold}.warning{color:#9a6700;font-weight:bold}.fail{color:#cf222e;font-weight:bold}
.customer{border-left:4px solid #8250df;padding:.4rem .8rem;background:#fbefff}.muted{color:#57606a}
code{font-size:11px}svg{max-width:100%;height:auto}
`;

export interface ReportInput {
  org: { id: string; slug: string };
  period: Period;
  criteria: Criterion[];
  controls: ControlInfo[];
  records: EvidenceRecord[];
  results: ControlResult[];
  anchor: { origin: string; size: number } | null;
  dataFlowSvg: string;
}

function summary(results: ControlResult[]): string {
  const latest = new Map<string, ControlResult>();
  for (const r of results) latest.set(r.controlId, r);
  const n: Record<string, number> = { pass: 0, warning: 0, fail: 0, not_applicable: 0 };
  for (const r of latest.values()) n[r.status] = (n[r.status] ?? 0) + 1;
  const untested = n.not_applicable
    ? `, <span class="muted">${n.not_applicable} not testable yet</span>`
    : '';
  return `${latest.size} controls tested: <span class="pass">${n.pass} pass</span>, <span class="warning">${n.warning} warning</span>, <span class="fail">${n.fail} fail</span>${untested} (latest test of each in the period).`;
}

function controlBlock(
  c: ControlInfo,
  results: ControlResult[],
  records: Map<string, EvidenceRecord>,
): string {
  const rows = results
    .map((r) => {
      const links = r.evidence
        .map((id) => {
          const rec = records.get(id);
          return rec
            ? `<a href="${escapeHtml(fromReport(recordLink(rec)))}">${escapeHtml(rec.kind)}</a>${rec.figure ? ' <span class="muted">(recomputed from the log)</span>' : ''}`
            : `<span class="muted">${escapeHtml(id)} (not in this period's evidence)</span>`;
        })
        .join('<br>');
      const status = (r.status as string) === 'not_applicable' ? 'not tested' : r.status;
      return `<tr><td>${escapeHtml(r.evaluatedAt)}</td><td class="${r.status}">${status}</td><td>${escapeHtml(r.reason)}</td><td>${links || '—'}</td></tr>`;
    })
    .join('\n');
  return `<h3>${escapeHtml(c.id)} — ${escapeHtml(c.title)}</h3>
<p>${escapeHtml(c.description)}</p>
<p><a href="${escapeHtml(fromReport(PATHS.findings(c.id)))}">OCSF findings</a></p>
${
  results.length
    ? `<table><thead><tr><th>Tested</th><th>Result</th><th>Reason</th><th>Evidence</th></tr></thead><tbody>\n${rows}\n</tbody></table>`
    : '<p class="warning">Not tested in this period.</p>'
}`;
}

export function reportHtml(input: ReportInput): string {
  const { org, period, criteria, controls, records, results } = input;
  const recordById = new Map(records.map((r) => [r.id, r]));
  const resultsOf = (id: string) => results.filter((r) => r.controlId === id);
  const pages = criteria.map((cr) => {
    const covering = controls.filter((c) => c.criteria.includes(cr.id));
    const body = covering.length
      ? covering.map((c) => controlBlock(c, resultsOf(c.id), recordById)).join('\n')
      : `<p class="customer"><strong>Customer responsibility.</strong> No Paddock control covers this criterion: the organization's own policies and records are the evidence for it.</p>`;
    return `<section id="${escapeHtml(cr.id)}"><h2>${escapeHtml(cr.id)} — ${escapeHtml(cr.title)}</h2>
<p class="muted">${escapeHtml(GROUPS[cr.group])}</p>
${body}
</section>`;
  });
  const covered = criteria.filter((cr) => controls.some((c) => c.criteria.includes(cr.id))).length;
  const anchor = input.anchor
    ? `<p>Figures computed from the audit log were proven against the checkpoint of <code>${escapeHtml(input.anchor.origin)}</code> at tree size ${input.anchor.size} (<a href="${escapeHtml(fromReport(PATHS.proofs))}">proofs</a>).</p>`
    : '<p>No figure in this package was computed from the audit log.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SOC 2 evidence — ${escapeHtml(org.slug)}, ${escapeHtml(period.from)} to ${escapeHtml(period.to)}</title>
<style>${CSS}</style></head>
<body>
<section class="cover">
<h1>SOC 2 evidence for ${escapeHtml(org.slug)}</h1>
<p>Period: ${escapeHtml(period.from)} to ${escapeHtml(period.to)} (end excluded).</p>
<p>${summary(results)}</p>
<p>${covered} of ${criteria.length} criteria are supported by Paddock controls; the other ${criteria.length - covered} are shown as the customer's responsibility.</p>
${anchor}
<p>Every file of this package is listed with its SHA-256 in <code>manifest.json</code>, signed with the org's audit log key. Check it, and recompute every figure from the audit entries it carries, with <code>paddock evidence verify &lt;package.zip&gt; --key '&lt;verifier key&gt;'</code>, using the verifier key the org publishes (<code>GET /api/v1/orgs/${escapeHtml(org.slug)}/audit/key</code>), not one from the package.</p>
<p>Evidence: <a href="${escapeHtml(fromReport(PATHS.records))}">records (JSON)</a>, <a href="${escapeHtml(fromReport(PATHS.recordsCsv))}">records (CSV)</a>, <a href="${escapeHtml(fromReport(PATHS.results))}">test results</a>, <a href="${escapeHtml(fromReport(PATHS.oscal))}">OSCAL assessment results</a>.</p>
<h2>Data flows</h2>
${input.dataFlowSvg.replace(/^<\?xml[^>]*>\s*/, '')}
</section>
${pages.join('\n')}
</body></html>
`;
}
