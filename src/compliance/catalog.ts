/**
 * The SOC 2 Trust Services Criteria (2017 TSC, points of focus revised 2022) Paddock maps its
 * controls to: the 61 criterion identifiers, with short titles of our own (the criteria's text is
 * the AICPA's; link to it, do not copy it). A test checks the identifiers against the reference
 * list in `../shared/reference/soc2-tsc.json`.
 */

export type CriterionGroup =
  | 'CC1'
  | 'CC2'
  | 'CC3'
  | 'CC4'
  | 'CC5'
  | 'CC6'
  | 'CC7'
  | 'CC8'
  | 'CC9'
  | 'A1'
  | 'C1'
  | 'PI1'
  | 'P';

export interface Criterion {
  id: string;
  group: CriterionGroup;
  title: string;
}

export const GROUPS: Record<CriterionGroup, string> = {
  CC1: 'Control environment',
  CC2: 'Communication and information',
  CC3: 'Risk assessment',
  CC4: 'Monitoring',
  CC5: 'Control activities',
  CC6: 'Logical and physical access',
  CC7: 'System operations',
  CC8: 'Change management',
  CC9: 'Risk mitigation',
  A1: 'Availability',
  C1: 'Confidentiality',
  PI1: 'Processing integrity',
  P: 'Privacy',
};

const rows: Array<[string, string]> = [
  ['CC1.1', 'Integrity and ethical values are committed to'],
  ['CC1.2', 'The board oversees, independently'],
  ['CC1.3', 'Structures, reporting lines and authorities are set'],
  ['CC1.4', 'Competent people are attracted, developed and kept'],
  ['CC1.5', 'People are held accountable for their duties'],
  ['CC2.1', 'Quality information supports internal control'],
  ['CC2.2', 'Internal control information is communicated inside'],
  ['CC2.3', 'Matters affecting control are communicated outside'],
  ['CC3.1', 'Objectives are specified clearly enough to assess risk'],
  ['CC3.2', 'Risks to objectives are identified and analysed'],
  ['CC3.3', 'The potential for fraud is considered'],
  ['CC3.4', 'Changes that could affect control are identified'],
  ['CC4.1', 'Controls are evaluated, ongoing and separately'],
  ['CC4.2', 'Deficiencies are reported to those who act on them'],
  ['CC5.1', 'Control activities mitigate risks'],
  ['CC5.2', 'General controls over technology are in place'],
  ['CC5.3', 'Policies set expectations; procedures carry them out'],
  ['CC6.1', 'Logical access to information assets is secured'],
  ['CC6.2', 'Users are registered, authorised and removed'],
  ['CC6.3', 'Access follows roles, least privilege and separated duties'],
  ['CC6.4', 'Physical access to facilities and assets is restricted'],
  ['CC6.5', 'Assets and data are disposed of securely'],
  ['CC6.6', 'Threats from outside the system boundary are guarded against'],
  ['CC6.7', 'Information is restricted and protected in transmission'],
  ['CC6.8', 'Malicious or unauthorised software is prevented and detected'],
  ['CC7.1', 'Configuration changes and vulnerabilities are detected'],
  ['CC7.2', 'Components are monitored for anomalies'],
  ['CC7.3', 'Security events are evaluated'],
  ['CC7.4', 'Incidents are responded to'],
  ['CC7.5', 'The system recovers from incidents'],
  ['CC8.1', 'Changes are authorised, tested and approved'],
  ['CC9.1', 'Business disruption risks are mitigated'],
  ['CC9.2', 'Vendor and partner risks are assessed and managed'],
  ['A1.1', 'Capacity is planned and monitored'],
  ['A1.2', 'Environmental protections, backups and recovery are in place'],
  ['A1.3', 'Recovery plans are tested'],
  ['C1.1', 'Confidential information is identified and kept so'],
  ['C1.2', 'Confidential information is disposed of'],
  ['PI1.1', 'Processing specifications are defined and shared'],
  ['PI1.2', 'Inputs are complete and accurate'],
  ['PI1.3', 'Processing is complete, accurate and timely'],
  ['PI1.4', 'Outputs are complete, accurate and go where intended'],
  ['PI1.5', 'Stored data is complete and accurate'],
  ['P1.1', 'People are told how their personal information is used'],
  ['P2.1', 'People are offered choices and give consent'],
  ['P3.1', 'Only what objectives need is collected'],
  ['P3.2', 'Explicit consent is obtained where required'],
  ['P4.1', 'Use is limited to the stated objectives'],
  ['P4.2', 'Personal information is retained only as long as needed'],
  ['P4.3', 'Personal information is disposed of'],
  ['P5.1', 'People can access their personal information'],
  ['P5.2', 'People can correct their personal information'],
  ['P6.1', 'Disclosure to third parties happens with consent'],
  ['P6.2', 'Authorised disclosures are recorded'],
  ['P6.3', 'Unauthorised disclosures and breaches are recorded'],
  ['P6.4', 'Vendors commit to privacy obligations'],
  ['P6.5', 'Vendors report breaches'],
  ['P6.6', 'Affected people are told of breaches'],
  ['P6.7', 'Disclosures of personal information can be accounted for'],
  ['P7.1', 'Personal information is kept accurate and complete'],
  ['P8.1', 'Inquiries, complaints and disputes are handled'],
];

export const CRITERIA: Criterion[] = rows.map(([id, title]) => ({
  id,
  title,
  group: (id.startsWith('P') && !id.startsWith('PI') ? 'P' : id.split('.')[0]) as CriterionGroup,
}));

/** The AICPA's page for the criteria's full text. */
export const CRITERIA_SOURCE =
  'https://www.aicpa-cima.com/resources/download/2017-trust-services-criteria-with-revised-points-of-focus-2022';

export function criterion(id: string): Criterion | undefined {
  return CRITERIA.find((c) => c.id === id);
}
