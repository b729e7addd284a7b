/** The signed-in frame: header with the org switcher and account, a sidebar, and the page. */
import { type ComponentType, useCallback, useEffect, useState } from 'react';
import { api, errorMessage, type OrgWithRole, type Role, type Session } from './api/index.ts';
import { LiveProvider, useApprovalAlerts } from './data/index.ts';
import { FrameTools, setOverlay } from './frame/index.ts';
import type { OrgSection, PageProps } from './page.ts';
import { AgentsPage } from './pages/Agents.tsx';
import { ApprovalsPage } from './pages/Approvals.tsx';
import { AuditPage } from './pages/Audit.tsx';
import { CellPage } from './pages/Cell.tsx';
import { CompliancePage } from './pages/Compliance.tsx';
import { ConnectionsPage } from './pages/Connections.tsx';
import { OverviewPage } from './pages/Overview.tsx';
import { PeoplePage } from './pages/People.tsx';
import { RunsPage } from './pages/Runs.tsx';
import { SecretsPage } from './pages/Secrets.tsx';
import { SlackPage } from './pages/Slack.tsx';
import { SsoPage } from './pages/Sso.tsx';
import { TeamsPage } from './pages/Teams.tsx';
import { TokensPage } from './pages/Tokens.tsx';
import { Link, navigate } from './router.tsx';
import { leaveApp } from './session.ts';
import { Alert, LiveTitle, Loading, PendingCount, RoleBadge } from './ui/index.ts';

interface NavItem {
  section: OrgSection;
  label: string;
  page: ComponentType<PageProps>;
  /** Roles that may open it (the server refuses the others anyway). */
  roles: readonly Role[];
}

const ALL: readonly Role[] = ['owner', 'admin', 'member', 'auditor'];
const OVERSIGHT: readonly Role[] = ['owner', 'admin', 'auditor'];
const NAV: readonly NavItem[] = [
  { section: 'overview', label: 'Overview', page: OverviewPage, roles: ALL },
  { section: 'agents', label: 'Agents', page: AgentsPage, roles: ALL },
  { section: 'runs', label: 'Runs', page: RunsPage, roles: ALL },
  { section: 'connections', label: 'Connections', page: ConnectionsPage, roles: ALL },
  { section: 'approvals', label: 'Approvals', page: ApprovalsPage, roles: OVERSIGHT },
  { section: 'people', label: 'People', page: PeoplePage, roles: ALL },
  { section: 'teams', label: 'Teams', page: TeamsPage, roles: ALL },
  { section: 'tokens', label: 'Tokens', page: TokensPage, roles: ALL },
  { section: 'secrets', label: 'Secrets', page: SecretsPage, roles: OVERSIGHT },
  { section: 'cell', label: 'Cell', page: CellPage, roles: OVERSIGHT },
  { section: 'sso', label: 'Single sign-on', page: SsoPage, roles: OVERSIGHT },
  { section: 'slack', label: 'Slack', page: SlackPage, roles: ALL },
  { section: 'audit', label: 'Audit', page: AuditPage, roles: OVERSIGHT },
  { section: 'compliance', label: 'Compliance', page: CompliancePage, roles: OVERSIGHT },
];

function sectionPath(slug: string, section: OrgSection): string {
  const base = `/orgs/${encodeURIComponent(slug)}`;
  return section === 'overview' ? base : `${base}/${section}`;
}

