/** Picks the page for the current path. */
import { Layout } from './Layout.tsx';
import { type OrgSection, SECTIONS } from './page.ts';
import { HomePage } from './pages/Home.tsx';
import { InvitePage } from './pages/Invite.tsx';
import { NotFoundPage } from './pages/NotFound.tsx';
import { SetupPage } from './pages/Setup.tsx';
import { SignInPage } from './pages/SignIn.tsx';
import { SigninLinkPage } from './pages/SigninLink.tsx';
import { useLocation } from './router.tsx';

/** Agents and runs have a page per item (`/orgs/{slug}/runs/{id}`); an agent has its chat too. */
function pageExists(section: OrgSection, detail: string | null, view: string | null): boolean {
  if (detail === null) return true;
  if (section === 'runs') return view === null;
  return section === 'agents' && (view === null || view === 'chat');
}

export function App() {
  const { pathname, search } = useLocation();
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  if (path === '/') return <HomePage />;
  if (path === '/setup') return <SetupPage />;
  if (path === '/signin') return <SignInPage search={search} />;
  if (path === '/signin/link') return <SigninLinkPage />;
  if (path === '/invite') return <InvitePage />;
  const m = /^\/orgs\/([^/]+)(?:\/([a-z]+)(?:\/([^/]+)(?:\/([a-z]+))?)?)?$/.exec(path);
  if (m) {
    const section = (m[2] ?? 'overview') as OrgSection;
    const detail = m[3] === undefined ? null : decodeURIComponent(m[3]);
    const view = m[4] ?? null;
    if (SECTIONS.includes(section) && pageExists(section, detail, view))
      return (
        <Layout
          slug={decodeURIComponent(m[1]!)}
          section={section}
          detail={detail}
          view={view}
          query={new URLSearchParams(search)}
        />
      );
  }
  return <NotFoundPage />;
}
