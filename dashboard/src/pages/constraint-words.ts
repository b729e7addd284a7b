/** A grant's argument constraint in words (the grants list and the suggested grants show it). */

/** A constraint in words, as the server words it in effective permissions. */
export function describe(c: Record<string, unknown>): string {
  const arg = String(c.arg);
  if (Array.isArray(c.oneOf)) return `${arg} is one of ${c.oneOf.map((v) => `"${v}"`).join(', ')}`;
  if ('prefix' in c) return `${arg} starts with "${c.prefix}" (no "..")`;
  if (Array.isArray(c.eachOneOf))
    return `each of ${arg} is one of ${c.eachOneOf.map((v) => `"${v}"`).join(', ')}`;
  if (Array.isArray(c.notContains))
    return `${arg} contains none of ${c.notContains.map((v) => `"${v}"`).join(', ')}`;
  if (c.absent === true) return `${arg} is not given`;
  if ('max' in c) return `${arg} ≤ ${c.max}`;
  if ('min' in c) return `${arg} ≥ ${c.min}`;
  return JSON.stringify(c);
}
