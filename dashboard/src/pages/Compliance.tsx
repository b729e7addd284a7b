/**
 * `/orgs/{slug}/compliance`: the compliance center. What to act on first (failing and warning
 * controls with their reasons), the SOC 2 criteria grid coloured by test state (a criterion opens
 * its controls, each with its latest evidence and history), the trend over collections, access
 * reviews, the vendor and incident registers, exercises and drills, and the evidence package.
 * Everything here is read from stored evidence and results, never recomputed from the log, so the
 * page answers as fast on a log of millions. Owners and admins collect, decide and record;
 * auditors read and comment on reviews.
 */
import { useState } from 'react';
import { api, type Control, canManage } from '../api/index.ts';
import { useAction, useLoad } from '../data/index.ts';
import type { PageProps } from '../page.ts';
import { Alert, formatTime, Loading, Notice, PageHeader, Section, TimeChart } from '../ui/index.ts';
import { AccessReviews } from './AccessReviews.tsx';
import { ControlDetailPanel } from './ComplianceControl.tsx';
import { CriterionPanel } from './ComplianceCriterion.tsx';
import { CriteriaGrid } from './ComplianceGrid.tsx';
import { Exercises, IncidentRegister, VendorRegister } from './ComplianceRegisters.tsx';
import { SEVERITY, StateBadge } from './ComplianceStates.tsx';
import { EvidencePackage } from './EvidencePackage.tsx';

export function CompliancePage({ org }: PageProps) {
  const manage = canManage(org.role);
  const grid = useLoad(() => api.criteria(org.slug), org.slug);
  const controls = useLoad(() => api.controls(org.slug), org.slug);
  const trend = useLoad(() => api.collectionTrend(org.slug, 30), org.slug);
  const [criterion, setCriterion] = useState<string | null>(null);
  const [gap, setGap] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const { busy, error, run } = useAction();

  const collect = () =>
    run(async () => {
      setNotice(null);
      const c = await api.collectEvidence(org.slug);
      const failed = c.results.filter((r) => r.status === 'fail').length;
      setNotice(
        `Collected ${c.evidence} evidence records at log size ${c.log.treeSize.toLocaleString()}: ${c.results.length} controls tested, ${failed} failing.`,
      );
      await Promise.all([grid.reload(), controls.reload(), trend.reload()]);
    });

  const latest = trend.data?.at(-1);
  const selected = grid.data?.criteria.find((c) => c.id === criterion) ?? null;
  const gaps: Control[] = (controls.data ?? [])
    .filter((c) => c.latest && (c.latest.status === 'fail' || c.latest.status === 'warning'))
    .sort((a, b) => SEVERITY[a.latest!.status] - SEVERITY[b.latest!.status] || a.id.localeCompare(b.id));

  return (
    <>
      <PageHeader title="Compliance">
        {org.name}’s controls mapped to the SOC 2 Trust Services Criteria, tested from evidence collected
        continuously from the organization’s state and its tamper-evident log.
      </PageHeader>
      <Alert message={error ?? grid.error ?? controls.error ?? trend.error} />
      <Notice message={notice} />
      <Section
        title="Gaps to act on"
        actions={
          <span className="form-inline">
            <span className="muted" data-testid="last-collection">
              {latest
                ? `Last collected ${formatTime(latest.startedAt)} at log size ${latest.treeSize.toLocaleString()}`
                : 'Not collected yet'}
            </span>
            {manage ? (
              <button
                type="button"
                className="btn btn-primary btn-small"
                disabled={busy}
                onClick={() => void collect()}
              >
                {busy ? 'Collecting…' : 'Collect now'}
              </button>
            ) : null}
          </span>
        }
      >
        {!controls.data ? (
          <Loading what="controls" />
        ) : !latest ? (
          <p className="empty">
            No evidence collected yet: it is collected daily{manage ? ', or now with Collect now' : ''}.
          </p>
        ) : gaps.length === 0 ? (
          <p className="empty" data-testid="no-gaps">
            Every tested control passes.
          </p>
        ) : (
          <ul className="gaps" data-testid="gaps">
            {gaps.map((c) => (
              <li key={c.id} data-testid="gap" data-control={c.id}>
                <StateBadge state={c.latest!.status} />{' '}
                <button
                  type="button"
                  className="btn btn-ghost btn-small"
                  onClick={() => setGap(gap === c.id ? null : c.id)}
                >
                  {c.id} · {c.title}
                </button>
                <div className="gap-reason">{c.latest!.reason}</div>
                {gap === c.id ? <ControlDetailPanel slug={org.slug} controlId={c.id} /> : null}
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section title="Trust Services Criteria">
        {!grid.data ? (
          <Loading what="the criteria" />
        ) : (
          <>
            <CriteriaGrid criteria={grid.data.criteria} selected={criterion} onSelect={setCriterion} />
            {selected ? (
              <CriterionPanel
                key={selected.id}
                slug={org.slug}
                criterion={selected}
                manage={manage}
                onChange={grid.reload}
              />
            ) : (
              <p className="muted">Choose a criterion to see its controls, their evidence and history.</p>
            )}
          </>
        )}
      </Section>
      {trend.data && trend.data.length > 0 ? (
        <Section title="Trend">
          <TimeChart
            title="Controls by result, per collection"
            times={trend.data.map((c) => c.startedAt)}
            series={[
              { label: 'pass', values: trend.data.map((c) => c.counts.pass), color: '#1e7a46' },
              { label: 'warning', values: trend.data.map((c) => c.counts.warning), color: '#b7791f' },
              { label: 'fail', values: trend.data.map((c) => c.counts.fail), color: '#b42318' },
            ]}
          />
        </Section>
      ) : null}
      <AccessReviews slug={org.slug} manage={manage} />
      <VendorRegister slug={org.slug} manage={manage} />
      <IncidentRegister slug={org.slug} manage={manage} />
      <Exercises slug={org.slug} manage={manage} />
      <EvidencePackage slug={org.slug} />
    </>
  );
}
