/**
 * The period's assessment as an OSCAL 1.0.6 `assessment-results` document (NIST; schema in
 * ../shared/reference/oscal/, checked in the tests): one result for the period, reviewing the
 * SOC 2 criteria Paddock's controls support; an observation per evidence record (collected when,
 * its hash, where it is in the package); a finding per control test, satisfied or not, with the
 * observations it drew on. Ids are name-based UUIDs (RFC 9562 v5) and `last-modified` is the
 * newest evidence time, so the same data gives the same document.
 */
import type { ControlResult, EvidenceRecord } from '../types.ts';
import { recordLink } from './evidence-files.ts';
import { PATHS } from './layout.ts';
import type { ControlInfo, Period } from './source.ts';
import { evidenceUuid } from './uuid.ts';

export const OSCAL_VERSION = '1.0.6';

/** An OSCAL token (an XML NCName): criterion and control ids as they are, anything else replaced. */
const token = (s: string) => {
  const t = s.replace(/[^\p{L}\p{N}._-]/gu, '_');
  return /^[\p{L}_]/u.test(t) ? t : `_${t}`;
};

export function assessmentResults(input: {
  org: { id: string; slug: string };
  period: Period;
  controls: ControlInfo[];
  records: EvidenceRecord[];
  results: ControlResult[];
  productVersion: string;
}) {
  const { org, period, controls, records, results } = input;
  const id = (name: string) => evidenceUuid(`${org.id}/${period.from}/${period.to}/${name}`);
  const times = [...records.map((r) => r.collectedAt), ...results.map((r) => r.evaluatedAt)].sort();
  const lastModified = times.at(-1) ?? period.to;
  const criteria = [...new Set(controls.flatMap((c) => c.criteria))].sort();
  const byControl = new Map(controls.map((c) => [c.id, c]));
  const recordIds = new Set(records.map((r) => r.id));

  const observations = records.map((r) => ({
    uuid: id(`observation/${r.id}`),
    title: `${r.controlId}: ${r.kind}`,
    description: r.figure
      ? `${r.figure.name}, computed from audit entries ${r.log?.range[0]}–${(r.log?.range[1] ?? 1) - 1} of the log at tree size ${r.log?.treeSize}; recomputed by \`paddock evidence verify\`.`
      : `Evidence ${r.kind} collected by Paddock for control ${r.controlId}.`,
    props: [
      { name: 'evidence-id', value: r.id },
      { name: 'sha256', value: r.hash },
    ],
    methods: ['TEST'],
    types: ['control-objective'],
    'relevant-evidence': [{ href: recordLink(r), description: `Evidence record ${r.id} (${r.kind})` }],
    collected: r.collectedAt,
  }));

  const findings = results.map((r) => {
    const control = byControl.get(r.controlId);
    const related = r.evidence.filter((e) => recordIds.has(e));
    return {
      uuid: id(`finding/${r.controlId}/${r.evaluatedAt}`),
      title: `${r.controlId}${control ? ` ${control.title}` : ''}: ${r.status}`,
      description: r.reason,
      props: [
        { name: 'control-status', value: r.status },
        { name: 'evaluated', value: r.evaluatedAt },
        ...(control?.criteria.length ? [{ name: 'criteria', value: control.criteria.join(' ') }] : []),
      ],
      target: {
        type: 'objective-id',
        'target-id': token(r.controlId),
        status:
          r.status === 'pass'
            ? { state: 'satisfied', reason: 'pass' }
            : {
                state: 'not-satisfied',
                reason: r.status === 'fail' ? 'fail' : 'other',
                remarks: (r.status as string) === 'not_applicable' ? `Not tested: ${r.reason}` : r.reason,
              },
      },
      ...(related.length
        ? { 'related-observations': related.map((e) => ({ 'observation-uuid': id(`observation/${e}`) })) }
        : {}),
    };
  });

  return {
    'assessment-results': {
      uuid: id('assessment-results'),
      metadata: {
        title: `Paddock SOC 2 evidence for ${org.slug}, ${period.from} to ${period.to}`,
        'last-modified': lastModified,
        version: `paddock ${input.productVersion}`,
        'oscal-version': OSCAL_VERSION,
        props: [{ name: 'org', value: org.slug }],
      },
      'import-ap': {
        href: PATHS.controls,
        remarks:
          "No separate assessment plan: Paddock's controls, each with its automated test, are the plan (listed in this file).",
      },
      results: [
        {
          uuid: id('result'),
          title: `Automated control tests, ${period.from} to ${period.to}`,
          description:
            "Paddock's controls tested continuously over the period from evidence collected from its own state and its tamper-evident audit log.",
          start: period.from,
          end: period.to,
          'reviewed-controls': {
            description:
              'The SOC 2 Trust Services Criteria (2017, points of focus 2022) Paddock controls support.',
            'control-selections': [
              criteria.length
                ? { 'include-controls': criteria.map((c) => ({ 'control-id': token(c) })) }
                : { 'include-all': {} },
            ],
          },
          ...(observations.length ? { observations } : {}),
          ...(findings.length ? { findings } : {}),
        },
      ],
    },
  };
}
