/**
 * `/orgs/{slug}/runs`: recent agent runs, newest first, filtered by agent and status (members see
 * their own). `/orgs/{slug}/runs/{id}` is one run with its audit entries (RunDetail.tsx).
 */
import { useState } from 'react';
import { api, canStartRuns, RUN_STATUSES, type RunStatus } from '../api/index.ts';
import { useLiveReload, useLoad, usePeopleNames } from '../data/index.ts';
import type { PageProps } from '../page.ts';
import { Link } from '../router.tsx';
import {
  Alert,
  DataTable,
  formatTime,
  Loading,
  PageHeader,
  RUN_STATUS_LABEL,
  RunStatusBadge,
  Section,
  SelectField,
} from '../ui/index.ts';
import { agentPath, runPath } from './paths.ts';
import { RunDetail } from './RunDetail.tsx';

export function RunsPage(props: PageProps) {
  return props.detail ? <RunDetail {...props} id={props.detail} /> : <RunList {...props} />;
}

const STATUS_OPTIONS: { value: RunStatus | ''; label: string }[] = [
  { value: '', label: 'Any status' },
  ...RUN_STATUSES.map((s) => ({ value: s, label: RUN_STATUS_LABEL[s] })),
];

/** A message cut to a line's length (the whole one on hover). */
function Snippet({ text }: { text: string }) {
  return (
    <span className="run-input" title={text}>
      {text.length > 80 ? `${text.slice(0, 80)}…` : text}
    </span>
  );
}

function RunList({ org, me, query }: PageProps) {
  const [agent, setAgent] = useState(query.get('agent') ?? '');
  const [status, setStatus] = useState<RunStatus | ''>(
    RUN_STATUSES.find((s) => s === query.get('status')) ?? '',
  );
  const runs = useLoad(
    () => api.runs(org.slug, { agent, status, limit: 100 }),
    `${org.slug}/${agent}/${status}`,
  );
  const agents = useLoad(() => api.agents(org.slug), org.slug);
  // A run started, waiting, going on or ended anywhere shows here without a reload.
  useLiveReload(['runs'], runs.reload, 1000);
  const people = usePeopleNames(org.slug, me.id);
  const agentName = (id: string) => agents.data?.find((a) => a.id === id)?.name ?? id;

  return (
    <>
      <PageHeader title="Runs">
        {org.role === 'member'
          ? `Your agent runs in ${org.name}: each message you sent an agent, and what it did.`
          : `Every agent run in ${org.name}: who asked, what the agent did, and its audit trail.`}
      </PageHeader>
      <Section
        title="Recent runs"
        actions={
          <form className="form-inline runs-filter" aria-label="Filter runs">
            <SelectField
              label="Agent"
              value={agent}
              onChange={setAgent}
              options={[
                { value: '', label: 'Any agent' },
                ...(agents.data ?? []).map((a) => ({ value: a.id, label: a.name })),
                // A filter from a link, before the agents load (or for one no longer listed).
                ...(agent && !agents.data?.some((a) => a.id === agent)
                  ? [{ value: agent, label: agent }]
                  : []),
              ]}
            />
            <SelectField label="Status" value={status} onChange={setStatus} options={STATUS_OPTIONS} />
          </form>
        }
      >
        <Alert message={runs.error ?? agents.error ?? people.error} />
        {!runs.data ? (
          <Loading what="runs" />
        ) : runs.data.length === 0 ? (
          <p className="empty">
            {agent || status
              ? 'No runs match these filters.'
              : `No runs yet. A run is one message an agent handles: what it was asked, the calls it made and its answer. ${
                  canStartRuns(org.role)
                    ? 'Start one from an agent’s page with Chat.'
                    : 'They appear here as people chat with agents.'
                }`}
          </p>
        ) : (
          <DataTable
            headers={['Run', 'Agent', 'Message', 'By', 'Status', 'Steps', 'Started']}
            className="runs-table"
            label="Runs"
          >
            {runs.data.map((r) => (
              <tr key={r.id} data-testid="run-row">
                <td className="nowrap">
                  <Link to={runPath(org.slug, r.id)}>
                    <code className="id">{r.id}</code>
                  </Link>
                </td>
                <td className="nowrap">
                  <Link to={agentPath(org.slug, r.agentId)}>{agentName(r.agentId)}</Link>
                </td>
                <td>
                  <Snippet text={r.input} />
                </td>
                <td className="nowrap">
                  {people.name(r.personId)}
                  <div className="sub">via {r.via}</div>
                </td>
                <td>
                  <RunStatusBadge status={r.status} testId="run-status" />
                </td>
                <td>{r.steps}</td>
                <td className="nowrap">{formatTime(r.createdAt)}</td>
              </tr>
            ))}
          </DataTable>
        )}
      </Section>
    </>
  );
}
