/**
 * Where a package's contents come from. `EvidenceSource` gives the period's evidence records and
 * control results, and the criteria and controls they map to (the compliance center's shapes in
 * ../types.ts); the collectors' store is one, tests and the benchmark bring their own. The org's
 * configuration for the data-flow diagram is a `DataFlow`, read apart (dataflow-source.ts).
 */
import type { Criterion } from '../catalog.ts';
import type { Control, ControlResult, EvidenceRecord } from '../types.ts';

/** A control as the package shows it: what it is and which criteria it supports (no code). */
export type ControlInfo = Pick<Control, 'id' | 'title' | 'description' | 'criteria'>;

export interface Period {
  /** ISO-8601 UTC, inclusive. */
  from: string;
  /** ISO-8601 UTC, exclusive. */
  to: string;
}

export interface EvidenceSource {
  /** Every criterion of the framework (those no control covers are the customer's). */
  criteria(): Promise<Criterion[]>;
  controls(orgId: string): Promise<ControlInfo[]>;
  /** The evidence records collected for the period (each with its period, hash and log position). */
  records(orgId: string, period: Period): Promise<EvidenceRecord[]>;
  /** The control tests evaluated in the period, each naming the records it was drawn from. */
  results(orgId: string, period: Period): Promise<ControlResult[]>;
}

/** The org's configuration as the data-flow diagram draws it. Every list sorted, so the SVG is reproducible. */
export interface DataFlow {
  org: string;
  /** People by role, and the channels they reach agents through (dashboard, API, MCP clients…). */
  people: Array<{ role: string; count: number }>;
  channels: string[];
  agents: Array<{ id: string; name: string; provider: string; model: string; connections: string[] }>;
  /** Model providers, with their endpoint when it is not the provider's own. */
  providers: Array<{ id: string; endpoint: string | null }>;
  connections: Array<{ id: string; name: string; transport: string; host: string }>;
  /** Where model keys and credentials are kept, in words. */
  keys: string;
  /** Where the audit log and its checkpoints are kept, in words. */
  logs: string;
}
