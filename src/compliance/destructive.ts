/**
 * Which tools are high-risk: the rule the approvals control holds every granted tool to.
 *
 * 1. When the server's MCP tool annotations reach Paddock (`annotations`), they decide, as the
 *    MCP specification reads them: `readOnlyHint: true` is safe; otherwise the tool is destructive
 *    unless it says `destructiveHint: false` (the specification's default is destructive).
 * 2. Until then (connections keep name, description and input schema only), by words: the tool's
 *    name, split into words (`delete_file`, `deleteFile`, `delete-file`), holds a verb that
 *    destroys, revokes or moves money; or its description starts with one ("Deletes …") or says
 *    it is permanent ("cannot be undone", "permanently", "irreversible", "overwrites").
 *
 * A false positive costs an approval click; a false negative lets an agent destroy something
 * with no person asked, so the list leans wide. It is the rule in docs/compliance.md.
 */

/** Verbs that make a tool high-risk when its name holds them (a word of its own). */
export const DESTRUCTIVE_VERBS = [
  'delete',
  'remove',
  'rm',
  'unlink',
  'rmdir',
  'drop',
  'destroy',
  'purge',
  'erase',
  'wipe',
  'truncate',
  'terminate',
  'kill',
  'shutdown',
  'revoke',
  'reset',
  'overwrite',
  'uninstall',
  'deprovision',
  'disable',
  'cancel',
  'refund',
  'transfer',
  'pay',
  'payout',
  'charge',
  'withdraw',
  'force',
] as const;

const VERBS = new Set<string>(DESTRUCTIVE_VERBS);
const PERMANENT = /\b(cannot be undone|can't be undone|permanently|irreversibl[a-z]*|overwrit(e|es|ing))\b/i;

export interface ToolFacts {
  name: string;
  description: string;
  annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean } | undefined;
}

/** The words of a tool name: snake, kebab, dotted and camel case alike. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** A verb as a description starts with it: "Deletes", "delete", "Removes". */
function verbOf(word: string): string | undefined {
  const w = word.toLowerCase();
  if (VERBS.has(w)) return w;
  if (w.endsWith('es') && VERBS.has(w.slice(0, -2))) return w.slice(0, -2);
  if (w.endsWith('s') && VERBS.has(w.slice(0, -1))) return w.slice(0, -1);
  return undefined;
}

/**
 * Why the tool is high-risk, in words, or null when it is not.
 *
 * @example
 *   destructiveReason({ name: 'refund', description: 'Refund an order' }); // 'its name says "refund"'
 *   destructiveReason({ name: 'lookup_order', description: 'Look an order up' }); // null
 */
export function destructiveReason(tool: ToolFacts): string | null {
  const a = tool.annotations;
  if (a) {
    if (a.readOnlyHint === true) return null;
    return a.destructiveHint === false ? null : 'the server annotates it destructive';
  }
  const inName = nameWords(tool.name).find((w) => VERBS.has(w));
  if (inName) return `its name says "${inName}"`;
  const first = /^\s*([A-Za-z]+)/.exec(tool.description)?.[1];
  const verb = first ? verbOf(first) : undefined;
  if (verb) return `its description starts with "${first}"`;
  const permanent = PERMANENT.exec(tool.description)?.[0];
  if (permanent) return `its description says "${permanent}"`;
  return null;
}
