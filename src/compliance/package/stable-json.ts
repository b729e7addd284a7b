/**
 * JSON files of the package as an auditor reads them: keys in RFC 8785 order (so the same data
 * always gives the same bytes), indented, one trailing newline.
 */
import canonicalize from 'canonicalize';

export function stableJson(value: unknown): string {
  return `${JSON.stringify(JSON.parse(canonicalize(value) ?? 'null'), null, 2)}\n`;
}
