/**
 * Where toasts show (bottom corner): polite ones read out when the reader is free, errors at
 * once. Both live regions are in the page from the start, so what is added to them is announced.
 */
import { dismissToast, type Toast, useToasts } from '../data/index.ts';

function ToastItem({ t }: { t: Toast }) {
  return (
    <div className={`toast toast-${t.kind}`} data-testid="toast">
      <span>{t.message}</span>
      <button type="button" className="btn btn-ghost btn-small" onClick={() => dismissToast(t.id)}>
        Dismiss<span className="sr-only"> notice</span>
      </button>
    </div>
  );
}

export function Toaster() {
  const toasts = useToasts();
  return (
    <section className="toasts" aria-label="Notices">
      <div role="status" aria-live="polite">
        {toasts
          .filter((t) => t.kind !== 'error')
          .map((t) => (
            <ToastItem key={t.id} t={t} />
          ))}
      </div>
      <div role="alert" aria-live="assertive">
        {toasts
          .filter((t) => t.kind === 'error')
          .map((t) => (
            <ToastItem key={t.id} t={t} />
          ))}
      </div>
    </section>
  );
}
