/** Who is making a request, as the services see it. */
import { userInfo } from 'node:os';
import type { Actor } from '../audit/index.ts';
import type { Role } from '../store/index.ts';
import type { OrgScope } from './scope.ts';

export interface Caller {
  requestId: string;
  /** The audit actor: the person, or the service token when no person stands behind it. */
  actor: Actor;
  /** The person behind the call, if any. */
  userId: string | null;
  /** The API token used, if any. */
  tokenId: string | null;
}

export interface Org {
  id: string;
  slug: string;
  name: string;
  settings: OrgSettings;
  createdAt: string;
  /** When the org-wide kill switch was thrown (null while agents may run). */
  agentsStoppedAt: string | null;
}

export interface OrgSettings {
  /** How long a dashboard session lasts, in hours. */
  sessionHours: number;
  /** Longest lifetime of a new API token, in days; null allows tokens that never expire. */
  maxTokenDays: number | null;
  /** Audit payloads expire after this many days (their hashes stay); null keeps them. */
  auditRetentionDays: number | null;
  /** Run records are deleted this many days after they ended (with the flags on them); null keeps them. */
  runRetentionDays: number | null;
  /** Conversations untouched this many days are deleted, with their runs; null keeps them. */
  conversationRetentionDays: number | null;
  /** Agents' memory entries unchanged this many days are deleted, pinned ones too; null keeps them. */
  memoryRetentionDays: number | null;
  /** Where committed audit entries are streamed as JSON lines; null for none. */
  siemWebhookUrl: string | null;
  /** Vault secret whose value is sent as the SIEM webhook's `Authorization` header; null for none. */
  siemWebhookSecret: string | null;
  /** The only host:port pairs the org's cell may reach (through its egress proxy). */
  egressAllowlist: Array<{ host: string; port: number; allowPrivate?: boolean }>;
  /** A high-risk call needs an approver other than the person who asked for it. */
  approvalsNeedTwoPeople: boolean;
  /** How long an approval request (and the approval) stays usable, in minutes. */
  approvalMinutes: number;
  /** How long a call that needs approval waits for a person before answering `approval_required`. */
  approvalWaitSeconds: number;
  /** How the text of agent runs' messages and outputs is recorded in the audit trail. */
  runTextRecording: 'full' | 'redacted' | 'digest';
  /** A run ends after this many model steps, or this many seconds. */
  runMaxSteps: number;
  runMaxSeconds: number;
  /** Model keys older than this (since created or last rotated) fail the key-rotation control. */
  keyRotationDays: number;
}

export const DEFAULT_ORG_SETTINGS: OrgSettings = {
  sessionHours: 12,
  maxTokenDays: 365,
  auditRetentionDays: null,
  runRetentionDays: null,
  conversationRetentionDays: null,
  memoryRetentionDays: null,
  siemWebhookUrl: null,
  siemWebhookSecret: null,
  egressAllowlist: [],
  approvalsNeedTwoPeople: false,
  approvalMinutes: 60,
  approvalWaitSeconds: 30,
  runTextRecording: 'full',
  runMaxSteps: 12,
  runMaxSeconds: 300,
  keyRotationDays: 90,
};

/** A caller inside one organization, with the role they hold there. */
export interface OrgContext extends Caller {
  org: Org;
  role: Role;
  scope: OrgScope;
}

/** The operating system's name for the account running this (a shell without USER set, a service). */
function accountName(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
}

/** The operator at the command line (offline CLI commands). */
export function operatorCaller(): Caller {
  const user = process.env.SUDO_USER ?? process.env.USER ?? accountName() ?? 'unknown';
  return {
    requestId: newRequestId(),
    actor: { type: 'system', id: `cli:${user}` },
    userId: null,
    tokenId: null,
  };
}

export function newRequestId(): string {
  return `req_${crypto.randomUUID()}`;
}
