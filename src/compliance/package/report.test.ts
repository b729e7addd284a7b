/**
 * The human parts: the report has one page per criterion (controls, results, evidence links; the
 * criteria no control covers as the customer's responsibility), Chromium prints the same HTML to
 * the same PDF bytes every time (or the package says why it could not), and the data-flow diagram
 * draws the org's configuration with its text escaped.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CRITERIA } from '../catalog.ts';
import { dataFlowSvg } from './dataflow-svg.ts';
import { fixedStamps, renderPdf } from './pdf.ts';
import { reportHtml } from './report-html.ts';
import type { DataFlow } from './source.ts';

const period = { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' };
const flow: DataFlow = {
  org: 'acme',
  people: [
    { role: 'admin', count: 2 },
    { role: 'owner', count: 1 },
  ],
  channels: ['dashboard', 'MCP clients (agent tokens)'],
  agents: [
    { id: 'agt_1', name: 'Order <desk>', provider: 'anthropic', model: 'claude', connections: ['con_1'] },
  ],
  providers: [{ id: 'anthropic', endpoint: null }],
  connections: [{ id: 'con_1', name: 'github', transport: 'http', host: 'api.github.com' }],
  keys: 'Vault: sealed in the database under the org data key',
  logs: 'Audit log in SQLite; checkpoints in /var/paddock/checkpoints',
};
const input = {
  org: { id: 'org_1', slug: 'acme' },
  period,
  criteria: CRITERIA,
  controls: [
    { id: 'PAD-GATE-01', title: 'Default-deny', description: 'Calls need a grant.', criteria: ['CC6.1'] },
  ],
  records: [],
  results: [
    {
      controlId: 'PAD-GATE-01',
      status: 'fail' as const,
      reason: '1 destructive tool granted with no approval rule',
      evaluatedAt: period.from,
      evidence: ['evd_x'],
    },
  ],
  anchor: { origin: 'audit.test/audit/org_1', size: 42 },
  dataFlowSvg: dataFlowSvg(flow),
};

test('the report has a page per criterion: controls with their results, or the customer responsibility', () => {
  const html = reportHtml(input);
  assert.equal(html.match(/<section id="/g)?.length, CRITERIA.length);
  const cc61 = html.slice(html.indexOf('<section id="CC6.1"'), html.indexOf('<section id="CC6.2"'));
  assert.match(cc61, /PAD-GATE-01/);
  assert.match(cc61, /class="fail">fail<\/td><td>1 destructive tool granted with no approval rule/);
  assert.match(cc61, /href="..\/findings\/PAD-GATE-01.ocsf.json"/);
  const cc12 = html.slice(html.indexOf('<section id="CC1.2"'), html.indexOf('<section id="CC1.3"'));
  assert.match(cc12, /Customer responsibility/);
  assert.match(html, /1 of 61 criteria are supported by Paddock controls/);
  assert.doesNotMatch(html, /Order <desk>/);
  assert.match(html, /Order &lt;desk&gt;/);
});

test('the data-flow diagram draws people and channels → agents → providers, agents → connections → hosts, and where keys and logs live', () => {
  const svg = dataFlowSvg(flow);
  for (const text of [
    '2 admins',
    '1 owner',
    'dashboard',
    'Order &lt;desk&gt;',
    'anthropic',
    'github',
    'api.github.com',
    'Keys',
    'Logs',
  ])
    assert.ok(svg.includes(text), `the diagram shows ${text}`);
  // 4 people/channel boxes → 1 agent, agent → provider, agent → connection, connection → host.
  assert.equal(svg.match(/marker-end=/g)?.length, 4 + 1 + 1 + 1);
  assert.equal(svg, dataFlowSvg(structuredClone(flow)));
});

test('Chromium prints the report to the same PDF bytes each time', { timeout: 120_000 }, async () => {
  const html = reportHtml(input);
  const a = await renderPdf(html);
  const b = await renderPdf(html);
  assert.ok('pdf' in a && 'pdf' in b, `printed: ${JSON.stringify('skipped' in a ? a : b)}`);
  assert.equal(a.pdf.subarray(0, 5).toString(), '%PDF-');
  assert.ok(a.pdf.equals(b.pdf));
  // Chromium's own stamps would differ; they are what fixedStamps sets.
  assert.match(a.pdf.toString('latin1'), /\/CreationDate \(D:20000101000000/);
  const stamped = Buffer.from(
    a.pdf.toString('latin1').replace('D:20000101000000', 'D:20261203101112'),
    'latin1',
  );
  assert.ok(fixedStamps(stamped).equals(a.pdf));
});

test('without Chromium the PDF is skipped, saying why', async () => {
  const r = await renderPdf('<p>x</p>', '/nonexistent/chromium');
  assert.deepEqual(r, {
    skipped: 'Chromium was not found at /nonexistent/chromium (install it, e.g. apt-get install chromium).',
  });
});
