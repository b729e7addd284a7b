/**
 * Paddock's controls, in the order the compliance page shows them. Each maps to the criteria it
 * supports; criteria none of them covers are the customer's to evidence (see `grid.ts`).
 */

import { access } from './access.ts';
import { accessReviews } from './access-reviews.ts';
import { activity } from './activity.ts';
import { approvalsControl } from './approvals.ts';
import { auditLog } from './audit-log.ts';
import { availability } from './availability.ts';
import { changes } from './changes.ts';
import type { PaddockControl } from './context.ts';
import { egress } from './egress.ts';
import { gatePermissions } from './gate-permissions.ts';
import { incidents } from './incidents.ts';
import { isolation } from './isolation.ts';
import { killSwitch } from './kill-switch.ts';
import { monitoring } from './monitoring.ts';
import { outputs } from './outputs.ts';
import { retention } from './retention.ts';
import { secretsControl } from './secrets.ts';
import { sso } from './sso.ts';
import { vendors } from './vendors.ts';

export type { CollectorContext, Draft, PaddockControl, Platform } from './context.ts';

export const CONTROLS: PaddockControl[] = [
  gatePermissions,
  approvalsControl,
  killSwitch,
  isolation,
  egress,
  secretsControl,
  auditLog,
  changes,
  access,
  accessReviews,
  sso,
  availability,
  activity,
  outputs,
  retention,
  vendors,
  incidents,
  monitoring,
];

export const CONTROL_IDS = CONTROLS.map((c) => c.id) as [string, ...string[]];

export function controlById(id: string): PaddockControl | undefined {
  return CONTROLS.find((c) => c.id === id);
}
