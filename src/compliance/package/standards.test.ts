/**
 * The package's standard formats against their published definitions, read from
 * ../shared/reference (not copied into the repository): the OSCAL assessment results against
 * NIST's JSON schema (draft-07, ajv), each OCSF Compliance Finding against the class and object
 * definitions of OCSF (every required attribute present, with its dictionary type and enum), and
 * the name-based UUIDs against RFC 9562's test vector.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import type { ControlResult, EvidenceRecord } from '../types.ts';
import { controlFindings, OCSF_VERSION } from './ocsf-finding.ts';
import { assessmentResults } from './oscal.ts';
import type { ControlInfo } from './source.ts';
import { uuidV5 } from './uuid.ts';

const REFERENCE = join(import.meta.dirname, '../../../../shared/reference');
const json = (p: string) => JSON.parse(readFileSync(join(REFERENCE, p), 'utf8'));

const org = { id: 'org_1', slug: 'acme' };
const period = { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' };
const controls: ControlInfo[] = [
  {
    id: 'PAD-GATE-01',
    title: 'Default-deny tool permissions',
    description: 'Calls need a grant.',
    criteria: ['CC6.1', 'CC6.3'],
  },
  { id: 'PAD-KEY-01', title: 'Key rotation', description: 'Model keys are rotated.', criteria: ['CC6.1'] },
];
const records: EvidenceRecord[] = [
  {
    id: 'evd_1',
    orgId: org.id,
    controlId: 'PAD-GATE-01',
    kind: 'tool_calls.by_outcome',
    data: { value: { denied: 3, success: 10 } },
    figure: { name: 'tool calls by outcome', where: { prefix: 'tool.call.' }, by: 'outcome' },
    collectedAt: '2026-11-30T00:00:00.000Z',
    period,
    hash: 'ab'.repeat(32),
    log: { treeSize: 20, checkpoint: 'x', range: [0, 20] },
  },
  {
    id: 'evd_2',
    orgId: org.id,
    controlId: 'PAD-KEY-01',
    kind: 'secrets.inventory',
    data: [{ name: 'openai', ageDays: 120 }],
    collectedAt: '2026-11-30T00:00:00.000Z',
    period,
    hash: 'cd'.repeat(32),
    log: null,
  },
];
const results: ControlResult[] = [
  {
    controlId: 'PAD-GATE-01',
    status: 'pass',
    reason: 'no call ran without a grant',
    evaluatedAt: '2026-11-30T01:00:00.000Z',
    evidence: ['evd_1'],
  },
  {
    controlId: 'PAD-KEY-01',
    status: 'warning',
    reason: 'no key inventory yet',
    evaluatedAt: '2026-11-02T01:00:00.000Z',
    evidence: [],
  },
  {
    controlId: 'PAD-KEY-01',
    status: 'fail',
    reason: '1 model key not rotated in 90 days',
    evaluatedAt: '2026-11-30T01:00:00.000Z',
    evidence: ['evd_2'],
  },
];

test("the OSCAL assessment results validate against NIST's assessment-results schema (1.0.6, draft-07)", () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  formats.default(ajv);
  const validate = ajv.compile(json('oscal/oscal_assessment-results_schema.json'));
  const doc = assessmentResults({ org, period, controls, records, results, productVersion: '0.1.0' });
  const ok = validate(doc);
  assert.equal(ok, true, JSON.stringify(validate.errors?.slice(0, 5), null, 2));
  // The schema is not a rubber stamp: a finding with an unknown status state fails it.
  const bad = structuredClone(doc);
  (bad['assessment-results'].results[0]!.findings![0]!.target.status as { state: string }).state = 'passed';
  assert.equal(validate(bad), false);
  // With no controls and no evidence the document is still valid.
  assert.equal(
    validate(
      assessmentResults({ org, period, controls: [], records: [], results: [], productVersion: '0.1.0' }),
    ),
    true,
  );
});

test('the OSCAL results say which findings are satisfied and tie each to the observations it drew on', () => {
  const r = assessmentResults({ org, period, controls, records, results, productVersion: '0.1.0' })[
    'assessment-results'
  ].results[0]!;
  assert.deepEqual(
    r.findings!.map((f) => f.target.status.state),
    ['satisfied', 'not-satisfied', 'not-satisfied'],
  );
  const obs = new Map(r.observations!.map((o) => [o.uuid, o]));
  assert.equal(
    obs.get(r.findings![0]!['related-observations']![0]!['observation-uuid'])?.props[0]?.value,
    'evd_1',
  );
  assert.deepEqual(r['reviewed-controls']['control-selections'][0], {
    'include-controls': [{ 'control-id': 'CC6.1' }, { 'control-id': 'CC6.3' }],
  });
});

/** OCSF definitions: a class's attributes merged down its `extends` chain, and each object's. */
function ocsf() {
  const dict = json('ocsf/dictionary.json').attributes as Record<
    string,
    { type: string; is_array?: boolean; enum?: Record<string, unknown> }
  >;
  const merge = (files: string[]) => {
    const out: Record<string, { requirement?: string; enum?: Record<string, unknown> }> = {};
    for (const f of files) Object.assign(out, json(`ocsf/${f}`).attributes);
    return out;
  };
  return {
    dict,
    event: merge([
      'events_base_event.json',
      'events_findings_finding.json',
      'events_findings_compliance_finding.json',
    ]),
    objects: {
      metadata: merge(['objects_metadata.json']),
      product: merge(['objects_product.json']),
      finding_info: merge(['objects_finding_info.json']),
      compliance: merge(['objects_compliance.json']),
    } as Record<string, Record<string, { requirement?: string; enum?: Record<string, unknown> }>>,
    classUid: json('ocsf/events_findings_compliance_finding.json').uid as number,
    categoryUid: json('ocsf/events_findings_finding.json').category,
  };
}

