/**
 * Whether this browser has opened an entry of the org's audit trail: the getting-started
 * checklist's "see it in the trail" (opening an entry leaves nothing on the server to read).
 */
const key = (slug: string) => `paddock:trail-seen:${slug}`;

export function markTrailSeen(slug: string): void {
  try {
    localStorage.setItem(key(slug), '1');
  } catch {
    // Storage refused (a private window): the step just stays unticked.
  }
}

export function trailSeen(slug: string): boolean {
  try {
    return localStorage.getItem(key(slug)) === '1';
  } catch {
    return false;
  }
}
