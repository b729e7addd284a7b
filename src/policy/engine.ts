/**
 * The policy decision: Cedar, default deny, an explicit deny beats any allow. For speed, a
 * decision evaluates only the policies that can apply to that agent and tool (its grants on the
 * tool or its connection, and its denies), preparsed once per (agent, tool, policy version). The
 * same for a prompt, and for a resource: its grants whose URI covers it, preparsed once per set
 * of such grants (not per URI: the URIs an agent reads are without end).
 */
import { createHash } from 'node:crypto';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { BadRequestError } from '../errors/index.ts';
import {
  type Action,
  type ArgType,
  cedarSchema,
  compileGrant,
  coversUri,
  decimalText,
  type Grant,
  type GrantKind,
  SERVER_ASKS,
  toolUid,
} from './grants.ts';

export interface Request {
  agentId: string;
  connectionId: string;
  /** A tool call when absent. */
  action?: Action | undefined;
  /** The tool, the prompt, or the resource's URI (a completion: the prompt's, or the template's). */
  tool: string;
  /** What a completion is of: a prompt's argument or a resource template's. */
  completing?: 'prompt' | 'resource' | undefined;
  args: Record<string, unknown>;
  /** Unix seconds. */
  now: number;
  approved: boolean;
}

export interface Decision {
  allowed: boolean;
  /** Grant ids that decided (the allowing grants, or the denying ones). */
  grants: string[];
  /** The agent's policy version the decision was made under (approvals bind to it). */
  policyVersion: string;
  errors: string[];
}

/**
 * An agent's policy version: a digest of its active grant ids. Any grant or revoke changes it,
 * and it is the same in every process and after a restart (approvals bind to it).
 */
export function policyVersion(grants: Array<Pick<Grant, 'id'>>): string {
  const ids = grants.map((g) => g.id).sort();
  return createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 16);
}

/** Policies keyed by grant id, so Cedar's decisions name the grants that made them. */
function policyMap(grants: Grant[]): Record<string, string> {
  return Object.fromEntries(grants.map((g) => [g.id, compileGrant(g)]));
}

/** Checks grants compile and type-check against the schema; throws a clear 400 if not. */
export function validateGrants(grants: Grant[], args: Record<string, ArgType>): void {
  // A prompt's constraints sit beside "or completing" (grants.ts), and `absent` or `notContains`
  // read the set of names given: Cedar cannot call a constraint on a missing argument impossible.
  for (const g of grants) {
    const kind = g.kind ?? 'tool';
    const unknown = g.constraints
      .filter((c) => !Object.hasOwn(args, c.arg) && (kind !== 'tool' || 'absent' in c || 'notContains' in c))
      .map((c) => c.arg);
    if (unknown.length > 0)
      throw new BadRequestError(
        'invalid_grant',
        `The grant does not fit the ${kind}: it has no argument ${unknown.join(', ')}.`,
      );
    for (const c of g.constraints) {
      const bound = 'max' in c ? c.max : 'min' in c ? c.min : undefined;
      if (bound !== undefined && decimalText(bound) === null)
        throw new BadRequestError(
          'invalid_grant',
          `The bound on ${c.arg} must be a number with at most 4 decimals, below 900,000,000,000,000 in size.`,
        );
    }
  }
  const text = grants.map(compileGrant).join('\n');
  const r = cedar.validate({
    schema: cedarSchema(args),
    policies: { staticPolicies: text },
    validationSettings: { mode: 'strict' },
  });
  if (r.type !== 'success') {
    throw new BadRequestError(
      'invalid_grant',
      `The grant does not compile: ${r.errors.map((e) => e.message).join('; ')}`,
    );
  }
  // A grant that can never apply (e.g. it constrains an argument the tool does not have) is a mistake too.
  const problems = [
    ...r.validationErrors,
    ...r.validationWarnings.filter((w) => /impossible/.test(w.error.message)),
  ];
  if (problems.length) {
    throw new BadRequestError(
      'invalid_grant',
      `The grant does not fit the tool: ${problems.map((e) => e.error.message).join('; ')}`,
      problems.map((e) => ({ grant: e.policyId, message: e.error.message })),
    );
  }
}

type Decimal = { __extn: { fn: 'decimal'; arg: string } };

/** Which of the context's richer views of the arguments some grant reads (the rest stay empty). */
interface Views {
  numbers: boolean;
  lists: boolean;
  given: boolean;
}

