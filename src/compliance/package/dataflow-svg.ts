/**
 * The org's data-flow diagram as SVG, drawn from its configuration: people and channels → agents
 * → model providers, agents → connections → hosts, and where keys and logs live. Auditors ask for
 * an architecture diagram showing data flows; this one is generated, so it cannot drift from what
 * runs. Plain SVG with fixed positions: the same configuration gives the same bytes.
 */

import { escapeHtml } from '../../html/index.ts';
import type { DataFlow } from './source.ts';

const W = 220;
const H = 44;
const GAP = 14;
const COLS = [20, 300, 580, 860];
const TOP = 70;

const cut = (s: string, n = 32) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

interface Box {
  x: number;
  y: number;
  lines: string[];
  kind: string;
}

function box(b: Box): string {
  const [first, second] = b.lines;
  return [
    `<g class="${b.kind}"><rect x="${b.x}" y="${b.y}" width="${W}" height="${H}" rx="6"/>`,
    `<text x="${b.x + 10}" y="${b.y + (second ? 18 : 27)}" class="t">${escapeHtml(cut(first ?? ''))}</text>`,
    second ? `<text x="${b.x + 10}" y="${b.y + 35}" class="s">${escapeHtml(cut(second, 36))}</text>` : '',
    '</g>',
  ].join('');
}

function edge(from: Box, to: Box): string {
  const x1 = from.x + W;
  const y1 = from.y + H / 2;
  const x2 = to.x;
  const y2 = to.y + H / 2;
  const mx = (x1 + x2) / 2;
  return `<path d="M${x1} ${y1} C${mx} ${y1} ${mx} ${y2} ${x2} ${y2}" marker-end="url(#arrow)"/>`;
}

function column(x: number, y0: number, items: Array<Omit<Box, 'x' | 'y'>>): Box[] {
  return items.map((it, i) => ({ ...it, x, y: y0 + i * (H + GAP) }));
}

export function dataFlowSvg(flow: DataFlow): string {
  const people = column(COLS[0]!, TOP, [
    ...flow.people.map((p) => ({
      kind: 'person',
      lines: [`${p.count} ${p.role}${p.count === 1 ? '' : 's'}`, 'people'],
    })),
    ...flow.channels.map((c) => ({ kind: 'channel', lines: [c, 'channel'] })),
  ]);
  const agents = column(
    COLS[1]!,
    TOP,
    flow.agents.map((a) => ({ kind: 'agent', lines: [a.name, `agent · ${a.provider} ${a.model}`] })),
  );
  const providers = column(
    COLS[2]!,
    TOP,
    flow.providers.map((p) => ({ kind: 'provider', lines: [p.id, p.endpoint ?? 'model provider'] })),
  );
  const connTop = TOP + Math.max(providers.length, 1) * (H + GAP) + 40;
  const connections = column(
    COLS[2]!,
    connTop,
    flow.connections.map((c) => ({ kind: 'connection', lines: [c.name, `${c.transport} connection`] })),
  );
  const hostNames = [...new Set(flow.connections.map((c) => c.host))].sort();
  const hosts = column(
    COLS[3]!,
    connTop,
    hostNames.map((h) => ({ kind: 'host', lines: [h, 'host'] })),
  );
  const edges: string[] = [];
  const agentBox = new Map(flow.agents.map((a, i) => [a.id, agents[i]!]));
  const providerBox = new Map(flow.providers.map((p, i) => [p.id, providers[i]!]));
  const connBox = new Map(flow.connections.map((c, i) => [c.id, connections[i]!]));
  const hostBox = new Map(hostNames.map((h, i) => [h, hosts[i]!]));
  for (const p of people) for (const a of agents) edges.push(edge(p, a));
  for (const a of flow.agents) {
    const from = agentBox.get(a.id)!;
    const prov = providerBox.get(a.provider);
    if (prov) edges.push(edge(from, prov));
    for (const c of a.connections) {
      const to = connBox.get(c);
      if (to) edges.push(edge(from, to));
    }
  }
  for (const c of flow.connections) edges.push(edge(connBox.get(c.id)!, hostBox.get(c.host)!));

  const bottom =
    Math.max(
      ...[people, agents, connections, hosts, providers].map((col) => (col.at(-1)?.y ?? TOP) + H),
      connTop,
    ) + 40;
  const store = (y: number, title: string, text: string) =>
    `<g class="store"><rect x="${COLS[0]}" y="${y}" width="${COLS[3]! + W - COLS[0]!}" height="${H}" rx="6"/><text x="${COLS[0]! + 10}" y="${y + 18}" class="t">${escapeHtml(title)}</text><text x="${COLS[0]! + 10}" y="${y + 35}" class="s">${escapeHtml(text)}</text></g>`;
  const height = bottom + 2 * (H + GAP) + 10;
  const width = COLS[3]! + W + 20;
  const heading = (x: number, t: string) =>
    `<text x="${x}" y="${TOP - 16}" class="h">${escapeHtml(t)}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0 0 L10 5 L0 10 z" fill="#555"/></marker></defs>',
    '<style>rect{fill:#f6f8fa;stroke:#57606a}.agent rect{fill:#ddf4ff}.provider rect,.host rect{fill:#fff8c5}.connection rect{fill:#dafbe1}.store rect{fill:#f3e8ff}path{fill:none;stroke:#8c959f}.t{font-size:13px;fill:#1f2328}.s{font-size:11px;fill:#57606a}.h{font-size:13px;font-weight:bold;fill:#1f2328}</style>',
    `<text x="${COLS[0]}" y="28" class="h">Data flows of ${escapeHtml(flow.org)}, from its configuration</text>`,
    heading(COLS[0]!, 'People and channels'),
    heading(COLS[1]!, 'Agents'),
    heading(COLS[2]!, 'Model providers'),
    flow.connections.length
      ? `<text x="${COLS[2]}" y="${connTop - 12}" class="h">Connections (tools)</text>`
      : '',
    flow.connections.length ? `<text x="${COLS[3]}" y="${connTop - 12}" class="h">Hosts</text>` : '',
    ...edges,
    ...[...people, ...agents, ...providers, ...connections, ...hosts].map(box),
    store(bottom, 'Keys', flow.keys),
    store(bottom + H + GAP, 'Logs', flow.logs),
    '</svg>',
    '',
  ].join('\n');
}
