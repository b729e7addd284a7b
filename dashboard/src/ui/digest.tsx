/** Digests (a tool definition's, a grant's pin) shown short, whole on hover. */

/** A hex digest cut to its first 12 characters (the whole one in a tooltip). */
export function Digest({ value }: { value: string | null | undefined }) {
  if (!value) return <span className="muted">—</span>;
  return (
    <code className="digest" title={value}>
      {value.length > 12 ? `${value.slice(0, 12)}…` : value}
    </code>
  );
}