/** The views these grants' constraints read: a decision builds only those (each costs Cedar time). */
function viewsOf(grants: Grant[]): Views {
  const v: Views = { numbers: false, lists: false, given: false };
  for (const g of grants)
    for (const c of g.constraints) {
      if ('max' in c || 'min' in c) v.numbers = true;
      else if ('eachOneOf' in c) v.lists = true;
      else if ('notContains' in c || 'absent' in c) v.given = true;
    }
  return v;
}

/**
 * The arguments as Cedar compares them: text, whole numbers and booleans in `args`; any other
 * number with an exact decimal form in `numbers`; lists of text in `lists`; every name given (not null)
 * in `given`. Anything else is only named in `given`. Views no grant of the set reads are left out.
 */
function cedarArgs(args: Record<string, unknown>, views: Views) {
  const plain: Record<string, string | number | boolean> = {};
  const numbers: Record<string, Decimal> = {};
  const lists: Record<string, string[]> = {};
  const given: string[] = [];
  for (const [k, v] of Object.entries(args)) {
    if (v === null || v === undefined) continue;
    if (views.given) given.push(k);
    if (typeof v === 'string' || typeof v === 'boolean') plain[k] = v;
    else if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) {
        plain[k] = v;
        continue;
      }
      const text = views.numbers ? decimalText(v) : null;
      if (text !== null) numbers[k] = { __extn: { fn: 'decimal', arg: text } };
    } else if (views.lists && Array.isArray(v) && v.every((x) => typeof x === 'string')) lists[k] = v;
  }
  // A view no policy of the set reads is left out of the request altogether (less to hand Cedar).
  return {
    args: plain,
    ...(views.numbers ? { numbers } : {}),
    ...(views.lists ? { lists } : {}),
    ...(views.given ? { given } : {}),
  };
}

/** The kind of grant that bears on a request. */
export function kindAsked(req: Pick<Request, 'action' | 'completing'>): GrantKind {
  switch (req.action ?? 'call') {
    case 'call':
      return 'tool';
    case 'get':
      return 'prompt';
    case 'read':
    case 'subscribe':
      return 'resource';
    case 'complete':
      return req.completing ?? 'prompt';
    case 'sample':
      return 'sampling';
    case 'elicit':
      return 'elicitation';
  }
}

/** What a decision is asked about: the kind, the connection, the tool, prompt or URI. */
export type Subject = Pick<Request, 'connectionId' | 'tool' | 'action' | 'completing'>;

/** Whether a grant can bear on this request: the only ones a decision needs to evaluate. */
export function applies(g: Grant, s: Subject): boolean {
  const kind = kindAsked(s);
  if ((g.kind ?? 'tool') !== kind || g.connectionId !== s.connectionId) return false;
  if (SERVER_ASKS.has(kind)) return true;
  return kind === 'resource' ? coversUri(g, s.tool) : g.tool === s.tool || g.tool === '*';
}

const ENTITY: Record<GrantKind, string> = {
  tool: 'Paddock::Tool',
  prompt: 'Paddock::Prompt',
  resource: 'Paddock::Resource',
  sampling: 'Paddock::Connection',
  elicitation: 'Paddock::Connection',
};

/**
 * The Cedar request: agent, action, the tool, prompt or resource (a child of its connection), or
 * the connection itself for what its server asks; context.
 */
function request(req: Request, views: Views) {
  const kind = kindAsked(req);
  if (SERVER_ASKS.has(kind)) {
    const conn = { type: 'Paddock::Connection', id: req.connectionId };
    return {
      principal: { type: 'Paddock::Agent', id: req.agentId },
      action: { type: 'Paddock::Action', id: req.action ?? 'call' },
      resource: conn,
      context: { args: {}, uri: '', now: req.now, approved: req.approved },
      entities: [{ uid: conn, attrs: {}, parents: [] }],
    };
  }
  const entity = { type: ENTITY[kind], id: toolUid(req.connectionId, req.tool) };
  return {
    principal: { type: 'Paddock::Agent', id: req.agentId },
    action: { type: 'Paddock::Action', id: req.action ?? 'call' },
    resource: entity,
    context: {
      ...cedarArgs(req.args, views),
      uri: kind === 'resource' ? req.tool : '',
      now: req.now,
      approved: req.approved,
    },
    entities: [{ uid: entity, attrs: {}, parents: [{ type: 'Paddock::Connection', id: req.connectionId }] }],
  };
}

