/** The frame of the signed-out pages: a centred card under the product name. */
import type { ReactNode } from 'react';

export function AuthShell({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="auth">
      <div className="auth-brand">
        <span className="logo" aria-hidden="true">
          P
        </span>
        <span>Paddock</span>
      </div>
      <main className="auth-card">
        <h1>{title}</h1>
        {children}
      </main>
    </div>
  );
}
