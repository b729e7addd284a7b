/**
 * What an org's pages share with the frame that shows them: the sections there are and the props
 * each page is given. Layout imports the pages and the pages import this, never Layout.
 */
import type { OrgWithRole, Session } from './api/index.ts';

/** The sections of an org, in the sidebar's order: `/orgs/{slug}/{section}`. */
export const SECTIONS = [
  'overview',
  'agents',
  'runs',
  'connections',
  'approvals',
  'people',
  'teams',
  'tokens',
  'secrets',
  'cell',
  'sso',
  'slack',
  'audit',
  'compliance',
] as const;

export type OrgSection = (typeof SECTIONS)[number];

export interface PageProps {
  org: OrgWithRole;
  me: NonNullable<Session['person']>;
  refreshOrgs: () => Promise<void>;
  /** The item a section shows on its own page (`/orgs/{slug}/agents/{id}`), else null. */
  detail: string | null;
  /** A view of that item (`/orgs/{slug}/agents/{id}/chat`: `chat`), else null. */
  view: string | null;
  /** The page address's query (`?conversation=…`). */
  query: URLSearchParams;
}
