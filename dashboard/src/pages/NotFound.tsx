import { AuthShell } from '../AuthShell.tsx';
import { Link } from '../router.tsx';

export function NotFoundPage() {
  return (
    <AuthShell title="Page not found">
      <p>There is no dashboard page at this address.</p>
      <Link to="/" className="btn btn-primary">
        Go to the dashboard
      </Link>
    </AuthShell>
  );
}
