/**
 * Control tests as OCSF Compliance Findings (class 2003, category 2 Findings; OCSF 1.9.0-dev
 * definitions in ../shared/reference/ocsf/): one finding per test in the period, its
 * `compliance.status_id` 1 Pass, 2 Warning, 3 Fail, the control and the SOC 2 criteria it
 * supports, and the evidence records it was drawn from. Ids are name-based UUIDs, so the same
 * results give the same files.
 */
import type { ControlResult, ControlStatus } from '../types.ts';
import type { ControlInfo } from './source.ts';
import { evidenceUuid } from './uuid.ts';

export const OCSF_VERSION = '1.9.0-dev';
const CLASS_UID = 2003;
const CATEGORY_UID = 2;
const ACTIVITY_CREATE = 1;

/**
 * compliance.status_id (objects_compliance.json). A control that cannot be tested yet
 * (`not_applicable`) is a Warning: "the check did not yield a result due to missing information".
 */
const STATUS: Record<ControlStatus | 'not_applicable', { id: number; caption: string }> = {
  pass: { id: 1, caption: 'Pass' },
  warning: { id: 2, caption: 'Warning' },
  fail: { id: 3, caption: 'Fail' },
  not_applicable: { id: 2, caption: 'Warning' },
};

/** severity_id (base event): Informational for a pass or an untestable control, Low for a warning, High for a failure. */
const SEVERITY: Record<ControlStatus | 'not_applicable', { id: number; caption: string }> = {
  pass: { id: 1, caption: 'Informational' },
  warning: { id: 2, caption: 'Low' },
  fail: { id: 4, caption: 'High' },
  not_applicable: { id: 1, caption: 'Informational' },
};

export function ocsfFinding(
  org: { id: string; slug: string },
  control: ControlInfo | undefined,
  result: ControlResult,
  productVersion: string,
) {
  const time = Date.parse(result.evaluatedAt);
  const uid = evidenceUuid(`${org.id}/finding/${result.controlId}/${result.evaluatedAt}`);
  return {
    activity_id: ACTIVITY_CREATE,
    activity_name: 'Create',
    category_uid: CATEGORY_UID,
    category_name: 'Findings',
    class_uid: CLASS_UID,
    class_name: 'Compliance Finding',
    type_uid: CLASS_UID * 100 + ACTIVITY_CREATE,
    type_name: 'Compliance Finding: Create',
    severity_id: SEVERITY[result.status].id,
    severity: SEVERITY[result.status].caption,
    time,
    message: `${result.controlId}: ${result.reason}`,
    metadata: {
      version: OCSF_VERSION,
      uid,
      tenant_uid: org.id,
      log_name: `paddock evidence ${org.slug}`,
      product: { name: 'Paddock', vendor_name: 'Paddock', version: productVersion },
    },
    finding_info: {
      uid,
      title: control ? `${control.id} ${control.title}` : result.controlId,
      desc: control?.description ?? 'A control no longer in the catalog.',
      created_time: time,
      types: ['SOC 2 control test'],
    },
    compliance: {
      control: result.controlId,
      desc: control?.description,
      standards: ['AICPA SOC 2 (2017 Trust Services Criteria, 2022 points of focus)'],
      requirements: control?.criteria ?? [],
      status_id: STATUS[result.status].id,
      status: STATUS[result.status].caption,
      status_detail:
        (result.status as string) === 'not_applicable' ? `Not tested: ${result.reason}` : result.reason,
    },
    unmapped: { evidence_records: result.evidence },
  };
}

/** The findings of one control over the period, oldest first. */
export function controlFindings(
  org: { id: string; slug: string },
  control: ControlInfo | undefined,
  results: ControlResult[],
  productVersion: string,
) {
  return results.map((r) => ocsfFinding(org, control, r, productVersion));
}
