/**
 * CSV (RFC 4180) for auditors' spreadsheets: every cell quoted, nested values as JSON, and a
 * cell that starts like a formula (= + - @) prefixed with `'` so a spreadsheet shows it as text.
 */

export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return `"${safe.replaceAll('"', '""')}"`;
}

/** A table as CSV text, CRLF line ends (RFC 4180 §2). */
export function toCsv(columns: string[], rows: Array<Record<string, unknown>>): string {
  const lines = [columns.map(csvCell).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvCell(r[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** Rows of plain objects as CSV with the sorted union of their keys as columns; null when they are not rows. */
export function rowsToCsv(data: unknown): string | null {
  if (!Array.isArray(data) || data.length === 0) return null;
  if (!data.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r))) return null;
  const columns = [...new Set(data.flatMap((r) => Object.keys(r as object)))].sort();
  return toCsv(columns, data as Array<Record<string, unknown>>);
}
