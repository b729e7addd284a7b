import { Link } from '../router.tsx';
import { AuthShell } from '../ui/index.ts';

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