function toDecision(answer: cedar.AuthorizationAnswer, policyVersion: string): Decision {
  if (answer.type !== 'success') {
    return { allowed: false, grants: [], policyVersion, errors: answer.errors.map((e) => e.message) };
  }
  const { decision, diagnostics } = answer.response;
  return {
    allowed: decision === 'allow',
    grants: diagnostics.reason,
    policyVersion,
    errors: diagnostics.errors.map((e) => e.error.message),
  };
}

/**
 * One decision with no state kept (a dry-run check): nothing is preparsed, so nothing
 * accumulates inside Cedar's memory across calls.
 */
export function decideOnce(grants: Grant[], req: Request): Decision {
  const own = grants.filter((g) => g.agentId === req.agentId);
  const version = policyVersion(own);
  const relevant = own.filter((g) => applies(g, req));
  if (relevant.length === 0) return { allowed: false, grants: [], policyVersion: version, errors: [] };
  return toDecision(
    cedar.isAuthorized({
      ...request(req, viewsOf(relevant)),
      policies: { staticPolicies: policyMap(relevant) },
    }),
    version,
  );
}

/**
 * A grant whose policy has no `when` (no argument constraint, time window, approval or URI
 * condition): its effect depends on the principal, action and resource alone.
 */
const readsNoContext = (g: Grant): boolean => !compileGrant(g).includes(' when {');

/** A decision its receiver may keep or change without touching the kept one. */
const copy = (d: Decision): Decision => ({ ...d, grants: [...d.grants], errors: [...d.errors] });

let engines = 0;
const EMPTY_VERSION = policyVersion([]);

export class PolicyEngine {
  readonly #id = ++engines;
  #grants = new Map<string, { grants: Grant[]; version: string }>(); // by agent
  // Preparsed set ids, the policy version each was parsed at (re-parsing an id replaces it), the
  // argument views its grants read, and — for a set whose policies read no context (no
  // constraint, window, approval or URI) — Cedar's answer per action, which then cannot change.
  readonly #parsed = new Map<
    string,
    { version: string; views: Views; fixed: boolean; answers: Map<string, Decision> }
  >();

  /** The agent's policy version as the engine holds it ('' when it holds none). */
  versionOf(agentId: string): string {
    return this.#grants.get(agentId)?.version ?? '';
  }

  /** Replaces one agent's grants (its policy version follows them, so approvals re-bind). */
  setGrants(agentId: string, grants: Grant[]): void {
    this.#grants.set(agentId, { grants, version: policyVersion(grants) });
  }

  /** The grants that can apply to this agent asking this (as loaded). */
  relevant(agentId: string, subject: Subject): Grant[] {
    return (this.#grants.get(agentId)?.grants ?? []).filter((g) => applies(g, subject));
  }

  decide(req: Request): Decision {
    const grants = this.relevant(req.agentId, req);
    const policyVersion = this.versionOf(req.agentId) || EMPTY_VERSION;
    if (grants.length === 0) return { allowed: false, grants: [], policyVersion, errors: [] };
    const kind = kindAsked(req);
    // A resource's set is named by the grants covering it: one per set of grants, not per URI.
    const subject =
      kind === 'resource'
        ? `resource:${req.connectionId}:${grants
            .map((g) => g.id)
            .sort()
            .join(',')}`
        : `${kind}:${toolUid(req.connectionId, req.tool)}`;
    const setId = `e${this.#id}/${req.agentId}/${subject}`;
    let parsed = this.#parsed.get(setId);
    if (parsed?.version !== policyVersion) {
      const r = cedar.preparsePolicySet(setId, { staticPolicies: policyMap(grants) });
      if (r.type !== 'success')
        throw new Error(`policy set did not parse: ${r.errors.map((e) => e.message).join('; ')}`);
      parsed = {
        version: policyVersion,
        views: viewsOf(grants),
        fixed: grants.every(readsNoContext),
        answers: new Map(),
      };
      this.#parsed.set(setId, parsed);
    }
    const action = req.action ?? 'call';
    const known = parsed.answers.get(action);
    if (known) return copy(known);
    const decision = toDecision(
      cedar.statefulIsAuthorized({ ...request(req, parsed.views), preparsedPolicySetId: setId }),
      policyVersion,
    );
    // Same agent, action, tool and policies, and nothing else read: Cedar would answer the same.
    if (parsed.fixed) parsed.answers.set(action, copy(decision));
    return decision;
  }
}
