/**
 * Text placed in HTML or SVG markup, escaped one way everywhere: the evidence package's report
 * and data-flow diagram, and the pages an MCP client's sign-in shows.
 */
const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** `s` safe as element text and as a quoted attribute value. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}

/**
 * Characters that hide or disguise text people read (a name in a list, the audit trail, a
 * terminal): controls (C0, DEL, C1), bidirectional overrides and isolates, invisible spaces and
 * joiners that are never needed (not ZWJ/ZWNJ, which scripts and emoji use), and unpaired
 * surrogates (which are not text at all).
 */
const MISLEADING =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
  /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff]/;

export function hasMisleadingCharacters(s: string): boolean {
  return MISLEADING.test(s) || !s.isWellFormed();
}

/** The text with each such character written as `\\uXXXX` (a lone surrogate as U+FFFD), to show it safely. */
export function escapeMisleading(s: string): string {
  return s
    .toWellFormed()
    .replace(
      new RegExp(MISLEADING.source, 'g'),
      (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
}
