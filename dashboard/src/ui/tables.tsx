/** Tables: the frame of a list, and the row under a row that holds its open form. */
import type { ReactNode } from 'react';

/** A table with plain column headers and, when `actions` is set, an unlabelled actions column. */
export function DataTable({
  headers,
  actions,
  className,
  label,
  children,
}: {
  headers: string[];
  actions?: boolean;
  className?: string;
  /** Accessible name of the table. */
  label?: string;
  children: ReactNode;
}) {
  return (
    <div className="table-wrap">
      <table className={className} aria-label={label}>
        <thead>
          <tr>
            {headers.map((h) => (
              <th scope="col" key={h}>
                {h}
              </th>
            ))}
            {actions ? (
              <th scope="col" className="col-actions">
                <span className="sr-only">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** The full-width row under a table row that holds the row's open form or panel. */
export function FormRow({ colSpan, children }: { colSpan: number; children: ReactNode }) {
  return (
    <tr className="row-form">
      <td colSpan={colSpan}>{children}</td>
    </tr>
  );
}