export function Layout({
  slug,
  section,
  detail = null,
  view = null,
  query = new URLSearchParams(),
}: {
  slug: string;
  section: OrgSection;
  detail?: string | null;
  view?: string | null;
  query?: URLSearchParams;
}) {
  const [me, setMe] = useState<Session['person']>(null);
  const [orgs, setOrgs] = useState<OrgWithRole[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // The sidebar at phone width: folded behind the Menu button, folded again on each new page.
  const [menuOpen, setMenuOpen] = useState(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new page (its address) is the trigger.
  useEffect(() => setMenuOpen(false), [slug, section, detail, view]);

  const refreshOrgs = useCallback(async () => {
    try {
      setOrgs(await api.orgs());
    } catch (err) {
      if (!(await leaveApp(err))) setError(errorMessage(err));
    }
  }, []);

  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const s = await api.session();
        if (!live) return;
        if (!s.person) {
          setError('The dashboard needs a signed-in person, not an API token.');
          return;
        }
        setMe(s.person);
        const list = await api.orgs();
        if (live) setOrgs(list);
      } catch (err) {
        if (live && !(await leaveApp(err))) setError(errorMessage(err));
      }
    })();
    return () => {
      live = false;
    };
  }, []);

  const org = orgs?.find((o) => o.slug === slug);
  const item = NAV.find((n) => n.section === section) ?? NAV[0]!;

  useEffect(() => {
    if (!org) document.title = 'Paddock';
  }, [org]);

  const signOut = async () => {
    try {
      await api.signOut();
    } catch {
      // Already signed out (or the session ended): the sign-in page is still where to go.
    }
    navigate('/signin', { replace: true });
  };

  if (!me || !orgs) {
    return (
      <div className="app-loading">
        {error ? <Alert message={error} /> : <Loading what="your organizations" />}
      </div>
    );
  }

  const Page = item.page;
  const allowed = org ? item.roles.includes(org.role) : false;
  const pages = NAV.filter((n) => !org || n.roles.includes(org.role));

  const frame = (
    <div className="app">
      <header className="topbar">
        <button
          type="button"
          className="btn btn-secondary btn-small menu-button"
          aria-expanded={menuOpen}
          aria-controls="sidebar"
          onClick={() => setMenuOpen((o) => !o)}
        >
          Menu
        </button>
        <Link to="/" className="brand">
          <span className="logo" aria-hidden="true">
            P
          </span>
          <span>Paddock</span>
        </Link>
        <div className="org-switcher">
          <select
            aria-label="Organization"
            value={org ? org.slug : ''}
            onChange={(e) => {
              const next = orgs.find((o) => o.slug === e.target.value);
              if (!next) return;
              const keep = NAV.find((n) => n.section === section);
              navigate(sectionPath(next.slug, keep?.roles.includes(next.role) ? section : 'overview'));
            }}
          >
            {org ? null : <option value="">Choose an organization</option>}
            {orgs.map((o) => (
              <option key={o.id} value={o.slug}>
                {o.name}
              </option>
            ))}
          </select>
          {org ? <RoleBadge role={org.role} /> : null}
        </div>
        <div className="topbar-spacer" />
        {org ? (
          <button
            type="button"
            className="btn btn-secondary btn-small palette-button"
            aria-keyshortcuts="Control+K Meta+K"
            onClick={() => setOverlay('palette')}
          >
            Go to…<kbd>Ctrl K</kbd>
          </button>
        ) : null}
        <span className="who" title={me.name}>
          {me.email}
        </span>
        <button type="button" className="btn btn-ghost btn-small" onClick={signOut}>
          Sign out
        </button>
      </header>
      <div className="app-body">
        <nav id="sidebar" className={menuOpen ? 'sidebar open' : 'sidebar'} aria-label="Sections">
          <ul>
            {pages.map((n) => (
              <li key={n.section}>
                <Link
                  to={sectionPath(slug, n.section)}
                  className={n.section === section ? 'nav-link active' : 'nav-link'}
                  aria-current={n.section === section ? 'page' : undefined}
                >
                  {n.label}
                  {n.section === 'approvals' ? <PendingCount /> : null}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <main className="content" tabIndex={-1}>
          <Alert message={error} />
          {!org ? (
            <Alert message={`No organization "${slug}" that you can see.`} />
          ) : allowed ? (
            <Page
              key={`${org.slug}/${section}/${detail ?? ''}/${view ?? ''}`}
              org={org}
              me={me}
              refreshOrgs={refreshOrgs}
              detail={detail}
              view={view}
              query={query}
            />
          ) : (
            <Alert message={`The ${org.role} role cannot open ${item.label}.`} />
          )}
        </main>
      </div>
    </div>
  );
  if (!org) return frame;
  return (
    <LiveProvider slug={org.slug}>
      <LiveTitle title={`${item.label} · ${org.name} · Paddock`} />
      <ApprovalAlerts org={org} meId={me.id} />
      {frame}
      <FrameTools
        slug={org.slug}
        pages={pages.map((n) => ({
          section: n.section,
          label: n.label,
          path: sectionPath(org.slug, n.section),
        }))}
      />
    </LiveProvider>
  );
}

/** Browser notifications of calls that newly wait for this person (owners and admins decide). */
function ApprovalAlerts({ org, meId }: { org: OrgWithRole; meId: string }) {
  useApprovalAlerts({
    slug: org.slug,
    meId,
    mayDecide: org.role === 'owner' || org.role === 'admin',
    twoPeople: org.settings.approvalsNeedTwoPeople,
  });
  return null;
}
