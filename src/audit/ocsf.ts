/**
 * OCSF 1.1 mapping of audit events: API Activity (6003) for agent tool and API calls, with the
 * security-control action (allowed/denied); Authentication (3002) for sign-ins; User Access
 * Management (3005) for grants, roles and memberships; Entity Management (3004) for every other
 * configuration change.
 */
import type { AuditEvent } from './query.ts';

const PRODUCT = { name: 'Paddock', vendor_name: 'Paddock' };

function activityOf(action: string): { id: number; name: string } {
  const last = action.split('.').at(-1)!;
  if (['created', 'added', 'invited'].includes(last)) return { id: 1, name: 'Create' };
  if (['read', 'listed'].includes(last)) return { id: 2, name: 'Read' };
  if (['updated', 'renamed', 'changed', 'rotated'].includes(last)) return { id: 3, name: 'Update' };
  if (['deleted', 'removed', 'revoked'].includes(last)) return { id: 4, name: 'Delete' };
  return { id: 99, name: 'Other' };
}

function classOf(action: string): number {
  if (/^(tool|resource|prompt|api|model)\./.test(action)) return 6003;
  if (action.startsWith('person.signed_') || action.startsWith('person.sign_in')) return 3002;
  if (
    action.startsWith('grant.') ||
    action === 'person.role.changed' ||
    action === 'person.added' ||
    action === 'person.removed'
  ) {
    return 3005;
  }
  return 3004;
}

export function toOcsf(e: AuditEvent, org: string): Record<string, unknown> {
  const classUid = classOf(e.action);
  const base = {
    time: Date.parse(e.time),
    severity_id: e.outcome === 'success' ? 1 : 3,
    status_id: e.outcome === 'success' ? 1 : 2,
    status: e.outcome === 'success' ? 'Success' : 'Failure',
    message: e.action,
    actor: { user: { uid: e.actor.id, type: e.actor.type } },
    metadata: {
      version: '1.1.0',
      product: PRODUCT,
      uid: e.id,
      log_name: `paddock/audit/${org}`,
      sequence: e.index,
      correlation_uid: e.requestId ?? undefined,
    },
    unmapped: {
      paddock: {
        action: e.action,
        target: e.target,
        details: e.details,
        run: e.runId,
        leaf_hash: e.leafHash,
        erased: e.erased,
      },
    },
  };
  let activity = activityOf(e.action);
  let extra: Record<string, unknown> = {};
  if (classUid === 3002) {
    activity = e.action.endsWith('signed_out') ? { id: 2, name: 'Logoff' } : { id: 1, name: 'Logon' };
    extra = {
      user: { uid: e.target?.id ?? e.actor.id },
      auth_protocol: String(e.details?.method ?? 'unknown'),
    };
  } else if (classUid === 3005) {
    const revoke = /(revoked|removed)$/.test(e.action);
    activity = revoke ? { id: 2, name: 'Revoke Privileges' } : { id: 1, name: 'Assign Privileges' };
    extra = { user: { uid: e.target?.id }, privileges: [e.action] };
  } else if (classUid === 3004) {
    extra = { entity: { uid: e.target?.id, type: e.target?.type, name: e.target?.type } };
  } else {
    // Security Control profile: 1 allowed, 2 denied.
    extra = {
      api: { operation: e.action, request: { uid: e.requestId ?? undefined } },
      action_id: e.outcome === 'denied' ? 2 : 1,
      action: e.outcome === 'denied' ? 'Denied' : 'Allowed',
    };
  }
  const category = classUid === 6003 ? 6 : 3;
  return {
    class_uid: classUid,
    category_uid: category,
    activity_id: activity.id,
    activity_name: activity.name,
    type_uid: classUid * 100 + activity.id,
    ...base,
    ...extra,
  };
}