/** Every problem of `value` against the attributes `defs`: missing required ones, wrong types, values outside an enum. */
function problems(
  value: Record<string, unknown>,
  defs: ReturnType<typeof ocsf>['event'],
  o: ReturnType<typeof ocsf>,
  where: string,
): string[] {
  const out: string[] = [];
  for (const [name, def] of Object.entries(defs)) {
    if (def.requirement === 'required' && value[name] === undefined) out.push(`${where}.${name} is required`);
  }
  for (const [name, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const d = o.dict[name];
    if (!d) {
      out.push(`${where}.${name} is not an OCSF attribute`);
      continue;
    }
    if (!(name in defs) && name !== 'unmapped')
      out.push(`${where}.${name} is not an attribute of this class or object`);
    const values = d.is_array ? (Array.isArray(v) ? v : [Symbol('not an array')]) : [v];
    for (const x of values) {
      const t = d.type;
      const ok =
        t === 'integer_t' || t === 'timestamp_t' || t === 'long_t'
          ? Number.isInteger(x)
          : t === 'string_t' || t.endsWith('_t')
            ? typeof x === 'string'
            : typeof x === 'object' && x !== null;
      if (!ok) out.push(`${where}.${name} should be ${d.is_array ? 'an array of ' : ''}${t}`);
      if (t === 'object_t' || !t.endsWith('_t')) {
        const sub = o.objects[t];
        if (sub) out.push(...problems(x as Record<string, unknown>, sub, o, `${where}.${name}`));
      }
    }
    // The dictionary's uid enums are placeholders the schema compiler fills; those are checked by value below.
    const e =
      name.endsWith('class_uid') || name.endsWith('category_uid') || name === 'type_uid'
        ? undefined
        : (defs[name]?.enum ?? d.enum);
    if (e && !(String(v) in e)) out.push(`${where}.${name} = ${String(v)} is not in its enum`);
  }
  return out;
}

test('each control test is an OCSF Compliance Finding (class 2003) with every required attribute, per the OCSF definitions', () => {
  const o = ocsf();
  const findings = controls.flatMap((c) =>
    controlFindings(
      org,
      c,
      results.filter((r) => r.controlId === c.id),
      '0.1.0',
    ),
  );
  assert.equal(findings.length, 3);
  for (const f of findings) {
    assert.deepEqual(problems(f as unknown as Record<string, unknown>, o.event, o, 'finding'), []);
    assert.equal(f.class_uid, 2000 + o.classUid);
    assert.equal(f.category_uid, 2);
    assert.equal(f.type_uid, f.class_uid * 100 + f.activity_id);
    assert.equal(f.metadata.version, OCSF_VERSION);
  }
  assert.deepEqual(
    findings.map((f) => [f.compliance.status_id, f.compliance.status]),
    [
      [1, 'Pass'],
      [2, 'Warning'],
      [3, 'Fail'],
    ],
  );
  // The check bites: a finding without compliance, or with a status outside the enum, fails it.
  const { compliance: _, ...without } = findings[0]!;
  assert.match(problems(without, o.event, o, 'finding').join(), /finding.compliance is required/);
  const odd = structuredClone(findings[0]!);
  odd.compliance.status_id = 7;
  assert.match(
    problems(odd as unknown as Record<string, unknown>, o.event, o, 'finding').join(),
    /status_id = 7 is not in its enum/,
  );
});

test('name-based UUIDs follow RFC 9562 (version 5 test vector) and are the same for the same name', () => {
  assert.equal(
    uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com'),
    '2ed6657d-e927-568b-95e1-2665a8aea6a2',
  );
  assert.equal(
    uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'a'),
    uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'a'),
  );
});
